import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { balancedTransaction, COMMITMENT_SOURCES, type Actor, type BalancedTransaction } from './domain.ts';
import { accountByCode, accountCode } from './accounts.ts';
import { postOne } from './postings.ts';

// Commitments: raised against a pot or an allocation, listed, spent and released.

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
  const earlier = await commitmentOfKey(tx, placeId, input.key);
  if (earlier !== undefined) {
    if (!earlier) throw new Conflict(`Key ${input.key} was already used for a different transaction`);
    return findCommitment(tx, placeId, earlier);
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

type LockedCommitment = Awaited<ReturnType<typeof lockCommitment>>;

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

/**
 * The commitment an earlier transaction with this key belongs to: undefined if the key is new,
 * null if it was used for a transaction of no commitment.
 */
async function commitmentOfKey(tx: Tx, placeId: number, key: string): Promise<number | null | undefined> {
  const earlier = await tx
    .selectFrom('ledger_transactions')
    .select('commitment_id')
    .where('place_id', '=', placeId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
  return earlier?.commitment_id;
}

/** Was this key used already for this commitment? Then the first answer stands. */
async function alreadyDone(tx: Tx, placeId: number, key: string, commitmentId: number): Promise<boolean> {
  const earlier = await commitmentOfKey(tx, placeId, key);
  if (earlier === undefined) return false;
  if (earlier !== commitmentId) throw new Conflict(`Key ${key} was already used for a different transaction`);
  return true;
}

function assertWithinOutstanding(amount: number, c: LockedCommitment) {
  if (amount > c.outstanding) {
    throw new Invalid(
      'Only {outstanding} of this commitment is outstanding',
      { amount_pence: 'Enter at most {outstanding}, what is still outstanding' },
      { outstanding: c.outstanding },
    );
  }
}

/**
 * Spending and releasing move money out of a commitment the same way: with the commitment locked
 * and a repeated key answered by the first result, the move `plan` checks and builds is counted
 * on the commitment and posted in the same database transaction.
 */
async function moveOutOfCommitment(
  tx: Tx,
  placeId: number,
  move: { commitmentId: number; key: string; kind: 'commitment_spend' | 'commitment_release'; actor: Actor },
  plan: (c: LockedCommitment) => Promise<{
    transaction: BalancedTransaction;
    counted: { spent_pence: number } | { released_pence: number };
  }>,
): Promise<CommitmentRow> {
  const { commitmentId } = move;
  const c = await lockCommitment(tx, placeId, commitmentId);
  if (await alreadyDone(tx, placeId, move.key, commitmentId))
    return findCommitment(tx, placeId, commitmentId);
  const { transaction, counted } = await plan(c);
  await tx
    .updateTable('ledger_commitments')
    .set(counted)
    .where('place_id', '=', placeId)
    .where('id', '=', commitmentId)
    .execute();
  await postOne(tx, placeId, transaction, { kind: move.kind, commitmentId, actor: move.actor });
  return findCommitment(tx, placeId, commitmentId);
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
  const move = { commitmentId, key: input.key, kind: 'commitment_spend', actor } as const;
  return moveOutOfCommitment(tx, placeId, move, async (c) => {
    const spend = await accountByCode(tx, placeId, input.spend_account, 'spend_account');
    if (spend.kind !== 'spend')
      throw new Invalid('Spend goes to a spend account', { spend_account: 'Select a spend account' });
    assertWithinOutstanding(input.amount_pence, c);
    const transaction = balancedTransaction({
      key: input.key,
      date: input.date,
      memo: input.memo,
      postings: [
        { account: spend.code, amount_pence: input.amount_pence },
        {
          account: await accountCode(tx, placeId, c.commitment_account_id),
          amount_pence: -input.amount_pence,
        },
      ],
    });
    return { transaction, counted: { spent_pence: c.spent_pence + input.amount_pence } };
  });
}

/** Releases what is left of a commitment (or part of it) back to the pot or allocation it drew on. */
export async function releaseCommitment(
  tx: Tx,
  placeId: number,
  commitmentId: number,
  input: { key: string; date: string; amount_pence?: Pence; memo?: string },
  actor: Actor,
): Promise<CommitmentRow> {
  const move = { commitmentId, key: input.key, kind: 'commitment_release', actor } as const;
  return moveOutOfCommitment(tx, placeId, move, async (c) => {
    const amount = input.amount_pence ?? c.outstanding;
    if (c.outstanding === 0)
      throw new Invalid('Nothing is outstanding on this commitment', {
        amount_pence: 'Nothing is left to release',
      });
    assertWithinOutstanding(amount, c);
    const transaction = balancedTransaction({
      key: input.key,
      date: input.date,
      memo: input.memo ?? 'Commitment released',
      postings: [
        { account: await accountCode(tx, placeId, c.source_account_id), amount_pence: amount },
        { account: await accountCode(tx, placeId, c.commitment_account_id), amount_pence: -amount },
      ],
    });
    return { transaction, counted: { released_pence: c.released_pence + amount } };
  });
}
