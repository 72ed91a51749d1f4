-- The audit chain becomes keyed (review 2026-12, M8). Entries so far keep their plain SHA-256
-- hashes; this migration appends one marker entry, hashed the same plain way, and every entry
-- after it is an HMAC-SHA256 under a key held outside the database (PLACEBUDGET_AUDIT_KEY or
-- audit.key in the data folder), so rewriting an entry and re-chaining needs that key.
-- The marker's hash is sha256(prev_hash || '\n' || canonical JSON of its content), exactly what
-- entryHash() computes without a key (keys sorted; `at` as an ISO string with milliseconds).
with head as (
  select coalesce((select hash from audit_log order by id desc limit 1), repeat('0', 64)) as prev_hash,
         date_trunc('milliseconds', now()) as at
), body as (
  select prev_hash, at,
    '{"action":"audit.chain_keyed","at":"' || to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ||
    '","detail":{"scheme":"hmac-sha256"},"person_id":null,"place_id":null,"subject":"audit_log"}' as text
  from head
)
insert into audit_log (at, person_id, place_id, action, subject, detail, prev_hash, hash)
select at, null, null, 'audit.chain_keyed', 'audit_log', '{"scheme":"hmac-sha256"}', prev_hash,
  encode(sha256(convert_to(prev_hash || E'\n' || text, 'UTF8')), 'hex')
from body;

-- TRUNCATE skips row triggers and the update/delete statement trigger: refuse it too.
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_is_append_only();

-- The application role appends and reads; nothing else (it never had these, now it says so).
revoke update, delete, truncate, references, trigger on audit_log from placebudget_app;
revoke all on audit_log from public;
