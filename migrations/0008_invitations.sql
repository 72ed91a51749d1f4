-- Invitations: an admin adds a person to a place, and the person sets their own password from a
-- one-time link the admin passes on. Only the token's hash is stored.
create table invitations (
  id text primary key,
  person_id bigint not null references people (id),
  created_by bigint not null references people (id),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index invitations_person on invitations (person_id);

-- An admin adds people from inside the place's transaction, as the restricted role.
grant insert (email, name) on people to placebudget_app;
grant insert on invitations to placebudget_app;
