-- A council's spend file runs to hundreds of thousands of lines. Checking each line's link to its
-- import row by row (a foreign key) was a third of an import's database time, and the index on
-- payment date another tenth while no query filters spend by date (every report reads a place's
-- spend whole). The link is now checked once per statement over all the lines it added, and an
-- import that has lines cannot be deleted or renumbered: the same guarantee as the foreign key.

alter table spend_lines drop constraint spend_lines_place_id_import_id_fkey;
drop index spend_lines_paid_on;

create function spend_lines_check_imports() returns trigger
  language plpgsql
  as $$
begin
  if exists (
    select 1 from (select distinct place_id, import_id from changed_lines) l
    where not exists (select 1 from spend_imports i where i.place_id = l.place_id and i.id = l.import_id)
  ) then
    raise foreign_key_violation using message = 'a spend line names an import that does not exist',
      constraint = 'spend_lines_import';
  end if;
  return null;
end
$$;

create trigger spend_lines_import_on_insert after insert on spend_lines
  referencing new table as changed_lines for each statement execute function spend_lines_check_imports();
create trigger spend_lines_import_on_update after update on spend_lines
  referencing new table as changed_lines for each statement execute function spend_lines_check_imports();

create function spend_imports_keep_lines() returns trigger
  language plpgsql
  as $$
begin
  if tg_op = 'UPDATE' and (new.place_id, new.id) = (old.place_id, old.id) then
    return new;
  end if;
  if exists (select 1 from spend_lines l where l.place_id = old.place_id and l.import_id = old.id) then
    raise foreign_key_violation using message = 'this import has spend lines; reverse them, do not delete the import',
      constraint = 'spend_lines_import';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

create trigger spend_imports_keep_lines before delete or update of place_id, id on spend_imports
  for each row execute function spend_imports_keep_lines();
