import { inPlace, inSystem } from '../src/core/db.ts';
import { balancedTransaction, type BalancedTransaction } from '../src/ledger/domain.ts';
import { createAccount } from '../src/ledger/accounts.ts';
import { postTransactions } from '../src/ledger/postings.ts';
import { makePartner, makePlace } from '../test/support.ts';
import { openTestDatabase } from '../test/db.ts';
import { result, type Benchmark } from './types.ts';

const BATCHES = Number(process.env.BENCH_LEDGER_BATCHES ?? 20);
const BATCH_SIZE = 500;
const ACCOUNTS = 20;

/** Deterministic pseudo-random numbers, so every run posts the same transactions. */
function lcg(seed: number) {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

function batches(): BalancedTransaction[][] {
  const random = lcg(42);
  let n = 0;
  return Array.from({ length: BATCHES }, () =>
    Array.from({ length: BATCH_SIZE }, () => {
      const legs = 2 + Math.floor(random() * 3);
      const postings = Array.from({ length: legs - 1 }, () => ({
        account: `A${Math.floor(random() * ACCOUNTS)}`,
        amount_pence: 1 + Math.floor(random() * 1_000_000),
      }));
      postings.push({
        account: `A${Math.floor(random() * ACCOUNTS)}`,
        amount_pence: -postings.reduce((s, p) => s + p.amount_pence, 0),
      });
      n += 1;
      return balancedTransaction({ key: `bench-${n}`, date: '2012-06-01', memo: `bench ${n}`, postings });
    }),
  );
}

type BareTables = {
  bare_transactions: {
    place_id: number;
    id: number;
    idempotency_key: string;
    effective_date: string;
    memo: string;
  };
  bare_postings: {
    place_id: number;
    transaction_id: number;
    leg: number;
    account_id: number;
    amount_pence: number;
    effective_date: string;
  };
};

/**
 * Our path (validation, idempotency keys, the balance check and balance maintenance in the
 * postings trigger, the audit entry, row-level security) against inserting the very same rows
 * into bare tables with plain multi-row INSERTs, batch for batch, in the same run.
 */
const bench: Benchmark = {
  name: 'ledger-post',
  description: `${BATCHES} batches of ${BATCH_SIZE} balanced 2–4 leg transactions, against plain multi-row INSERTs into bare tables`,
  async run() {
    const db = await openTestDatabase();
    try {
      const placeId = await makePlace(db, 'bench');
      const partner = await makePartner(db, placeId, 'Bench partner');
      const ids = new Map<string, number>();
      await inPlace(db, placeId, async (tx) => {
        for (let i = 0; i < ACCOUNTS; i++) {
          const a = await createAccount(
            tx,
            placeId,
            {
              code: `A${i}`,
              name: `Account ${i}`,
              kind: i === 0 ? 'contribution' : 'pot',
              partner_id: i === 0 ? partner : null,
              service: null,
            },
            { personId: null },
          );
          ids.set(a.code, a.id);
        }
      });
      await db.script(`
        create table bare_transactions (place_id bigint, id bigint, idempotency_key text, effective_date date, memo text, primary key (place_id, id));
        create table bare_postings (place_id bigint, transaction_id bigint, leg smallint, account_id bigint, amount_pence bigint, effective_date date, primary key (place_id, transaction_id, leg));`);
      const work = batches();
      const total = BATCHES * BATCH_SIZE;

      let nextId = 0;
      let baselineMs = 0;
      let oursMs = 0;
      // Batch for batch, alternating, so a busy machine slows both sides alike.
      for (const batch of work) {
        const baselineStart = performance.now();
        await inSystem(db, async (tx) => {
          const bare = tx.withTables<BareTables>();
          const rows = batch.map((t) => ({ t, id: ++nextId }));
          await bare
            .insertInto('bare_transactions')
            .values(
              rows.map(({ t, id }) => ({
                place_id: placeId,
                id,
                idempotency_key: t.key,
                effective_date: t.date,
                memo: t.memo,
              })),
            )
            .execute();
          await bare
            .insertInto('bare_postings')
            .values(
              rows.flatMap(({ t, id }) =>
                t.postings.map((p, leg) => ({
                  place_id: placeId,
                  transaction_id: id,
                  leg: leg + 1,
                  account_id: ids.get(p.account)!,
                  amount_pence: p.amount_pence,
                  effective_date: t.date,
                })),
              ),
            )
            .execute();
        });
        const oursStart = performance.now();
        await inPlace(db, placeId, (tx) =>
          postTransactions(tx, placeId, batch, { actor: { personId: null } }),
        );
        oursMs += performance.now() - oursStart;
        baselineMs += oursStart - baselineStart;
      }
      const oursSeconds = oursMs / 1000;
      const baselineSeconds = baselineMs / 1000;

      const value = Math.round(total / oursSeconds);
      const baseline = Math.round(total / baselineSeconds);
      const ratio = value / baseline;
      return [
        result({
          name: 'ledger post',
          unit: 'transactions/s',
          value,
          baseline: { name: 'plain multi-row INSERT into bare tables', value: baseline },
          higherIsBetter: true,
          target: { text: 'ratio >= 0.5', met: ratio >= 0.5 },
          engine: db.engine,
          details: {
            transactions: total,
            postings: work.flat().reduce((n, t) => n + t.postings.length, 0),
            batch_size: BATCH_SIZE,
            ours_s: oursSeconds,
            baseline_s: baselineSeconds,
          },
        }),
      ];
    } finally {
      await db.drop();
    }
  },
};

export default bench;
