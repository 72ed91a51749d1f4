-- Each place's own rules for its families work, set by an administrator instead of passed on
-- every request: for now the data-matching rule (a household is proposed for assessment when its
-- people, across all agencies' lists, meet at least this many criteria; 2 by default).

create table family_settings (
  place_id bigint not null references places (id),
  match_threshold integer not null default 2 check (match_threshold between 1 and 6),
  updated_by bigint not null references people (id),
  updated_at timestamptz not null default now(),
  primary key (place_id)
);

alter table family_settings enable row level security;
create policy place_isolation on family_settings using (place_id = current_place_id())
  with check (place_id = current_place_id());
grant select, insert, update, delete on family_settings to placebudget_app;
