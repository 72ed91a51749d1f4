import autocannon from 'autocannon';
import Fastify from 'fastify';
import { buildApp } from '../src/app.ts';
import { createSession } from '../src/auth/store.ts';
import { SESSION_COOKIE } from '../src/auth/domain.ts';
import { loadConfig } from '../src/core/config.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { openTestDatabase } from '../test/db.ts';
import { result, type Benchmark } from './types.ts';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;

async function load(url: string, headers: Record<string, string> = {}) {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/**
 * A signed-in read of a place (session lookup, membership check, a row-level-secured
 * transaction, four queries, JSON schema serialisation) against a bare Fastify route that
 * returns the very same JSON from memory.
 */
const bench: Benchmark = {
  name: 'http',
  description: `GET /api/v1/places/essex with autocannon, ${CONNECTIONS} connections, ${DURATION_S}s, against a bare Fastify route`,
  async run() {
    const db = await openTestDatabase();
    const config = { ...loadConfig(), secureCookies: false };
    const app = await buildApp({ db, config });
    try {
      const { login } = await seedDemo(db);
      const admin = await db.kysely
        .selectFrom('people')
        .select('id')
        .where('email', '=', login.email)
        .executeTakeFirstOrThrow();
      const { token } = await createSession(db, admin.id, 1);
      const ours = await app.listen({ port: 0, host: '127.0.0.1' });
      const headers = { cookie: `${SESSION_COOKIE}=${token}` };
      const body = await (await fetch(`${ours}/api/v1/places/essex`, { headers })).text();

      const bare = Fastify();
      bare.get('/api/v1/places/essex', async (_req, reply) => reply.type('application/json').send(body));
      const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

      const baseline = await load(`${bareUrl}/api/v1/places/essex`);
      const measured = await load(`${ours}/api/v1/places/essex`, headers);
      await bare.close();
      return [
        result({
          name: 'http place read',
          unit: 'requests/s',
          value: measured.rps,
          baseline: { name: 'bare Fastify, same JSON', value: baseline.rps },
          higherIsBetter: true,
          engine: db.engine,
          details: { ours: measured, bare: baseline, connections: CONNECTIONS, seconds: DURATION_S },
        }),
      ];
    } finally {
      await app.close();
      await db.drop();
    }
  },
};

export default bench;
