import { sql } from 'kysely';
import { inPlace } from '../src/core/db.ts';
import { createAccount } from '../src/ledger/accounts.ts';
import { listBalances } from '../src/ledger/postings.ts';
import { makePartner, makePlace } from '../test/support.ts';
import { openTestDatabase } from '../test/db.ts';
import { result, type Benchmark } from './types.ts';

const POSTINGS = Number(process.env.BENCH_LEDGER_POSTINGS ?? 1_000_000);
const ACCOUNTS = 200;
const CHUNK = 100_000;
const READS = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(reads: number, read: () => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < reads; i++) {
    const start = performance.now();
    await read();
    times.push(performance.now() - start);
  }
  return { median: Math.round(median(times) * 100) / 100, max: Math.round(Math.max(...times) * 100) / 100 };
}

/**
 * A place's balances with a million postings present: our lookup of the maintained balances
 * against summing the postings, which is what a ledger without maintained balances must do.
 */
const bench: Benchmark = {
  name: 'ledger-balance',
  description: `balances of a place with ${POSTINGS.toLocaleString('en-GB')} postings over ${ACCOUNTS} accounts, against re-summing the postings`,
  async run() {
    const db = await openTestDatabase();
    try {
      const placeId = await makePlace(db, 'bench');
      const partner = await makePartner(db, placeId, 'Bench partner');
      const first = await inPlace(db, placeId, async (tx) => {
        let firstId = 0;
        for (let i = 0; i < ACCOUNTS; i++) {
          const a = await createAccount(
            tx,
            placeId,
            {
              code: `A${String(i).padStart(3, '0')}`,
              name: `Account ${i}`,
              kind: i === 0 ? 'contribution' : 'pot',
              partner_id: i === 0 ? partner : null,
              service: null,
            },
            { personId: null },
          );
          if (i === 0) firstId = a.id;
        }
        return firstId;
      });
      // Two-leg transactions made in the database, through the same triggers as any posting.
      const loadStart = performance.now();
      for (let done = 0; done < POSTINGS / 2; done += CHUNK / 2) {
        await inPlace(db, placeId, async (tx) => {
          await sql`insert into ledger_transactions (place_id, id, idempotency_key, fingerprint, kind, effective_date)
                    select ${placeId}, g, 'gen-' || g, 'generated', 'general', date '2012-04-01' + (g % 365)::int
                    from generate_series(${done + 1}::bigint, ${done + CHUNK / 2}::bigint) g`.execute(tx);
          await sql`insert into ledger_postings (place_id, transaction_id, leg, account_id, amount_pence, effective_date)
                    select ${placeId}, g, l, ${first} + ((g * 7 + l * 13) % ${ACCOUNTS}), case l when 1 then 100 + g % 1000 else -(100 + g % 1000) end,
                           date '2012-04-01' + (g % 365)::int
                    from generate_series(${done + 1}::bigint, ${done + CHUNK / 2}::bigint) g, generate_series(1, 2) l`.execute(
            tx,
          );
        });
      }
      const loadSeconds = (performance.now() - loadStart) / 1000;
      await sql`analyze`.execute(db.kysely);

      const ours = await timed(READS, () => inPlace(db, placeId, (tx) => listBalances(tx, placeId)));
      const resum = await timed(Math.max(3, READS / 10), () =>
        inPlace(db, placeId, (tx) =>
          sql`select account_id, sum(amount_pence) from ledger_postings where place_id = ${placeId} group by account_id`.execute(
            tx,
          ),
        ),
      );
      return [
        result({
          name: 'ledger balances',
          unit: 'ms',
          value: ours.median,
          baseline: { name: 'sum of the postings', value: resum.median },
          higherIsBetter: false,
          target: { text: '< 50 ms', met: ours.median < 50 },
          engine: db.engine,
          details: {
            postings: POSTINGS,
            accounts: ACCOUNTS,
            ours,
            resum,
            load_s: Math.round(loadSeconds * 10) / 10,
          },
        }),
      ];
    } finally {
      await db.drop();
    }
  },
};

export default bench;
