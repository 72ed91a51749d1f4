import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { verifyAuditChain } from '../audit/store.ts';
import { seedDemo } from '../demo/seed.ts';
import type { Database } from './db.ts';

/** What must survive a round trip: every table's row count and the audit chain's head. */
async function fingerprint(db: Database) {
  const tables = await sql<{
    name: string;
  }>`select tablename as name from pg_tables where schemaname = 'public' order by 1`.execute(db.kysely);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    counts[name] = (
      await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(db.kysely)
    ).rows[0]!.n;
  }
  const head = await db.kysely
    .selectFrom('audit_log')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { counts, head: head?.hash, chain: await verifyAuditChain(db) };
}

describe(`backup and restore on ${engineName}`, () => {
  let db: TestDatabase;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-backup-'));
  const file = path.join(dir, 'backup.bin');
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    await seedDemo(db);
  });
  after(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips the whole database: row counts and the audit chain are as they were', async () => {
    const before = await fingerprint(db);
    assert.equal(before.chain.broken, null);
    await db.close();

    const made = await runCli(['backup', '--out', file], db.env);
    assert.equal(made.status, 0, made.stderr);
    assert.ok(fs.statSync(file).size > 1000);

    // Work after the backup, which the restore must take away.
    db = await db.reopen();
    const essex = await db.kysely
      .selectFrom('places')
      .select('id')
      .where('slug', '=', 'essex')
      .executeTakeFirstOrThrow();
    await db.kysely
      .insertInto('partners')
      .values({ place_id: essex.id, name: 'Added after the backup', agency_type: 'fire' })
      .execute();
    await db.close();

    const restored = await runCli(['restore', '--in', file], db.env);
    assert.equal(restored.status, 0, restored.stderr);

    db = await db.reopen();
    assert.deepEqual(await fingerprint(db), before);
  });

  it('refuses a file that is not a backup, and leaves the database as it was', async () => {
    const before = await fingerprint(db);
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, 'not a backup');
    await db.close();
    const out = await runCli(['restore', '--in', junk], db.env);
    assert.notEqual(out.status, 0);
    db = await db.reopen();
    assert.deepEqual(await fingerprint(db), before);
  });
});
