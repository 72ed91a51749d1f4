import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { migrate, readMigrations } from './migrate.ts';

describe(`migrations on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.drop());

  it('applies every numbered file once, in order', async () => {
    const files = readMigrations();
    assert.ok(files.length >= 1);
    assert.deepEqual(files.map((m) => m.version), [...files.map((m) => m.version)].sort());
    const applied = await sql<{ version: string }>`select version from schema_migrations order by version`.execute(db.kysely);
    assert.deepEqual(applied.rows.map((r) => r.version), files.map((m) => m.version));
    assert.deepEqual(await migrate(db), [], 'a second run applies nothing');
  });

  it('refuses to run when an applied migration was edited', async () => {
    const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(db, edited), /was changed after it was applied/);
  });

  it('applies a failing migration not at all', async () => {
    const broken = [...readMigrations(), { version: '9999', name: 'broken', text: 'create table half_done (id int); select 1/0;', checksum: 'x' }];
    await assert.rejects(migrate(db, broken), /division by zero/);
    const exists = await sql<{ n: number }>`select count(*)::int as n from pg_tables where tablename = 'half_done'`.execute(db.kysely);
    assert.equal(exists.rows[0]!.n, 0);
    const recorded = await sql<{ n: number }>`select count(*)::int as n from schema_migrations where version = '9999'`.execute(db.kysely);
    assert.equal(recorded.rows[0]!.n, 0);
  });

  it('gives every place-owned table place_id first in its key, and a row-level security policy', async () => {
    const tables = await sql<{ table_name: string; first_key: string; rls: boolean }>`
      select c.relname as table_name, a.attname as first_key, c.relrowsecurity as rls
      from pg_class c
      join pg_index i on i.indrelid = c.oid and i.indisprimary
      join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
        and exists (select from pg_attribute p where p.attrelid = c.oid and p.attname = 'place_id' and not p.attisdropped)
        and c.relname <> 'audit_log'`.execute(db.kysely);
    assert.ok(tables.rows.length >= 5);
    for (const t of tables.rows) {
      assert.equal(t.first_key, 'place_id', `${t.table_name}'s key starts with place_id`);
      assert.equal(t.rls, true, `${t.table_name} has row-level security`);
    }
  });
});
