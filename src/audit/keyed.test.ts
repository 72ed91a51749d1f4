import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inPlace, inSystem, type Database } from '../core/db.ts';
import { migrate, readMigrations } from '../core/migrate.ts';
import { openTestDatabase, engineName, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { entryHash, GENESIS_HASH, KEY_MARKER_ACTION, type ChainedEntry } from './domain.ts';
import { auditKey } from './key.ts';
import {
  appendAudit,
  parseCheckpoint,
  verifyAgainstCheckpoint,
  verifyAuditChain,
  walkAuditChain,
} from './store.ts';

/** As the review's Appendix B: someone with database access rewrites history without the key. */
async function rewriteAndRechain(
  db: Database,
  fromId: number,
  change: (e: ChainedEntry) => ChainedEntry,
  key: Buffer | null = null,
) {
  const rows = (await db.kysely
    .selectFrom('audit_log')
    .selectAll()
    .where('id', '>=', fromId)
    .orderBy('id')
    .execute()) as ChainedEntry[];
  let prev =
    (
      await db.kysely
        .selectFrom('audit_log')
        .select('hash')
        .where('id', '<', fromId)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst()
    )?.hash ?? GENESIS_HASH;
  const statements = [
    'alter table audit_log disable trigger audit_log_append_only;',
    `update audit_log set hash = 'tmp-' || id where id >= ${fromId};`,
  ];
  for (const original of rows) {
    const e = original.id === fromId ? change(original) : original;
    const hash = entryHash(prev, e, key);
    statements.push(
      `update audit_log set prev_hash = '${prev}', hash = '${hash}', detail = '${JSON.stringify(e.detail).replace(/'/g, "''")}' where id = ${e.id};`,
    );
    prev = hash;
  }
  statements.push('alter table audit_log enable trigger audit_log_append_only;');
  await db.script(statements.join('\n'));
}

describe(`review 2026-12 M8: a keyed, anchored audit chain that cannot be truncated, on ${engineName}`, () => {
  let db: TestDatabase;
  let placeId: number;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-checkpoint-'));
  const append = (i: number) =>
    inPlace(db, placeId, (tx) =>
      appendAudit(tx, {
        person_id: null,
        place_id: placeId,
        action: 'test.change',
        subject: `thing:${i}`,
        detail: { i },
      }),
    );

  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    placeId = (
      await db.kysely
        .insertInto('places')
        .values({ slug: 'essex', name: 'Essex', kind: 'whole_place' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    for (let i = 1; i <= 6; i++) await append(i);
  });
  after(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keys every entry after the marker with HMAC-SHA256 under the audit key, not plain SHA-256', async () => {
    const rows = (await db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id')
      .execute()) as ChainedEntry[];
    assert.equal(rows[0]!.action, KEY_MARKER_ACTION);
    const key = auditKey().key;
    for (const e of rows.slice(1)) {
      assert.equal(e.hash, entryHash(e.prev_hash, e, key));
      assert.notEqual(e.hash, entryHash(e.prev_hash, e));
    }
    const other = await walkAuditChain(
      db,
      Buffer.from('another key, not the one the chain was written with'),
    );
    assert.equal(other.broken?.id, rows[1]!.id);
  });

  it("finds an entry rewritten and re-chained without the key (the review's Appendix B)", async () => {
    const target = (
      await db.kysely
        .selectFrom('audit_log')
        .select('id')
        .where('subject', '=', 'thing:4')
        .executeTakeFirstOrThrow()
    ).id;
    const before = (await db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>=', target)
      .orderBy('id')
      .execute()) as ChainedEntry[];
    await rewriteAndRechain(db, target, (e) => ({ ...e, detail: { i: 99 } }));
    const report = await verifyAuditChain(db);
    assert.equal(report.broken?.id, target);
    assert.match(report.broken!.reason, /keyed hash/);
    // Put history back (with the key, as only the product can) for the tests that follow.
    await rewriteAndRechain(db, target, () => before[0]!, auditKey().key);
    assert.equal((await verifyAuditChain(db)).broken, null);
  });

  it('finds a chain whose key marker was removed and every entry re-chained unkeyed', async () => {
    const rows = (await db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id')
      .execute()) as ChainedEntry[];
    const walk = await walkAuditChain(db);
    // Re-chaining from the marker unkeyed, with the marker renamed, as someone without the key would.
    await rewriteAndRechain(db, rows[0]!.id, (e) => ({ ...e, detail: { scheme: 'none' } }));
    const report = await verifyAuditChain(db);
    assert.notEqual(report.broken, null);
    await rewriteAndRechain(db, rows[0]!.id, () => rows[0]!);
    const keyed = rows.slice(1);
    // The marker is back as it was, so the keyed entries after it chain again only with the key.
    await rewriteAndRechain(db, keyed[0]!.id, () => keyed[0]!, auditKey().key);
    assert.deepEqual(await walkAuditChain(db), walk);
  });

  it('keeps one intact keyed chain when many transactions append at once (entries written just before COMMIT)', async () => {
    const before = (await walkAuditChain(db)).entries;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        inPlace(db, placeId, async (tx) => {
          await appendAudit(tx, {
            person_id: null,
            place_id: placeId,
            action: 'test.concurrent',
            subject: `c:${i}:a`,
          });
          await sql`select 1`.execute(tx);
          await appendAudit(tx, {
            person_id: null,
            place_id: placeId,
            action: 'test.concurrent',
            subject: `c:${i}:b`,
          });
        }),
      ),
    );
    const walk = await walkAuditChain(db);
    assert.equal(walk.broken, null);
    assert.equal(walk.entries, before + 24);
    // Put the chain back to the length the tests below expect (the owner can, with the trigger off).
    await db.script(`alter table audit_log disable trigger audit_log_append_only;
      delete from audit_log where action = 'test.concurrent';
      alter table audit_log enable trigger audit_log_append_only;`);
    assert.equal((await verifyAuditChain(db)).broken, null);
  });

  it('refuses TRUNCATE audit_log, from the owner and from the application role', async () => {
    await assert.rejects(db.script('truncate audit_log'), /append-only/);
    await assert.rejects(
      db.script('set local role placebudget_app; truncate audit_log'),
      /append-only|permission denied/,
    );
    const left = await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(db.kysely);
    assert.equal(left.rows[0]!.n, 7);
  });

  it('`audit checkpoint` signs the head; `audit verify --checkpoint` finds a cut tail and a forged checkpoint', async () => {
    const file = path.join(dir, 'checkpoint.json');
    await db.close();
    const made = await runCli(['audit', 'checkpoint', '--out', file], db.env);
    assert.equal(made.status, 0, made.stderr);
    const checkpoint = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(checkpoint.entries, 7);
    assert.match(String(checkpoint.last_hash), /^[0-9a-f]{64}$/);
    assert.match(String(checkpoint.signature), /^[0-9a-f]{64}$/);
    db = await db.reopen();
    assert.deepEqual(await verifyAgainstCheckpoint(db, parseCheckpoint(fs.readFileSync(file, 'utf8'))), {
      entries: 7,
      broken: null,
    });

    // Later entries are fine: the checkpoint is a prefix of the chain.
    await append(7);
    // Cutting the tail back past the checkpoint passes a plain walk, but not the checkpoint.
    await db.script(`alter table audit_log disable trigger audit_log_append_only;
      delete from audit_log where id >= ${Number(checkpoint.last_id) - 1};
      alter table audit_log enable trigger audit_log_append_only;`);
    assert.equal((await verifyAuditChain(db)).broken, null);
    await db.close();
    const cut = await runCli(['audit', 'verify', '--checkpoint', file], db.env);
    assert.equal(cut.status, 1);
    assert.match(cut.stderr, /checkpoint's last entry is missing: the chain was cut back to 5 entries/);

    db = await db.reopen();

    // A checkpoint edited to match the cut chain no longer carries a valid signature.
    const forged = JSON.stringify({ ...checkpoint, entries: 5, last_id: Number(checkpoint.last_id) - 2 });
    const report = await verifyAgainstCheckpoint(db, parseCheckpoint(forged));
    assert.match(report.broken?.reason ?? '', /signature does not match the audit key/);
  });
});

describe(`review 2026-12 M8: a chain from before the key still verifies, on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ migrations: readMigrations().filter((m) => m.version < '0050') });
  });
  after(() => db.drop());

  it('verifies the entries before the marker unkeyed, the marker, and the entries after it keyed', async () => {
    // Three entries written the way the product wrote them before the key (plain SHA-256).
    let prev = GENESIS_HASH;
    for (let i = 1; i <= 3; i++) {
      const content = {
        at: new Date(Date.UTC(2026, 10, i, 9, 30, 0, 123)),
        person_id: i,
        place_id: null,
        action: 'test.legacy',
        subject: `old:${i}`,
        detail: { i, note: 'é ✓' },
      };
      const hash = entryHash(prev, content);
      await db.kysely
        .insertInto('audit_log')
        .values({ ...content, detail: JSON.stringify(content.detail), prev_hash: prev, hash })
        .execute();
      prev = hash;
    }
    await migrate(db);
    await inSystem(db, (tx) =>
      appendAudit(tx, { person_id: null, place_id: null, action: 'test.keyed', subject: 'new:1' }),
    );
    const rows = await db.kysely
      .selectFrom('audit_log')
      .select(['action', 'prev_hash'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.action),
      ['test.legacy', 'test.legacy', 'test.legacy', KEY_MARKER_ACTION, 'test.keyed'],
    );
    assert.equal(rows[3]!.prev_hash, prev, 'the marker chains to the last entry from before the key');
    assert.deepEqual(await verifyAuditChain(db), { entries: 5, broken: null });
  });
});
