import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import {
  balancedTransaction,
  fingerprint,
  reversalPostings,
  throwIfAny,
  type Actor,
  type BalancedTransaction,
  type Posting,
  type TransactionKind,
} from './domain.ts';
import { accountsByCode, type AccountRow } from './accounts.ts';
import { journalPostings } from './journal.ts';
import { decisionsOfPlace } from '../places/public.ts';
import { financialYearLabel, financialYearOf } from '../core/dates.ts';

// Posting balanced transactions with the checks they pass, the balances they move, and reversals.

export interface PostOptions {
  kind?: TransactionKind;
  commitmentId?: number | null;
  reversesId?: number | null;
  actor: Actor;
}

export interface PostedTransaction {
  index: number;
  key: string;
  id: number;
  /** `already_posted`: the key was used before with the same content; nothing new was written. */
  status: 'posted' | 'already_posted';
}

/** Statements stay well under PostgreSQL's 65,535 parameters and each holds whole transactions. */
const CHUNK_TRANSACTIONS = 500;

/** £1 trillion: the most any account's balance may reach either way (see assertBalancesBounded). */
export const MAX_BALANCE_PENCE = 100_000_000_000_000;

/**
 * Posts balanced transactions in the caller's database transaction: all of them or none. Every
 * problem found before writing is reported by the transaction's index in `transactions`.
 * A key posted before with the same content is answered with the first result; with other
 * content it is refused.
 */
export async function postTransactions(
  tx: Tx,
  placeId: number,
  transactions: BalancedTransaction[],
  options: PostOptions,
): Promise<PostedTransaction[]> {
  const kind = options.kind ?? 'general';
  const accounts = await accountsByCode(tx, placeId);
  const closed = await lockedClosedYears(tx, placeId, transactions);
  const decisions = await decisionIds(tx, placeId, transactions);
  const fields: FieldErrors = {};
  transactions.forEach((t, index) => {
    const problems: string[] = [];
    const unknown = [...new Set(t.postings.filter((p) => !accounts.has(p.account)).map((p) => p.account))];
    if (unknown.length)
      problems.push(`unknown account${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    // Commitment accounts move only with their commitments (raise, spend, release), or the
    // sub-ledger of outstanding commitments would no longer match the account.
    const committed = [
      ...new Set(
        t.postings
          .filter((p) => kind === 'general' && accounts.get(p.account)?.kind === 'commitment')
          .map((p) => p.account),
      ),
    ];
    if (committed.length)
      problems.push(
        `${committed.join(', ')} ${committed.length > 1 ? 'are commitment accounts' : 'is a commitment account'}: raise, spend or release a commitment instead of a journal`,
      );
    if (closed.has(financialYearOf(t.date)))
      problems.push(`financial year ${financialYearLabel(financialYearOf(t.date))} is closed`);
    if (t.decision_id && !decisions.has(t.decision_id))
      problems.push(`there is no board decision ${t.decision_id} in this place`);
    if (problems.length) fields[`[${index}]`] = problems.join('; ');
  });
  throwIfAny(fields, 'transactions');

  const results: PostedTransaction[] = [];
  for (let start = 0; start < transactions.length; start += CHUNK_TRANSACTIONS) {
    const chunk = transactions.slice(start, start + CHUNK_TRANSACTIONS);
    const prints = chunk.map((t) => fingerprint(t, kind));
    const inserted = await insertChunk(tx, placeId, chunk, prints, accounts, kind, options);
    const newIds = new Map(inserted.map((r) => [r.idempotency_key, r.id]));
    const earlier = await earlierWithKeys(
      tx,
      placeId,
      chunk.filter((t) => !newIds.has(t.key)).map((t) => t.key),
    );
    for (const [i, t] of chunk.entries()) {
      const index = start + i;
      const id = newIds.get(t.key);
      if (id !== undefined) {
        results.push({ index, key: t.key, id, status: 'posted' });
        continue;
      }
      const first = earlier.get(t.key)!;
      if (first.fingerprint !== prints[i])
        fields[`[${index}]`] = `key ${t.key} was already used for a different transaction (${first.id})`;
      results.push({ index, key: t.key, id: first.id, status: 'already_posted' });
    }
    // Throwing rolls back the chunk's inserts with the rest of the caller's transaction.
    throwIfAny(fields, 'transactions');
  }
  const posted = results.filter((r) => r.status === 'posted');
  if (posted.length && (kind === 'general' || kind === 'reversal'))
    await assertPotsNotOverdrawn(tx, placeId, transactions, accounts);
  if (posted.length) await assertBalancesBounded(tx, placeId, transactions, accounts);
  if (posted.length) {
    await appendAudit(tx, {
      person_id: options.actor.personId,
      place_id: placeId,
      action: 'ledger.post',
      subject:
        posted.length === 1
          ? `ledger_transaction:${posted[0]!.id}`
          : `ledger_transactions:${posted[0]!.id}..${posted.at(-1)!.id}`,
      detail: { kind, transactions: posted.length, first_key: posted[0]!.key, last_key: posted.at(-1)!.key },
    });
  }
  return results;
}

/**
 * One statement per chunk: the headers, then the legs of the headers that were new (a key seen
 * before inserts nothing). Columns travel as arrays, so the statement has a dozen parameters
 * whatever the chunk's size, and the postings trigger sees every leg of a transaction at once.
 */
async function insertChunk(
  tx: Tx,
  placeId: number,
  chunk: BalancedTransaction[],
  prints: string[],
  accounts: Map<string, AccountRow>,
  kind: TransactionKind,
  options: PostOptions,
): Promise<{ id: number; idempotency_key: string }[]> {
  const legs = chunk.flatMap((t) =>
    t.postings.map((p, i) => ({
      key: t.key,
      leg: i + 1,
      account: accounts.get(p.account)!.id,
      amount: p.amount_pence,
    })),
  );
  const result = await sql<{ id: number; idempotency_key: string }>`
    with headers as (
      insert into ledger_transactions (place_id, idempotency_key, fingerprint, kind, effective_date, memo, decision_id, reverses_id, commitment_id, recorded_by)
      select ${placeId}, u.key, u.fingerprint, ${kind}, u.effective_date, u.memo, u.decision_id, ${options.reversesId ?? null}::bigint,
             ${options.commitmentId ?? null}::bigint, ${options.actor.personId}::bigint
      from unnest(${chunk.map((t) => t.key)}::text[], ${prints}::text[], ${chunk.map((t) => t.date)}::date[], ${chunk.map((t) => t.memo)}::text[],
                  ${chunk.map((t) => t.decision_id ?? null)}::bigint[]) as u(key, fingerprint, effective_date, memo, decision_id)
      on conflict (place_id, idempotency_key) do nothing
      returning id, idempotency_key, effective_date
    ), legs as (
      insert into ledger_postings (place_id, transaction_id, leg, account_id, amount_pence, effective_date)
      select ${placeId}, h.id, l.leg, l.account_id, l.amount_pence, h.effective_date
      from unnest(${legs.map((l) => l.key)}::text[], ${legs.map((l) => l.leg)}::smallint[], ${legs.map((l) => l.account)}::bigint[],
                  ${legs.map((l) => l.amount)}::bigint[]) as l(key, leg, account_id, amount_pence)
      join headers h on h.idempotency_key = l.key
    )
    select id, idempotency_key from headers`.execute(tx);
  return result.rows;
}

async function earlierWithKeys(tx: Tx, placeId: number, keys: string[]) {
  if (keys.length === 0) return new Map<string, { id: number; fingerprint: string }>();
  const rows = await tx
    .selectFrom('ledger_transactions')
    .select(['id', 'idempotency_key', 'fingerprint'])
    .where('place_id', '=', placeId)
    .where('idempotency_key', 'in', keys)
    .execute();
  return new Map(rows.map((r) => [r.idempotency_key, r]));
}

/**
 * The closed years among those the transactions fall in, read under a share lock on each year's
 * period row (made first if missing). A close holds the row FOR UPDATE, so a posting and the
 * close of its year serialise: the posting waits for the close and then sees the year closed, or
 * the close waits for the posting and then counts it.
 */
async function lockedClosedYears(
  tx: Tx,
  placeId: number,
  transactions: readonly BalancedTransaction[],
): Promise<Set<number>> {
  const years = [...new Set(transactions.map((t) => financialYearOf(t.date)))].sort((a, b) => a - b);
  if (years.length === 0) return new Set();
  await tx
    .insertInto('ledger_periods')
    .values(years.map((financial_year) => ({ place_id: placeId, financial_year })))
    .onConflict((oc) => oc.doNothing())
    .execute();
  const rows = await tx
    .selectFrom('ledger_periods')
    .select(['financial_year', 'closed'])
    .where('place_id', '=', placeId)
    .where('financial_year', 'in', years)
    .orderBy('financial_year')
    .forShare()
    .execute();
  return new Set(rows.filter((r) => r.closed).map((r) => r.financial_year));
}

/** The accounts, each once, of the postings `picked` keeps. */
function accountIds(
  transactions: readonly BalancedTransaction[],
  accounts: Map<string, AccountRow>,
  picked: (p: Posting, account: AccountRow) => boolean,
): number[] {
  const ids = transactions.flatMap((t) =>
    t.postings.flatMap((p) => {
      const account = accounts.get(p.account);
      return account && picked(p, account) ? [account.id] : [];
    }),
  );
  return [...new Set(ids)];
}

/**
 * The balances the postings trigger maintains, by account code: today's balances, and what the
 * checks after posting read.
 */
function currentBalances(tx: Tx, placeId: number) {
  return tx
    .selectFrom('ledger_accounts as a')
    .innerJoin('ledger_balances as b', (j) =>
      j.onRef('b.place_id', '=', 'a.place_id').onRef('b.account_id', '=', 'a.id'),
    )
    .select(['a.code as account', 'b.balance_pence'])
    .where('a.place_id', '=', placeId)
    .orderBy('a.code');
}

/**
 * No account's balance may pass MAX_BALANCE_PENCE either way: far below 2^53, so every balance,
 * and every total of up to ninety of them, stays exact as a JavaScript number on every page,
 * report and export. The balances are compared in SQL, never read into a number first.
 */
async function assertBalancesBounded(
  tx: Tx,
  placeId: number,
  transactions: readonly BalancedTransaction[],
  accounts: Map<string, AccountRow>,
) {
  const touched = accountIds(transactions, accounts, () => true);
  if (touched.length === 0) return;
  const beyond = await currentBalances(tx, placeId)
    .where('a.id', 'in', touched)
    .where(sql<boolean>`abs(b.balance_pence) > ${MAX_BALANCE_PENCE}`)
    .execute();
  if (beyond.length)
    throw new Invalid(
      `This would take the balance of ${beyond.map((b) => b.account).join(', ')} past ${MAX_BALANCE_PENCE} pence either way, the most an account may hold`,
      {
        transactions: 'An account’s balance may not pass £1,000,000,000,000 either way',
      },
    );
}

/**
 * A journal (or a reversal) may not leave a pot it draws on below zero: the pot is what is left
 * to commit and allocate, and the commitment rule (no overdraw) would otherwise be bypassed. The
 * balance rows were just updated by this transaction's postings, so they are locked and current.
 */
async function assertPotsNotOverdrawn(
  tx: Tx,
  placeId: number,
  transactions: readonly BalancedTransaction[],
  accounts: Map<string, AccountRow>,
) {
  const drawn = accountIds(transactions, accounts, (p, a) => p.amount_pence < 0 && a.kind === 'pot');
  if (drawn.length === 0) return;
  const overdrawn = await currentBalances(tx, placeId)
    .where('a.id', 'in', drawn)
    .where('b.balance_pence', '<', 0)
    .execute();
  if (overdrawn.length)
    throw new Conflict(
      `This would overdraw ${overdrawn.map((o) => `${o.account} by ${-o.balance_pence} pence`).join(', ')}: a pot may not go below zero`,
    );
}

async function decisionIds(
  tx: Tx,
  placeId: number,
  transactions: BalancedTransaction[],
): Promise<Set<number>> {
  const wanted = [...new Set(transactions.map((t) => t.decision_id).filter((d): d is number => !!d))];
  return decisionsOfPlace(tx, placeId, wanted);
}

export async function postOne(
  tx: Tx,
  placeId: number,
  t: BalancedTransaction,
  options: PostOptions,
): Promise<PostedTransaction> {
  return (await postTransactions(tx, placeId, [t], options))[0]!;
}

export interface BalanceRow {
  account: string;
  balance_pence: Pence;
}

/**
 * Every account's balance. Today's is a lookup of the balances the postings trigger maintains;
 * an earlier date sums the postings up to it, as a report does.
 */
export async function listBalances(tx: Tx, placeId: number, asOf?: string): Promise<BalanceRow[]> {
  if (!asOf) return currentBalances(tx, placeId).execute();
  const rows = await tx
    .selectFrom('ledger_accounts as a')
    .leftJoin('ledger_postings as p', (j) =>
      j
        .onRef('p.place_id', '=', 'a.place_id')
        .onRef('p.account_id', '=', 'a.id')
        .on('p.effective_date', '<=', asOf),
    )
    .select(['a.code as account', sql<string>`coalesce(sum(p.amount_pence), 0)::bigint`.as('balance_pence')])
    .where('a.place_id', '=', placeId)
    .groupBy(['a.id', 'a.code'])
    .orderBy('a.code')
    .execute();
  return rows.map((r) => ({ account: r.account, balance_pence: pence(Number(r.balance_pence)) }));
}
/** Kinds a reversal may undo; commitments are corrected by releasing them, closes by re-opening. */
export const REVERSIBLE: readonly TransactionKind[] = [
  'general',
  'contribution',
  'allocation',
  'spend',
  'income',
];

export async function reverseTransaction(
  tx: Tx,
  placeId: number,
  transactionId: number,
  input: { key: string; date: string; memo?: string },
  actor: Actor,
): Promise<PostedTransaction> {
  const original = await tx
    .selectFrom('ledger_transactions')
    .select(['id', 'kind', 'memo', 'decision_id'])
    .where('place_id', '=', placeId)
    .where('id', '=', transactionId)
    .executeTakeFirst();
  if (!original) throw new NotFound('No such transaction in this place');
  const earlier = await tx
    .selectFrom('ledger_transactions')
    .select(['id', 'reverses_id'])
    .where('place_id', '=', placeId)
    .where('idempotency_key', '=', input.key)
    .executeTakeFirst();
  if (earlier && earlier.reverses_id === transactionId)
    return { index: 0, key: input.key, id: earlier.id, status: 'already_posted' };
  if (!REVERSIBLE.includes(original.kind)) {
    throw new Invalid(
      `A ${original.kind.replace('_', ' ')} transaction is not reversed: ${original.kind.startsWith('commitment') ? 'release the commitment instead' : 're-open the year instead'}`,
    );
  }
  const reversed = await tx
    .selectFrom('ledger_transactions')
    .select('id')
    .where('place_id', '=', placeId)
    .where('reverses_id', '=', transactionId)
    .executeTakeFirst();
  if (reversed)
    throw new Conflict(`Transaction ${transactionId} was already reversed by transaction ${reversed.id}`);
  const postings = await journalPostings(tx, placeId, [transactionId]);
  const t = balancedTransaction({
    key: input.key,
    date: input.date,
    memo: input.memo?.trim() || `Reversal of ${transactionId}: ${original.memo}`.slice(0, 500),
    decision_id: original.decision_id,
    postings: reversalPostings(postings.get(transactionId) ?? []),
  });
  return postOne(tx, placeId, t, { kind: 'reversal', reversesId: transactionId, actor });
}
