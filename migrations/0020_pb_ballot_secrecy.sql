-- Ballot secrecy and one person one vote (security review 2026-12, H1 and M2).
--
-- While voting is open a ballot is kept with its voter in pb_ballots, because a revote replaces
-- it. At the close its content moves to pb_sealed_ballots, which has a random id and nothing else
-- beside the content: no voter, channel, postcode, time or serial number; the rows are written in
-- content order, so even their physical order says nothing. pb_ballots then holds no row of the
-- process. Who voted (without what) stays in pb_voted, for one person one vote and the turnout.

create table pb_voted (
  place_id bigint not null,
  process_id bigint not null,
  -- 'person:<id>' for an account, 'code:<hash>' for an access code, 'file:<voter id>' for an import.
  voter text not null check (length(voter) between 1 and 200),
  -- The account behind the vote, when known (an account, or a signed-in resident using a code):
  -- one vote per person in a process, whatever the channel.
  person_id bigint references people (id),
  channel text not null check (channel in ('online', 'paper', 'import')),
  -- The member of staff who entered a paper ballot.
  entered_by bigint references people (id),
  primary key (place_id, process_id, voter),
  unique (place_id, process_id, person_id),
  foreign key (place_id, process_id) references pb_processes (place_id, id)
);

create table pb_sealed_ballots (
  place_id bigint not null,
  process_id bigint not null,
  -- Random (128 bits), so it orders nothing.
  id text not null check (id ~ '^[0-9a-f]{32}$'),
  projects integer[] not null,
  points integer[],
  primary key (place_id, process_id, id),
  foreign key (place_id, process_id) references pb_processes (place_id, id),
  check (points is null or cardinality(points) = cardinality(projects))
);

do $$
declare t text;
begin
  foreach t in array array['pb_voted', 'pb_sealed_ballots'] loop
    execute format('alter table %I enable row level security', t);
    execute format('create policy place_isolation on %I using (place_id = current_place_id())
                    with check (place_id = current_place_id())', t);
    execute format('grant select, insert on %I to placebudget_app', t);
  end loop;
end
$$;
-- A revote keeps the register row, binding a code to the resident who signed in to use it; the close empties pb_ballots.
grant update (person_id) on pb_voted to placebudget_app;
grant delete on pb_ballots to placebudget_app;

-- Ballots of processes that are already past voting: seal them, in content order, and register who voted.
insert into pb_voted (place_id, process_id, voter, person_id, channel, entered_by)
select b.place_id, b.process_id, b.voter,
       case when b.voter ~ '^person:[0-9]+$' then substr(b.voter, 8)::bigint end,
       b.channel, b.entered_by
  from pb_ballots b;
insert into pb_sealed_ballots (place_id, process_id, id, projects, points)
select b.place_id, b.process_id, replace(gen_random_uuid()::text, '-', ''), b.projects, b.points
  from pb_ballots b
  join pb_processes p on p.place_id = b.place_id and p.id = b.process_id
 where p.phase in ('results', 'delivery')
 order by b.place_id, b.process_id, b.projects, b.points nulls first;
delete from pb_ballots b
 using pb_processes p
 where p.place_id = b.place_id and p.id = b.process_id and p.phase in ('results', 'delivery');
-- A ballot row no longer needs the time it was cast.
alter table pb_ballots drop column cast_at;
