import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import {
  balancedTransaction,
  COMMITMENT_SOURCES,
  fingerprint,
  reversalPostings,
  throwIfAny,
  type AccountKind,
  type BalancedTransaction,
  type NewAccount,
  type TransactionKind,
} from './domain.ts';
import { assertPartnersOfPlace, decisionsOfPlace } from '../places/public.ts';
import { financialYearLabel, financialYearOf } from '../core/dates.ts';

/** Who did it: a signed-in person, or null for the CLI and the demo seed. */
export interface Actor {
  personId: number | null;
}

export interface AccountRow {
  id: number;
  code: string;
  name: string;
  kind: AccountKind;
  partner_id: number | null;
  service: string | null;
}

const accountColumns = ['id', 'code', 'name', 'kind', 'partner_id', 'service'] as const;

export async function listAccounts(tx: Tx, placeId: number): Promise<AccountRow[]> {
  return tx
    .selectFrom('ledger_accounts')
    .select(accountColumns)
    .where('place_id', '=', placeId)
    .orderBy('code')
    .execute();
}

async function accountsByCode(tx: Tx, placeId: number): Promise<Map<string, AccountRow>> {
  return new Map((await listAccounts(tx, placeId)).map((a) => [a.code, a]));
}

async function accountByCode(tx: Tx, placeId: number, code: string, field: string): Promise<AccountRow> {
  const account = await tx
    .selectFrom('ledger_accounts')
    .select(accountColumns)
    .where('place_id', '=', placeId)
    .where('code', '=', code)
    .executeTakeFirst();
  if (!account)
    throw new Invalid(`There is no account ${code} in this place`, {
      [field]: `There is no account ${code} in this place`,
    });
  return account;
}

export async function createAccount(
  tx: Tx,
  placeId: number,
  input: NewAccount,
  actor: Actor,
): Promise<AccountRow> {
  return (await createAccounts(tx, placeId, [input], actor))[0]!;
}

/** Opens accounts, each with a zero balance row for the postings trigger to maintain. */
export async function createAccounts(
  tx: Tx,
  placeId: number,
  inputs: NewAccount[],
  actor: Actor,
): Promise<AccountRow[]> {
  const codes = inputs.map((i) => i.code);
  const clash = await tx
    .selectFrom('ledger_accounts')
    .select('code')
    .where('place_id', '=', placeId)
    .where('code', 'in', codes)
    .executeTakeFirst();
  const repeated = codes.find((c, i) => codes.indexOf(c) !== i);
  if (clash || repeated)
    throw new Invalid('There is a problem with the account', {
      code: `This place already has an account ${clash?.code ?? repeated}`,
    });
  const partnerIds = [...new Set(inputs.map((i) => i.partner_id).filter((id): id is number => id !== null))];
  await assertPartnersOfPlace(tx, placeId, partnerIds, 'There is a problem with the account', {
    partner_id: 'Select a partner of this place',
  });
  const accounts = await tx
    .insertInto('ledger_accounts')
    .values(inputs.map((input) => ({ place_id: placeId, ...input })))
    .returning(accountColumns)
    .execute();
  await tx
    .insertInto('ledger_balances')
    .values(accounts.map((a) => ({ place_id: placeId, account_id: a.id })))
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.account.add',
    subject:
      accounts.length === 1
        ? `ledger_account:${accounts[0]!.id}`
        : `ledger_accounts:${accounts[0]!.id}..${accounts.at(-1)!.id}`,
    detail: { accounts: inputs.map((i) => ({ code: i.code, kind: i.kind })) },
  });
  return accounts;
}

/** A partner's own code for one of our accounts, so statements read in their chart too. */
export async function mapPartnerCode(
  tx: Tx,
  placeId: number,
  accountCode: string,
  partnerId: number,
  partnerCode: string,
  actor: Actor,
) {
  const account = await accountByCode(tx, placeId, accountCode, 'account');
  await tx
    .insertInto('ledger_partner_codes')
    .values({ place_id: placeId, account_id: account.id, partner_id: partnerId, partner_code: partnerCode })
    .onConflict((oc) =>
      oc.columns(['place_id', 'account_id', 'partner_id']).doUpdateSet({ partner_code: partnerCode }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.account.map',
    subject: `ledger_account:${account.id}`,
    detail: { partner_id: partnerId, partner_code: partnerCode },
  });
}

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
  const touched = [
    ...new Set(
      transactions
        .flatMap((t) => t.postings.map((p) => accounts.get(p.account)?.id))
        .filter((id): id is number => id !== undefined),
    ),
  ];
  if (touched.length === 0) return;
  const beyond = await tx
    .selectFrom('ledger_balances as b')
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'b.place_id').onRef('a.id', '=', 'b.account_id'),
    )
    .select('a.code')
    .where('b.place_id', '=', placeId)
    .where('b.account_id', 'in', touched)
    .where(sql<boolean>`abs(b.balance_pence) > ${MAX_BALANCE_PENCE}`)
    .orderBy('a.code')
    .execute();
  if (beyond.length)
    throw new Invalid(
      `This would take the balance of ${beyond.map((b) => b.code).join(', ')} past ${MAX_BALANCE_PENCE} pence either way, the most an account may hold`,
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
  const drawn = [
    ...new Set(
      transactions.flatMap((t) =>
        t.postings
          .filter((p) => p.amount_pence < 0 && accounts.get(p.account)?.kind === 'pot')
          .map((p) => accounts.get(p.account)!.id),
      ),
    ),
  ];
  if (drawn.length === 0) return;
  const overdrawn = await tx
    .selectFrom('ledger_balances as b')
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'b.place_id').onRef('a.id', '=', 'b.account_id'),
    )
    .select(['a.code', 'b.balance_pence'])
    .where('b.place_id', '=', placeId)
    .where('b.account_id', 'in', drawn)
    .where('b.balance_pence', '<', 0)
    .orderBy('a.code')
    .execute();
  if (overdrawn.length)
    throw new Conflict(
      `This would overdraw ${overdrawn.map((o) => `${o.code} by ${-o.balance_pence} pence`).join(', ')}: a pot may not go below zero`,
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

async function postOne(
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
  if (!asOf) {
    return tx
      .selectFrom('ledger_accounts as a')
      .innerJoin('ledger_balances as b', (j) =>
        j.onRef('b.place_id', '=', 'a.place_id').onRef('b.account_id', '=', 'a.id'),
      )
      .select(['a.code as account', 'b.balance_pence'])
      .where('a.place_id', '=', placeId)
      .orderBy('a.code')
      .execute();
  }
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

async function lockedBalance(tx: Tx, placeId: number, accountId: number): Promise<Pence> {
  const row = await tx
    .selectFrom('ledger_balances')
    .select('balance_pence')
    .where('place_id', '=', placeId)
    .where('account_id', '=', accountId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  return row.balance_pence;
}

export interface CommitmentInput {
  key: string;
  date: string;
  source: string;
  commitment_account: string;
  amount_pence: Pence;
  description: string;
  decision_id?: number | null;
}

export interface CommitmentRow {
  id: number;
  source: string;
  commitment_account: string;
  description: string;
  amount_pence: Pence;
  spent_pence: Pence;
  released_pence: Pence;
  outstanding_pence: Pence;
  raised_on: string;
  decision_id: number | null;
}

/**
 * Raises a commitment against a pot or an allocation. The source's balance row is locked for
 * the rest of the transaction, so concurrent raises queue on it and each sees what the one
 * before left: together they can never promise more than the source holds.
 */
export async function raiseCommitment(
  tx: Tx,
  placeId: number,
  input: CommitmentInput,
  actor: Actor,
): Promise<CommitmentRow> {
  const source = await accountByCode(tx, placeId, input.source, 'source');
  const target = await accountByCode(tx, placeId, input.commitment_account, 'commitment_account');
  if (!COMMITMENT_SOURCES.includes(source.kind))
    throw new Invalid('A commitment draws on a pot or an allocation', {
      source: 'Select a pot or an allocation account',
    });
  if (target.kind !== 'commitment')
    throw new Invalid('Commitments are held in a commitment account', {
      commitment_account: 'Select a commitment account',
    });
  const available = await lockedBalance(tx, placeId, source.id);
  // After the lock, so a concurrent raise with the same key has committed and is seen here.
  const earlier = await tx
    .selectFrom('ledger_transactions')
    .select('commitment_id')
    .where('place_id', '=', placeId)
    .where('idempotency_key', '=', input.key)
    .executeTakeFirst();
  if (earlier) {
    if (!earlier.commitment_id)
      throw new Conflict(`Key ${input.key} was already used for a different transaction`);
    return findCommitment(tx, placeId, earlier.commitment_id);
  }
  if (input.amount_pence > available) {
    throw new Conflict(
      `The commitment of {amount} is more than the {available} available in ${source.code}`,
      {
        amount: input.amount_pence,
        available,
      },
    );
  }
  const t = balancedTransaction({
    key: input.key,
    date: input.date,
    memo: input.description,
    decision_id: input.decision_id ?? null,
    postings: [
      { account: target.code, amount_pence: input.amount_pence },
      { account: source.code, amount_pence: -input.amount_pence },
    ],
  });
  const row = await tx
    .insertInto('ledger_commitments')
    .values({
      place_id: placeId,
      source_account_id: source.id,
      commitment_account_id: target.id,
      description: input.description,
      amount_pence: input.amount_pence,
      raised_on: input.date,
      decision_id: input.decision_id ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await postOne(tx, placeId, t, { kind: 'commitment', commitmentId: row.id, actor });
  return findCommitment(tx, placeId, row.id);
}

export async function listCommitments(
  tx: Tx,
  placeId: number,
  commitmentId?: number,
): Promise<CommitmentRow[]> {
  let query = tx
    .selectFrom('ledger_commitments as c')
    .innerJoin('ledger_accounts as s', (j) =>
      j.onRef('s.place_id', '=', 'c.place_id').onRef('s.id', '=', 'c.source_account_id'),
    )
    .innerJoin('ledger_accounts as t', (j) =>
      j.onRef('t.place_id', '=', 'c.place_id').onRef('t.id', '=', 'c.commitment_account_id'),
    )
    .select([
      'c.id',
      's.code as source',
      't.code as commitment_account',
      'c.description',
      'c.amount_pence',
      'c.spent_pence',
      'c.released_pence',
      'c.raised_on',
      'c.decision_id',
    ])
    .where('c.place_id', '=', placeId);
  if (commitmentId !== undefined) query = query.where('c.id', '=', commitmentId);
  const rows = await query.orderBy('c.raised_on', 'desc').orderBy('c.id', 'desc').execute();
  return rows.map((r) => ({
    ...r,
    outstanding_pence: pence(r.amount_pence - r.spent_pence - r.released_pence),
  }));
}

async function findCommitment(tx: Tx, placeId: number, commitmentId: number): Promise<CommitmentRow> {
  const [row] = await listCommitments(tx, placeId, commitmentId);
  if (!row) throw new NotFound('No such commitment in this place');
  return row;
}

async function lockCommitment(tx: Tx, placeId: number, commitmentId: number) {
  const row = await tx
    .selectFrom('ledger_commitments')
    .select([
      'id',
      'amount_pence',
      'spent_pence',
      'released_pence',
      'source_account_id',
      'commitment_account_id',
    ])
    .where('place_id', '=', placeId)
    .where('id', '=', commitmentId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new NotFound('No such commitment in this place');
  return { ...row, outstanding: row.amount_pence - row.spent_pence - row.released_pence };
}

async function codeOf(tx: Tx, placeId: number, accountId: number): Promise<string> {
  const row = await tx
    .selectFrom('ledger_accounts')
    .select('code')
    .where('place_id', '=', placeId)
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row.code;
}

/** Was this key used already for this commitment? Then the first answer stands. */
async function alreadyDone(tx: Tx, placeId: number, key: string, commitmentId: number): Promise<boolean> {
  const earlier = await tx
    .selectFrom('ledger_transactions')
    .select('commitment_id')
    .where('place_id', '=', placeId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  if (!earlier) return false;
  if (earlier.commitment_id !== commitmentId)
    throw new Conflict(`Key ${key} was already used for a different transaction`);
  return true;
}

export interface CommitmentSpend {
  key: string;
  date: string;
  spend_account: string;
  amount_pence: Pence;
  memo: string;
}

/** Spends part or all of what is still outstanding on a commitment. */
export async function spendCommitment(
  tx: Tx,
  placeId: number,
  commitmentId: number,
  input: CommitmentSpend,
  actor: Actor,
): Promise<CommitmentRow> {
  const c = await lockCommitment(tx, placeId, commitmentId);
  if (await alreadyDone(tx, placeId, input.key, commitmentId))
    return findCommitment(tx, placeId, commitmentId);
  const spend = await accountByCode(tx, placeId, input.spend_account, 'spend_account');
  if (spend.kind !== 'spend')
    throw new Invalid('Spend goes to a spend account', { spend_account: 'Select a spend account' });
  if (input.amount_pence > c.outstanding) {
    throw new Invalid(
      'Only {outstanding} of this commitment is outstanding',
      { amount_pence: 'Enter at most {outstanding}, what is still outstanding' },
      { outstanding: c.outstanding },
    );
  }
  const t = balancedTransaction({
    key: input.key,
    date: input.date,
    memo: input.memo,
    postings: [
      { account: spend.code, amount_pence: input.amount_pence },
      { account: await codeOf(tx, placeId, c.commitment_account_id), amount_pence: -input.amount_pence },
    ],
  });
  await tx
    .updateTable('ledger_commitments')
    .set({ spent_pence: c.spent_pence + input.amount_pence })
    .where('place_id', '=', placeId)
    .where('id', '=', commitmentId)
    .execute();
  await postOne(tx, placeId, t, { kind: 'commitment_spend', commitmentId, actor });
  return findCommitment(tx, placeId, commitmentId);
}

/** Releases what is left of a commitment (or part of it) back to the pot or allocation it drew on. */
export async function releaseCommitment(
  tx: Tx,
  placeId: number,
  commitmentId: number,
  input: { key: string; date: string; amount_pence?: Pence; memo?: string },
  actor: Actor,
): Promise<CommitmentRow> {
  const c = await lockCommitment(tx, placeId, commitmentId);
  if (await alreadyDone(tx, placeId, input.key, commitmentId))
    return findCommitment(tx, placeId, commitmentId);
  const amount = input.amount_pence ?? c.outstanding;
  if (c.outstanding === 0)
    throw new Invalid('Nothing is outstanding on this commitment', {
      amount_pence: 'Nothing is left to release',
    });
  if (amount > c.outstanding) {
    throw new Invalid(
      'Only {outstanding} of this commitment is outstanding',
      { amount_pence: 'Enter at most {outstanding}, what is still outstanding' },
      { outstanding: c.outstanding },
    );
  }
  const t = balancedTransaction({
    key: input.key,
    date: input.date,
    memo: input.memo ?? 'Commitment released',
    postings: [
      { account: await codeOf(tx, placeId, c.source_account_id), amount_pence: amount },
      { account: await codeOf(tx, placeId, c.commitment_account_id), amount_pence: -amount },
    ],
  });
  await tx
    .updateTable('ledger_commitments')
    .set({ released_pence: c.released_pence + amount })
    .where('place_id', '=', placeId)
    .where('id', '=', commitmentId)
    .execute();
  await postOne(tx, placeId, t, { kind: 'commitment_release', commitmentId, actor });
  return findCommitment(tx, placeId, commitmentId);
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

async function journalPostings(tx: Tx, placeId: number, transactionIds: number[]) {
  const rows = await tx
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'p.place_id').onRef('a.id', '=', 'p.account_id'),
    )
    .select(['p.transaction_id', 'a.code', 'p.amount_pence'])
    .where('p.place_id', '=', placeId)
    .where('p.transaction_id', 'in', transactionIds)
    .orderBy('p.transaction_id')
    .orderBy('p.leg')
    .execute();
  const byTransaction = new Map<number, { account: string; amount_pence: Pence }[]>();
  for (const r of rows) {
    const list = byTransaction.get(r.transaction_id) ?? [];
    list.push({ account: r.code, amount_pence: r.amount_pence });
    byTransaction.set(r.transaction_id, list);
  }
  return byTransaction;
}

export interface JournalTransaction {
  id: number;
  key: string;
  date: string;
  memo: string;
  kind: TransactionKind;
  recorded_at: Date;
  decision_id: number | null;
  reverses_id: number | null;
  reversed_by: number | null;
  postings: { account: string; amount_pence: Pence }[];
}

/** The journal in date order, a page at a time after `afterId`-style keyset paging. */
export async function journalPage(
  tx: Tx,
  placeId: number,
  options: {
    after?: { date: string; id: number };
    limit: number;
    offset?: number;
    newestFirst?: boolean;
    id?: number;
  },
): Promise<JournalTransaction[]> {
  let query = tx
    .selectFrom('ledger_transactions as t')
    .leftJoin('ledger_transactions as r', (j) =>
      j.onRef('r.place_id', '=', 't.place_id').onRef('r.reverses_id', '=', 't.id'),
    )
    .select([
      't.id',
      't.idempotency_key as key',
      't.effective_date as date',
      't.memo',
      't.kind',
      't.recorded_at',
      't.decision_id',
      't.reverses_id',
      'r.id as reversed_by',
    ])
    .where('t.place_id', '=', placeId);
  if (options.id !== undefined) query = query.where('t.id', '=', options.id);
  const after = options.after;
  if (after) {
    query = options.newestFirst
      ? query.where((eb) =>
          eb.or([
            eb('t.effective_date', '<', after.date),
            eb.and([eb('t.effective_date', '=', after.date), eb('t.id', '<', after.id)]),
          ]),
        )
      : query.where((eb) =>
          eb.or([
            eb('t.effective_date', '>', after.date),
            eb.and([eb('t.effective_date', '=', after.date), eb('t.id', '>', after.id)]),
          ]),
        );
  }
  const direction = options.newestFirst ? 'desc' : 'asc';
  const rows = await query
    .orderBy('t.effective_date', direction)
    .orderBy('t.id', direction)
    .limit(options.limit)
    .offset(options.offset ?? 0)
    .execute();
  const postings = rows.length
    ? await journalPostings(
        tx,
        placeId,
        rows.map((r) => r.id),
      )
    : new Map();
  return rows.map((r) => ({ ...r, postings: postings.get(r.id) ?? [] }));
}

/** Every transaction in date order, streamed in pages so a large journal never sits in memory. */
export async function* journal(tx: Tx, placeId: number): AsyncGenerator<JournalTransaction> {
  let after: { date: string; id: number } | undefined;
  for (;;) {
    const page = await journalPage(tx, placeId, { ...(after ? { after } : {}), limit: 1000 });
    yield* page;
    if (page.length < 1000) return;
    const last = page.at(-1)!;
    after = { date: last.date, id: last.id };
  }
}
