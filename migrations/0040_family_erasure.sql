-- Security review 2026-12, H3: erasure blanks every personal field of a family, so the fields that
-- held free text or relationships may be empty once (and, for the family's own row, only once) the
-- family is erased. The application still requires them while the family is not erased.
alter table families drop constraint families_check;
alter table families add constraint families_closed_reason
  check (status <> 'closed' or closure_reason is not null or erased_at is not null);

alter table family_members alter column relationship drop not null;
alter table family_members add constraint family_members_relationship_kept
  check (relationship is not null or erased_at is not null);

alter table family_professionals alter column name drop not null;
alter table family_goals alter column description drop not null;
alter table family_claims alter column evidence drop not null;
