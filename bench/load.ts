import autocannon from 'autocannon';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { SESSION_COOKIE } from '../src/auth/domain.ts';
import { createSession } from '../src/auth/store.ts';
import { loadConfig } from '../src/core/config.ts';
import { inSystem } from '../src/core/db.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { openTestDatabase, type TestDatabase } from '../test/db.ts';
import { result, type Benchmark } from './types.ts';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = 20;
const PLACE = 'essex';

interface Mixed {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** Builds a fresh body for each request (unique idempotency keys). */
  body?: () => string;
}

async function sessionHeaders(db: TestDatabase, email: string): Promise<Record<string, string>> {
  const person = await db.kysely
    .selectFrom('people')
    .select('id')
    .where('email', '=', email)
    .executeTakeFirstOrThrow();
  const { token, csrfToken } = await createSession(db, person.id, 2);
  return {
    cookie: `${SESSION_COOKIE}=${token}`,
    'x-csrf-token': csrfToken,
    'content-type': 'application/json',
  };
}

async function getJson<T>(base: string, path: string, headers: Record<string, string>): Promise<T> {
  const res = await fetch(base + path, { headers });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const PB_PLACE = 'ilfracombe';

/**
 * A resident casting (and, every time after the first, replacing) a ballot in the demo
 * neighbourhood's open participatory budget: up to three of its eligible proposals.
 */
async function ballotCasts(base: string, db: TestDatabase): Promise<Mixed[]> {
  const resident = await sessionHeaders(db, 'resident@placebudget.example');
  const read = { cookie: resident.cookie! };
  const processes = await getJson<{ id: number; phase: string }[]>(
    base,
    `/api/v1/places/${PB_PLACE}/pb/processes`,
    read,
  );
  const open = processes.find((p) => p.phase === 'voting');
  if (!open) throw new Error(`the demo has no ${PB_PLACE} process open for voting`);
  const { proposals } = await getJson<{ proposals: { id: number; review: string }[] }>(
    base,
    `/api/v1/places/${PB_PLACE}/pb/processes/${open.id}`,
    read,
  );
  const projects = proposals.filter((p) => p.review === 'eligible').map((p) => String(p.id));
  if (projects.length === 0) throw new Error('the open process has no eligible proposal to vote for');
  let cast = 0;
  const ballot = () =>
    JSON.stringify({ projects: [projects[cast++ % projects.length]!], postcode: 'EX34 8AB', of_age: true });
  return [
    {
      method: 'POST',
      path: `/api/v1/places/${PB_PLACE}/pb/processes/${open.id}/ballots`,
      headers: resident,
      body: ballot,
    },
  ];
}

/**
 * The mixed workload a place sees: members reading dashboards and the place, finance posting
 * balanced journal transactions (each with its own idempotency key), key workers reading family
 * records (each read audited), and residents casting PB ballots.
 */
async function workload(base: string, db: TestDatabase): Promise<Mixed[]> {
  const admin = await sessionHeaders(db, 'admin@placebudget.example');
  const finance = await sessionHeaders(db, 'finance@placebudget.example');
  const keyWorker = await sessionHeaders(db, 'keyworker@placebudget.example');
  const analyst = await sessionHeaders(db, 'analyst@placebudget.example');
  const read = (h: Record<string, string>) => ({ cookie: h.cookie! });

  const accounts = await getJson<{ code: string; kind: string }[]>(
    base,
    `/api/v1/places/${PLACE}/ledger/accounts`,
    read(finance),
  );
  const [from, to] = [
    accounts.find((a) => a.kind === 'pot'),
    accounts.find((a) => a.kind !== 'pot' && a.kind !== 'contribution'),
  ];
  if (!from || !to) throw new Error('the demo ledger has no pot and spend account to post between');
  let posted = 0;
  const post = () =>
    JSON.stringify({
      transactions: [
        {
          key: `load-${process.pid}-${++posted}`,
          date: '2012-09-01',
          memo: 'load test journal',
          postings: [
            { account: to.code, amount_pence: 1 + (posted % 997) },
            { account: from.code, amount_pence: -(1 + (posted % 997)) },
          ],
        },
      ],
    });
  const families = await getJson<{ id: number }[]>(base, `/api/v1/places/${PLACE}/families`, read(keyWorker));
  if (families.length === 0) throw new Error('the key worker can see no demo family');

  return [
    { method: 'GET', path: `/api/v1/places/${PLACE}/dashboard`, headers: read(analyst) },
    { method: 'GET', path: `/places/${PLACE}/dashboard`, headers: read(admin) },
    { method: 'GET', path: `/api/v1/places/${PLACE}`, headers: read(admin) },
    { method: 'POST', path: `/api/v1/places/${PLACE}/ledger/transactions`, headers: finance, body: post },
    ...families.slice(0, 3).map((f): Mixed => ({
      method: 'GET',
      path: `/api/v1/places/${PLACE}/families/${f.id}`,
      headers: read(keyWorker),
    })),
    ...(await ballotCasts(base, db)),
  ];
}

interface Figures {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  status5xx: number;
}

async function hammer(base: string, mix: Mixed[]): Promise<Figures> {
  const r = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: mix.map((m) => ({
      method: m.method,
      path: m.path,
      headers: m.headers,
      ...(m.body ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: m.body!() }) } : {}),
    })),
  });
  return {
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    status5xx: r['5xx'],
  };
}

/** Every transaction balances, the trial balance is zero, and balances equal the postings. */
async function ledgerChecks(db: TestDatabase) {
  return inSystem(db, async (tx) => ({
    unbalanced: (
      await sql`select transaction_id from ledger_postings group by place_id, transaction_id having sum(amount_pence) <> 0`.execute(
        tx,
      )
    ).rows.length,
    trial_balance_pence: Number(
      (
        await sql<{
          s: string;
        }>`select coalesce(sum(balance_pence), 0)::text as s from ledger_balances`.execute(tx)
      ).rows[0]!.s,
    ),
    drift: (
      await sql`select b.account_id from ledger_balances b left join (select place_id, account_id, sum(amount_pence) s from ledger_postings group by place_id, account_id) p using (place_id, account_id) where b.balance_pence <> coalesce(p.s, 0)`.execute(
        tx,
      )
    ).rows.length,
    load_transactions: Number(
      (
        await sql<{
          n: string;
        }>`select count(*)::text as n from ledger_transactions where idempotency_key like ${'load-%'}`.execute(
          tx,
        )
      ).rows[0]!.n,
    ),
  }));
}

/**
 * The mixed workload for a bounded time with autocannon on loopback, against a bare Fastify
 * server answering the same paths with a fixed small JSON body in the same run.
 */
const bench: Benchmark = {
  name: 'load',
  description: `mixed workload (dashboards, ledger posts, key-worker family reads) with autocannon, ${CONNECTIONS} connections, ${DURATION_S}s, on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite (set DATABASE_URL for PostgreSQL)'}`,
  async run() {
    const db = await openTestDatabase();
    const app = await buildApp({ db, config: { ...loadConfig(), secureCookies: false } });
    const bare = Fastify();
    try {
      await seedDemo(db);
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const mix = await workload(base, db);

      bare.all('/*', async (_req, reply) => reply.type('application/json').send('{"ok":true}'));
      const bareBase = await bare.listen({ port: 0, host: '127.0.0.1' });
      const baseline = await hammer(bareBase, mix);
      const measured = await hammer(base, mix);
      const ledger = await ledgerChecks(db);

      const sound =
        measured.status5xx === 0 &&
        measured.errors === 0 &&
        ledger.unbalanced === 0 &&
        ledger.trial_balance_pence === 0 &&
        ledger.drift === 0;
      return [
        result({
          name: 'mixed load',
          unit: 'requests/s',
          value: measured.rps,
          baseline: { name: 'bare Fastify, fixed JSON, same requests', value: baseline.rps },
          higherIsBetter: true,
          target: { text: 'zero 5xx, zero errors, ledger balanced afterwards', met: sound },
          engine: db.engine,
          details: {
            ours: measured,
            bare: baseline,
            ledger,
            connections: CONNECTIONS,
            seconds: DURATION_S,
            mix: mix.map((m) => `${m.method} ${m.path}`),
          },
        }),
      ];
    } finally {
      await bare.close();
      await app.close();
      await db.drop();
    }
  },
};

export default bench;
