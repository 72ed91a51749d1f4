import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { AUDIT_CHAIN_LOCK } from '../src/audit/store.ts';
import { SESSION_COOKIE } from '../src/auth/domain.ts';
import { createSession } from '../src/auth/store.ts';
import { inPlace, type Database } from '../src/core/db.ts';
import { accessCodeHash, voterOfCode } from '../src/pb/domain.ts';
import { listProcesses } from '../src/pb/process-store.ts';
import { seedDemo } from '../src/demo/seed.ts';
import { REPO_ROOT, runCli } from './cli.ts';
import { SYNTHETIC_FIXTURES } from './fixtures.ts';
import { engineName, openTestDatabase, type TestDatabase } from './db.ts';
import { makePartner, makePlace, startTestApp, type TestApp } from './support.ts';

const SPEND_FILE = SYNTHETIC_FIXTURES.purchaseCards2021;
const SPEND_ROWS = 300;
const onPostgres = Boolean(process.env.DATABASE_URL);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Holds the audit chain's lock from another connection, so a transaction that reaches its audit
 * entry (the last thing every import and close does) waits there, with all its rows written:
 * killing the process then is killing it mid-transaction, every time.
 */
async function holdAuditChain(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query('select pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
  return {
    async waitForWaiter(child: ChildProcess) {
      for (let i = 0; i < 1200; i++) {
        const { rows } = await client.query<{ n: string }>(
          `select count(*)::text as n from pg_locks where locktype = 'advisory' and not granted`,
        );
        if (Number(rows[0]!.n) > 0) return;
        if (child.exitCode !== null) throw new Error('the child finished before reaching the audit entry');
        await sleep(100);
      }
      throw new Error('the child never reached the audit entry');
    },
    async release() {
      await client.query('rollback');
      await client.end();
    },
  };
}

/**
 * Runs `args` in a child process and SIGKILLs it mid-transaction: on PostgreSQL while it waits at
 * its audit entry; on PGlite (one process owns the folder, so nothing can hold it back) at a
 * moment `pickMoment` chooses, somewhere in its work.
 */
async function killMidway(db: TestDatabase, args: string[], pickMoment: () => Promise<void>) {
  const lock = onPostgres ? await holdAuditChain(db.env.DATABASE_URL!) : null;
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...db.env },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    if (lock) await lock.waitForWaiter(child);
    else await pickMoment();
    child.kill('SIGKILL');
    await exited;
  } finally {
    await lock?.release();
  }
}

async function count(db: Database, placeId: number, query: string): Promise<number> {
  return inPlace(db, placeId, async (tx) =>
    Number((await sql<{ n: string }>`${sql.raw(query)}`.execute(tx)).rows[0]!.n),
  );
}

describe(`kill -9 in the middle of an import, a year close and ballot casting, on ${engineName}`, () => {
  let db: TestDatabase;
  let essex: number;
  let warwickshire: number;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    await seedDemo(db);
    essex = (
      await db.kysely.selectFrom('places').select('id').where('slug', '=', 'essex').executeTakeFirstOrThrow()
    ).id;
    warwickshire = await makePlace(db, 'warwickshire');
    await makePartner(db, warwickshire, 'Warwickshire County Council');
    await db.close();
  });
  after(() => db.drop());

  /** Opens the database for a look, and closes it again so the next child process can open it. */
  async function look<T>(work: (db: Database) => Promise<T>): Promise<T> {
    const opened = await db.reopen();
    try {
      return await work(opened);
    } finally {
      await opened.close();
    }
  }

  const auditVerifies = async () => {
    const verified = await runCli(['audit', 'verify'], db.env);
    assert.equal(verified.status, 0, `audit verify: ${verified.stdout}${verified.stderr}`);
  };

  it('leaves a spend import all there or not there at all, and the same file imports cleanly afterwards', async () => {
    await killMidway(
      db,
      [path.join(REPO_ROOT, 'bin/placebudget.js'), 'spend', 'import', '--place', 'warwickshire', SPEND_FILE],
      () => sleep(1500 + Math.random() * 2500),
    );
    const [imports, lines] = await look((d) =>
      Promise.all([
        count(d, warwickshire, 'select count(*)::text as n from spend_imports'),
        count(d, warwickshire, 'select count(*)::text as n from spend_lines'),
      ]),
    );
    if (onPostgres)
      assert.deepEqual([imports, lines], [0, 0], 'killed before commit: nothing of the import remains');
    else
      assert.ok(
        (imports === 0 && lines === 0) || (imports === 1 && lines === SPEND_ROWS),
        `half an import: ${imports} imports, ${lines} lines`,
      );
    await auditVerifies();

    const again = await runCli(['spend', 'import', '--place', 'warwickshire', '--json', SPEND_FILE], db.env);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).rows, SPEND_ROWS);
    assert.deepEqual(
      await look((d) =>
        Promise.all([
          count(d, warwickshire, 'select count(*)::text as n from spend_imports'),
          count(d, warwickshire, 'select count(*)::text as n from spend_lines'),
        ]),
      ),
      [1, SPEND_ROWS],
    );
    await auditVerifies();
  });

  it('leaves a year either open with no risk-share postings or closed with all of them, and the close completes afterwards', async () => {
    const ledgerState = (d: Database) =>
      Promise.all([
        count(d, essex, `select count(*)::text as n from ledger_transactions`),
        count(
          d,
          essex,
          `select count(*)::text as n from ledger_periods where financial_year = 2012 and closed`,
        ),
        count(d, essex, `select coalesce(sum(balance_pence), 0)::text as n from ledger_balances`),
      ]);
    const [before, closedBefore] = await look(ledgerState);
    assert.equal(closedBefore, 0, 'the demo leaves 2012/13 open for closing');

    await killMidway(
      db,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/close-period-child.ts'), 'essex', '2012'],
      () => sleep(1500 + Math.random() * 1500),
    );
    const [afterKill, closedAfterKill, trialAfterKill] = await look(ledgerState);
    assert.equal(trialAfterKill, 0, 'the trial balance is zero');
    if (onPostgres || closedAfterKill === 0)
      assert.deepEqual(
        [afterKill, closedAfterKill],
        [before, 0],
        'killed before commit: still open, no risk-share postings',
      );
    else assert.ok(afterKill > before, 'closed, with its risk-share postings');
    await auditVerifies();

    if (closedAfterKill === 0) {
      const closed = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(REPO_ROOT, 'test/close-period-child.ts'), 'essex', '2012'],
        { cwd: REPO_ROOT, env: { ...process.env, ...db.env }, encoding: 'utf8' },
      );
      assert.equal(closed.status, 0, closed.stderr);
    }
    const [afterClose, closedAfterClose, trial] = await look(ledgerState);
    assert.equal(closedAfterClose, 1);
    assert.ok(afterClose > before, 'the close posted the risk share');
    assert.equal(trial, 0);
    await auditVerifies();
  });

  it('keeps every ballot it accepted, and no half-cast ballot, when the process casting them is killed', async () => {
    const ilfracombe = await look(
      async (d) =>
        (
          await d.kysely
            .selectFrom('places')
            .select('id')
            .where('slug', '=', 'ilfracombe')
            .executeTakeFirstOrThrow()
        ).id,
    );
    const ballots = (d: Database) =>
      inPlace(d, ilfracombe, async (tx) => {
        const open = (await listProcesses(tx, ilfracombe)).find((p) => p.phase === 'voting')!;
        const rows = await tx
          .selectFrom('pb_ballots')
          .select('voter')
          .where('process_id', '=', open.id)
          .execute();
        return { processId: open.id, voters: new Set(rows.map((r) => r.voter)) };
      });
    const before = await look(ballots);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/cast-ballots-child.ts'), 'ilfracombe', '200'],
      { cwd: REPO_ROOT, env: { ...process.env, ...db.env }, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const accepted: string[] = [];
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop()!;
      accepted.push(...lines);
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (let i = 0; i < 600 && accepted.length < 3 && child.exitCode === null; i++) await sleep(100);
    await sleep(Math.random() * 300);
    child.kill('SIGKILL');
    await exited;
    assert.ok(accepted.length >= 3, 'the child had cast ballots before it was killed');
    assert.ok(accepted.length < 200, 'the child was killed before it finished');

    const after = await look(ballots);
    const added = [...after.voters].filter((v) => !before.voters.has(v));
    for (const code of accepted)
      assert.ok(
        after.voters.has(voterOfCode(accessCodeHash(after.processId, code))),
        'an accepted ballot is kept',
      );
    // The ballot in flight at the kill either committed before its code was printed, or left nothing.
    assert.ok(
      added.length === accepted.length || added.length === accepted.length + 1,
      `${added.length} ballots for ${accepted.length} accepted`,
    );
    await auditVerifies();
  });
});

/**
 * A PostgreSQL restart would break every other test on a shared server, so the restart is
 * simulated where it hurts: the server's own connections are terminated (pg_terminate_backend)
 * while requests are inside their transactions.
 */
describe(
  'PostgreSQL connections dropped under requests',
  { skip: onPostgres ? false : 'needs DATABASE_URL' },
  () => {
    let t: TestApp;
    let base: string;
    let finance: Record<string, string>;
    let accounts: { code: string; kind: string }[];
    before(async () => {
      t = await startTestApp();
      await seedDemo(t.db);
      const person = await t.db.kysely
        .selectFrom('people')
        .select('id')
        .where('email', '=', 'finance@placebudget.example')
        .executeTakeFirstOrThrow();
      const { token, csrfToken } = await createSession(t.db, person.id, 1);
      finance = {
        cookie: `${SESSION_COOKIE}=${token}`,
        'x-csrf-token': csrfToken,
        'content-type': 'application/json',
      };
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      accounts = (await (
        await fetch(`${base}/api/v1/places/essex/ledger/accounts`, { headers: finance })
      ).json()) as typeof accounts;
    });
    after(() => t.close());

    const post = (key: string) => {
      const pot = accounts.find((a) => a.kind === 'pot')!;
      const other = accounts.find((a) => a.kind !== 'pot' && a.kind !== 'contribution')!;
      return fetch(`${base}/api/v1/places/essex/ledger/transactions`, {
        method: 'POST',
        headers: finance,
        body: JSON.stringify({
          transactions: [
            {
              key,
              date: '2012-09-01',
              memo: 'dropped connection test',
              postings: [
                { account: other.code, amount_pence: 100 },
                { account: pot.code, amount_pence: -100 },
              ],
            },
          ],
        }),
      });
    };

    it('answers 503 with a clear message for requests whose connection died, saves none of them, and recovers', async () => {
      const lock = await holdAuditChain(t.db.env.DATABASE_URL!);
      const keys = Array.from({ length: 6 }, (_, i) => `dropped-${i}`);
      const answers = keys.map((key) =>
        post(key).then(async (res) => ({
          key,
          status: res.status,
          body: (await res.json()) as { message?: string },
          retryAfter: res.headers.get('retry-after'),
        })),
      );
      let terminated = 0;
      try {
        // Wait until every post is inside its transaction, waiting at the audit entry.
        for (let i = 0; i < 300; i++) {
          const { rows } = await sql<{
            n: string;
          }>`select count(*)::text as n from pg_locks where locktype = 'advisory' and not granted`.execute(
            t.db.kysely,
          );
          if (Number(rows[0]!.n) >= 6) break;
          await sleep(50);
        }
        const url = new URL(t.db.env.DATABASE_URL!);
        const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await admin.connect();
        const { rows } = await admin.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
          [url.pathname.slice(1)],
        );
        for (const { pid } of rows)
          terminated += (await admin.query('select pg_terminate_backend($1)', [pid])).rowCount ?? 0;
        await admin.end();
      } finally {
        await lock.release();
      }
      const results = await Promise.all(answers);
      assert.equal(terminated, 6, 'all six posts were waiting inside their transactions');
      for (const r of results) {
        assert.equal(r.status, 503, `${r.key}: ${r.status} ${JSON.stringify(r.body)}`);
        assert.match(r.body.message ?? '', /database is unavailable/i);
        assert.ok(r.retryAfter, 'says when to try again');
      }
      const saved = await inPlace(
        t.db,
        (
          await t.db.kysely
            .selectFrom('places')
            .select('id')
            .where('slug', '=', 'essex')
            .executeTakeFirstOrThrow()
        ).id,
        (tx) =>
          tx
            .selectFrom('ledger_transactions')
            .select('idempotency_key')
            .where('idempotency_key', 'like', 'dropped-%')
            .execute(),
      );
      assert.deepEqual(saved, [], 'no request answered with an error was saved');

      // The pool replaced the dead connections: the same posts now go through, once each.
      const retried = await Promise.all(keys.map(async (key) => (await post(key)).status));
      assert.deepEqual(
        retried,
        keys.map(() => 201),
      );
      assert.equal((await fetch(`${base}/api/v1/places/essex`, { headers: finance })).status, 200);
    });
  },
);
