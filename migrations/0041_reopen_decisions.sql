-- Security review 2026-12, H4: a closed year re-opens only on a board decision made to re-open that
-- very year, and each such decision re-opens it once.
alter table decisions add column financial_year integer;
alter table decisions add constraint decisions_reopen_names_year
  check (kind <> 'period_reopen' or financial_year is not null);

create unique index ledger_period_events_decision_once
  on ledger_period_events (place_id, decision_id) where action = 'reopen';
