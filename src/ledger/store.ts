import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import {
  balancedTransaction,
  COMMITMENT_SOURCES,
  fingerprint,
  modeOn,
  reversalPostings,
  riskSharePostings,
  throwIfAny,
  type AccountKind,
  type BalancedTransaction,
  type BudgetMode,
  type NewAccount,
  type NewAgreement,
  type TransactionKind,
} from './domain.ts';
import {
  assertPartnersOfPlace,
  decisionOfPlace,
  decisionsOfPlace,
  partnersOfPlace,
} from '../places/public.ts';
import { financialYearBounds, financialYearLabel, financialYearOf, todayIso } from '../core/dates.ts';

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

// ---- Pooled budgets and agreements --------------------------------------------------------

export interface ModeChange {
  financial_year: number;
  mode: BudgetMode;
  effective_from: string;
  decision_id: number | null;
  host_partner_id?: number | null;
}

/** Starts a year's pooled budget or switches its mode from a date; earlier modes stay as history. */
export async function setBudgetMode(tx: Tx, placeId: number, input: ModeChange, actor: Actor) {
  if (financialYearOf(input.effective_from) !== input.financial_year) {
    throw new Invalid('The date must fall in the financial year', {
      effective_from: `Enter a date in ${financialYearLabel(input.financial_year)}`,
    });
  }
  await tx
    .insertInto('ledger_budgets')
    .values({
      place_id: placeId,
      financial_year: input.financial_year,
      host_partner_id: input.host_partner_id ?? null,
    })
    .onConflict((oc) => oc.columns(['place_id', 'financial_year']).doNothing())
    .execute();
  if (input.host_partner_id) {
    await tx
      .updateTable('ledger_budgets')
      .set({ host_partner_id: input.host_partner_id })
      .where('place_id', '=', placeId)
      .where('financial_year', '=', input.financial_year)
      .execute();
  }
  const clash = await tx
    .selectFrom('ledger_budget_modes')
    .select('id')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .where('effective_from', '=', input.effective_from)
    .executeTakeFirst();
  if (clash)
    throw new Invalid('The budget already changes mode on that date', {
      effective_from: 'Choose another date',
    });
  await tx
    .insertInto('ledger_budget_modes')
    .values({
      place_id: placeId,
      financial_year: input.financial_year,
      mode: input.mode,
      effective_from: input.effective_from,
      decision_id: input.decision_id,
      recorded_by: actor.personId,
    })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.budget.mode',
    subject: `ledger_budget:${input.financial_year}`,
    detail: { ...input },
  });
}

export interface BudgetView {
  financial_year: number;
  host_partner: string | null;
  mode_today: BudgetMode | null;
  history: { mode: BudgetMode; effective_from: string; decision_id: number | null; recorded_at: Date }[];
}

export async function listBudgets(tx: Tx, placeId: number, today = todayIso()): Promise<BudgetView[]> {
  const budgets = await tx
    .selectFrom('ledger_budgets as b')
    .leftJoin('partners as p', (j) =>
      j.onRef('p.place_id', '=', 'b.place_id').onRef('p.id', '=', 'b.host_partner_id'),
    )
    .select(['b.financial_year', 'p.name as host_partner'])
    .where('b.place_id', '=', placeId)
    .orderBy('b.financial_year', 'desc')
    .execute();
  const modes = await tx
    .selectFrom('ledger_budget_modes')
    .select(['financial_year', 'mode', 'effective_from', 'decision_id', 'recorded_at'])
    .where('place_id', '=', placeId)
    .orderBy('effective_from')
    .execute();
  return budgets.map((b) => {
    const history = modes
      .filter((m) => m.financial_year === b.financial_year)
      .map(({ mode, effective_from, decision_id, recorded_at }) => ({
        mode,
        effective_from,
        decision_id,
        recorded_at,
      }));
    const { end } = financialYearBounds(b.financial_year);
    return { ...b, mode_today: modeOn(history, today < end ? today : end), history };
  });
}

export interface AgreementRow {
  id: number;
  financial_year: number;
  partner_id: number;
  partner: string;
  funding_stream: string;
  amount_pence: Pence;
  form: 'cash' | 'in_kind';
  ring_fence: string | null;
  host_partner: string | null;
  overspend_share_bp: number;
  underspend_share_bp: number;
  exit_terms: string;
  decision_id: number;
  decision_title: string;
  contribution_account: string;
}

export async function listAgreements(tx: Tx, placeId: number, year?: number): Promise<AgreementRow[]> {
  let query = tx
    .selectFrom('ledger_agreements as g')
    .innerJoin('partners as p', (j) =>
      j.onRef('p.place_id', '=', 'g.place_id').onRef('p.id', '=', 'g.partner_id'),
    )
    .leftJoin('partners as h', (j) =>
      j.onRef('h.place_id', '=', 'g.place_id').onRef('h.id', '=', 'g.host_partner_id'),
    )
    .innerJoin('decisions as d', (j) =>
      j.onRef('d.place_id', '=', 'g.place_id').onRef('d.id', '=', 'g.decision_id'),
    )
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'g.place_id').onRef('a.id', '=', 'g.contribution_account_id'),
    )
    .select([
      'g.id',
      'g.financial_year',
      'g.partner_id',
      'p.name as partner',
      'g.funding_stream',
      'g.amount_pence',
      'g.form',
      'g.ring_fence',
      'h.name as host_partner',
      'g.overspend_share_bp',
      'g.underspend_share_bp',
      'g.exit_terms',
      'g.decision_id',
      'd.title as decision_title',
      'a.code as contribution_account',
    ])
    .where('g.place_id', '=', placeId);
  if (year !== undefined) query = query.where('g.financial_year', '=', year);
  return query.orderBy('g.financial_year', 'desc').orderBy('p.name').orderBy('g.funding_stream').execute();
}

/** Records an agreement the board signed off; shares across a year's agreements stay within 100%. */
export async function addAgreement(
  tx: Tx,
  placeId: number,
  input: NewAgreement,
  actor: Actor,
): Promise<AgreementRow> {
  const fields: FieldErrors = {};
  const budget = await tx
    .selectFrom('ledger_budgets')
    .select('financial_year')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .executeTakeFirst();
  if (!budget)
    fields.financial_year = `Start the pooled budget for ${financialYearLabel(input.financial_year)} first`;
  const partnerIds = [input.partner_id, input.host_partner_id].filter((x): x is number => x !== null);
  const partners = await partnersOfPlace(tx, placeId, partnerIds);
  if (!partners.has(input.partner_id)) fields.partner_id = 'Select a partner of this place';
  if (input.host_partner_id && !partners.has(input.host_partner_id))
    fields.host_partner_id = 'Select a partner of this place';
  const decision = await decisionOfPlace(tx, placeId, input.decision_id);
  if (!decision) fields.decision_id = 'Select a board decision of this place';
  else if (!decision.agreed_at) fields.decision_id = 'The decision has not been agreed by the board yet';
  const account = await tx
    .selectFrom('ledger_accounts')
    .select(['id', 'kind', 'partner_id'])
    .where('place_id', '=', placeId)
    .where('code', '=', input.contribution_account)
    .executeTakeFirst();
  if (!account || account.kind !== 'contribution' || account.partner_id !== input.partner_id) {
    fields.contribution_account = 'Enter the code of this partner’s contribution account';
  }
  const totals = await tx
    .selectFrom('ledger_agreements')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('overspend_share_bp'), eb.lit(0)).as('over'),
      eb.fn.coalesce(eb.fn.sum<number>('underspend_share_bp'), eb.lit(0)).as('under'),
    ])
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .executeTakeFirstOrThrow();
  if (Number(totals.over) + input.overspend_share_bp > 10_000)
    fields.overspend_share_bp = `Overspend shares would total more than 100%: ${Number(totals.over) / 100}% is already agreed`;
  if (Number(totals.under) + input.underspend_share_bp > 10_000)
    fields.underspend_share_bp = `Underspend shares would total more than 100%: ${Number(totals.under) / 100}% is already agreed`;
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the agreement', fields);
  const { contribution_account: _code, ...rest } = input;
  const row = await tx
    .insertInto('ledger_agreements')
    .values({ place_id: placeId, ...rest, contribution_account_id: account!.id })
    .onConflict((oc) =>
      oc.columns(['place_id', 'financial_year', 'partner_id', 'funding_stream']).doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  if (!row)
    throw new Invalid('There is a problem with the agreement', {
      funding_stream: 'This partner already has an agreement for that funding stream this year',
    });
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.agreement.add',
    subject: `ledger_agreement:${row.id}`,
    detail: { ...input },
  });
  return (await listAgreements(tx, placeId, input.financial_year)).find((a) => a.id === row.id)!;
}

// ---- Period close ---------------------------------------------------------------------------

export interface PeriodView {
  financial_year: number;
  closed: boolean;
  events: { action: 'close' | 'reopen'; decision_id: number | null; recorded_at: Date }[];
}

export async function listPeriods(tx: Tx, placeId: number): Promise<PeriodView[]> {
  const periods = await tx
    .selectFrom('ledger_periods')
    .select(['financial_year', 'closed'])
    .where('place_id', '=', placeId)
    .orderBy('financial_year', 'desc')
    .execute();
  const events = await tx
    .selectFrom('ledger_period_events')
    .select(['financial_year', 'action', 'decision_id', 'recorded_at'])
    .where('place_id', '=', placeId)
    .orderBy('id')
    .execute();
  return periods.map((p) => ({
    ...p,
    events: events
      .filter((e) => e.financial_year === p.financial_year)
      .map(({ action, decision_id, recorded_at }) => ({ action, decision_id, recorded_at })),
  }));
}

async function lockPeriod(tx: Tx, placeId: number, year: number) {
  await tx
    .insertInto('ledger_periods')
    .values({ place_id: placeId, financial_year: year })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return tx
    .selectFrom('ledger_periods')
    .select('closed')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export interface CloseResult {
  financial_year: number;
  risk_share: { allocation: string; balance_pence: Pence; transaction_id: number }[];
}

/**
 * The risk-share transactions closing the year would post now: each allocation's balance at
 * 31 March split by the agreements. Read-only, so the close page can show them before the close.
 */
export async function riskShareDrafts(tx: Tx, placeId: number, year: number): Promise<BalancedTransaction[]> {
  const { end } = financialYearBounds(year);
  const accounts = await listAccounts(tx, placeId);
  const balances = new Map((await listBalances(tx, placeId, end)).map((b) => [b.account, b.balance_pence]));
  const reinvestment = accounts.find((a) => a.kind === 'reinvestment');
  const agreements = (await listAgreements(tx, placeId, year)).map((a) => ({
    partnerId: a.partner_id,
    contributionAccount: a.contribution_account,
    overspendBp: a.overspend_share_bp,
    underspendBp: a.underspend_share_bp,
  }));
  const closes = await tx
    .selectFrom('ledger_period_events')
    .select('id')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .where('action', '=', 'close')
    .execute();
  return accounts
    .filter((a) => a.kind === 'allocation' && balances.get(a.code))
    .map((a) => {
      if (!reinvestment)
        throw new Invalid(
          'Add a savings reinvestment account before closing the year: it receives what partners do not take',
        );
      const postings = riskSharePostings(
        { account: a.code, balance: balances.get(a.code)! },
        agreements,
        reinvestment.code,
      )!;
      return balancedTransaction({
        key: `close-${year}-${closes.length + 1}-${a.code}`,
        date: end,
        memo: `Risk share of ${a.name} ${balances.get(a.code)! > 0 ? 'underspend' : 'overspend'}, ${financialYearLabel(year)}`,
        postings,
      });
    });
}

/**
 * Closes a financial year: each allocation's over- or underspend at 31 March is split between
 * partners by their agreements' risk shares (the rest to the savings reinvestment account),
 * posted on 31 March, and the year then takes no more postings.
 */
export async function closePeriod(tx: Tx, placeId: number, year: number, actor: Actor): Promise<CloseResult> {
  const period = await lockPeriod(tx, placeId, year);
  if (period.closed) throw new Conflict(`${financialYearLabel(year)} is already closed`);
  const drafts = await riskShareDrafts(tx, placeId, year);
  const posted = drafts.length
    ? await postTransactions(tx, placeId, drafts, { kind: 'risk_share', actor })
    : [];
  await tx
    .updateTable('ledger_periods')
    .set({ closed: true })
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .execute();
  await tx
    .insertInto('ledger_period_events')
    .values({ place_id: placeId, financial_year: year, action: 'close', recorded_by: actor.personId })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.period.close',
    subject: `ledger_period:${year}`,
    detail: { risk_share_transactions: posted.length },
  });
  return {
    financial_year: year,
    risk_share: drafts.map((d, i) => ({
      allocation: d.postings[0]!.account,
      balance_pence: pence(-d.postings[0]!.amount_pence),
      transaction_id: posted[i]!.id,
    })),
  };
}

/**
 * Re-opens a closed year. Only an agreed board decision made to re-open this very year
 * (kind `period_reopen`, naming the year) can, and each such decision re-opens it once (a unique
 * index on the re-open events backs this). The decision is recorded.
 */
export async function reopenPeriod(tx: Tx, placeId: number, year: number, decisionId: number, actor: Actor) {
  const period = await lockPeriod(tx, placeId, year);
  if (!period.closed) throw new Conflict(`${financialYearLabel(year)} is not closed`);
  const decision = await decisionOfPlace(tx, placeId, decisionId);
  if (!decision)
    throw new Invalid('Select the board decision that re-opens the year', {
      decision_id: 'Select a board decision of this place',
    });
  if (decision.kind !== 'period_reopen' || decision.financial_year !== year)
    throw new Invalid(`The decision was not made to re-open ${financialYearLabel(year)}`, {
      decision_id: `Select a board decision to re-open ${financialYearLabel(year)}`,
    });
  if (!decision.agreed_at)
    throw new Invalid('The decision has not been agreed by the board yet', {
      decision_id: 'The decision has not been agreed by the board yet',
    });
  const used = await tx
    .selectFrom('ledger_period_events')
    .select('id')
    .where('place_id', '=', placeId)
    .where('decision_id', '=', decisionId)
    .where('action', '=', 'reopen')
    .executeTakeFirst();
  if (used)
    throw new Invalid('That decision has already re-opened the year once', {
      decision_id: 'A decision re-opens a year once: the board must decide again',
    });
  await tx
    .updateTable('ledger_periods')
    .set({ closed: false })
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .execute();
  await tx
    .insertInto('ledger_period_events')
    .values({
      place_id: placeId,
      financial_year: year,
      action: 'reopen',
      decision_id: decisionId,
      recorded_by: actor.personId,
    })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.period.reopen',
    subject: `ledger_period:${year}`,
    detail: { decision_id: decisionId },
  });
}
