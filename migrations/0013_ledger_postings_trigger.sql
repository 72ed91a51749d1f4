-- 0002_ledger.sql was edited after it was committed: its posting trigger changed from summing
-- every posting of a touched transaction to checking the statement's own legs (numbered 1..n, so
-- all of a transaction's legs arrive in one statement). A database that applied the first text
-- still has the first trigger; the runner accepts that text's checksum (SUPERSEDED_CHECKSUMS in
-- src/core/migrate.ts) and this migration brings the function to the edited text. On a database
-- that applied the edited text it replaces the function with itself.
create or replace function ledger_postings_inserted() returns trigger
  language plpgsql
  as $$
declare unbalanced record;
begin
  select transaction_id, sum(amount_pence) as total into unbalanced
    from new_postings
    group by place_id, transaction_id
    having sum(amount_pence) <> 0 or count(*) < 2 or min(leg) <> 1 or max(leg) <> count(*)
    limit 1;
  if found then
    raise exception 'ledger transaction % does not balance (postings sum to % pence) or its legs are not all posted together',
      unbalanced.transaction_id, unbalanced.total
      using errcode = 'check_violation';
  end if;
  insert into ledger_balances (place_id, account_id, balance_pence)
    select place_id, account_id, sum(amount_pence) from new_postings group by place_id, account_id order by place_id, account_id
    on conflict (place_id, account_id) do update set balance_pence = ledger_balances.balance_pence + excluded.balance_pence;
  return null;
end
$$;
