import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { inPlace, inSystem } from '../core/db.ts';
import { openTestDatabase, engineName, type TestDatabase } from '../../test/db.ts';
import { runCli, spawnCli } from '../../test/cli.ts';
import { canonicalJson, entryHash, findChainBreak, GENESIS_HASH, type ChainedEntry } from './domain.ts';
import { appendAudit, verifyAuditChain } from './store.ts';

describe('audit chain (pure)', () => {
  const content = {
    at: new Date('2012-04-01T09:00:00.000Z'),
    person_id: 1,
    place_id: 2,
    action: 'partner.add',
    subject: 'partner:3',
    detail: { b: 1, a: [1, { y: 2, x: 1 }] },
  };

  it('hashes the same content the same way whatever the key order', () => {
    assert.equal(canonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
    assert.equal(
      entryHash(GENESIS_HASH, content),
      entryHash(GENESIS_HASH, { ...content, detail: { a: [1, { x: 1, y: 2 }], b: 1 } }),
    );
  });

  it('finds the first changed, removed or reordered entry', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 2, maxLength: 12 }), fc.nat(), (subjects, pick) => {
        const chain: ChainedEntry[] = [];
        let prev = GENESIS_HASH;
        subjects.forEach((subject, i) => {
          const entry = { ...content, id: i + 1, subject, prev_hash: prev, hash: '' };
          entry.hash = entryHash(prev, entry);
          prev = entry.hash;
          chain.push(entry);
        });
        assert.equal(findChainBreak(chain, GENESIS_HASH), null);
        const i = pick % chain.length;
        const changed = chain.map((e, j) => (j === i ? { ...e, subject: e.subject + '!' } : e));
        assert.equal(findChainBreak(changed, GENESIS_HASH)?.id, i + 1);
        const removed = chain.filter((_, j) => j !== i);
        const broken = findChainBreak(removed, GENESIS_HASH);
        // Removing the last entry leaves a valid (shorter) chain; anything else breaks at the next entry.
        assert.equal(broken?.id, i === chain.length - 1 ? undefined : i + 2);
      }),
      { numRuns: 50 },
    );
  });
});

describe(`audit log on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    const place = await db.kysely
      .insertInto('places')
      .values({ slug: 'essex', name: 'Essex', kind: 'whole_place' })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 1; i <= 5; i++) {
      await inPlace(db, place.id, (tx) =>
        appendAudit(tx, {
          person_id: null,
          place_id: place.id,
          action: 'test.change',
          subject: `thing:${i}`,
          detail: { i },
        }),
      );
    }
  });
  after(() => db.drop());

  it('chains every entry to the one before', async () => {
    // Five entries after the key marker every chain starts with (migration 0050).
    assert.deepEqual(await verifyAuditChain(db), { entries: 6, broken: null });
  });

  it('refuses updates and deletes, even from the database owner', async () => {
    await assert.rejects(db.kysely.updateTable('audit_log').set({ action: 'x' }).execute(), /append-only/);
    await assert.rejects(db.kysely.deleteFrom('audit_log').execute(), /append-only/);
  });

  it('keeps the entry only when the change it records commits', async () => {
    await assert.rejects(
      inSystem(db, async (tx) => {
        await appendAudit(tx, { person_id: null, place_id: null, action: 'test.rolled_back', subject: 'x' });
        throw new Error('the change failed');
      }),
    );
    const rows = await db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'test.rolled_back')
      .execute();
    assert.equal(rows.length, 0);
  });

  it('names the tampered entry: `audit verify` exits 1 after someone edits a row in the database', async () => {
    // PGlite is one process's database: release it while the CLI opens the folder.
    await db.close();
    const clean = await runCli(['audit', 'verify'], db.env);
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /6 entries intact/);
    db = await db.reopen();

    // Someone with database access switches the guard off and rewrites history.
    await db.script(`alter table audit_log disable trigger audit_log_append_only;
      update audit_log set detail = '{"i": 99}' where subject = 'thing:3';
      alter table audit_log enable trigger audit_log_append_only;`);
    const tamperedId = (
      await db.kysely
        .selectFrom('audit_log')
        .select('id')
        .where('subject', '=', 'thing:3')
        .executeTakeFirstOrThrow()
    ).id;
    const report = await verifyAuditChain(db);
    assert.deepEqual(report.broken?.id, tamperedId);
    assert.equal(report.entries, 3);

    await db.close();
    // Through the real binary once: the exit code a script or a cron job would see.
    const verify = spawnCli(['audit', 'verify'], db.env);
    assert.equal(verify.status, 1);
    assert.match(
      verify.stderr,
      new RegExp(`broken at entry ${tamperedId}: its content does not match its keyed hash`),
    );
    db = await db.reopen();
  });

  it('uses a lock so concurrent writers still form one chain', async () => {
    const place = await db.kysely.selectFrom('places').select('id').executeTakeFirstOrThrow();
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        inPlace(db, place.id, (tx) =>
          appendAudit(tx, {
            person_id: null,
            place_id: place.id,
            action: 'test.concurrent',
            subject: `c:${i}`,
          }),
        ),
      ),
    );
    const links = await sql<{ n: number }>`select count(distinct prev_hash)::int as n from audit_log`.execute(
      db.kysely,
    );
    const total = await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(db.kysely);
    assert.equal(links.rows[0]!.n, total.rows[0]!.n, 'no two entries chain to the same predecessor');
  });
});
