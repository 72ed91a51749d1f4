import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { readChecksumList } from '../../scripts/migration-checksums.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import type { Database } from './db.ts';
import { migrate, readMigrations, SUPERSEDED_CHECKSUMS, type Migration } from './migrate.ts';

const SUPERSEDED_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test/superseded-migrations',
);

/** Everything a migration can make, as comparable text: columns, constraints, indexes, functions, triggers, policies, grants. */
async function schemaOf(db: Database): Promise<Record<string, string[]>> {
  const lines = async (query: ReturnType<typeof sql<{ line: string }>>) =>
    (await query.execute(db.kysely)).rows.map((r) => r.line).sort();
  return {
    columns: await lines(sql`select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
      || ' ' || coalesce(column_default, '') || ' ' || is_identity as line
      from information_schema.columns where table_schema = 'public'`),
    constraints:
      await lines(sql`select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as line
      from pg_constraint where connamespace = 'public'::regnamespace`),
    indexes: await lines(sql`select indexdef as line from pg_indexes where schemaname = 'public'`),
    functions: await lines(sql`select pg_get_functiondef(p.oid) as line from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'`),
    triggers: await lines(sql`select pg_get_triggerdef(oid) as line from pg_trigger where not tgisinternal`),
    policies:
      await lines(sql`select tablename || ' ' || policyname || ' ' || cmd || ' ' || coalesce(qual, '') || ' '
      || coalesce(with_check, '') as line from pg_policies where schemaname = 'public'`),
    grants: await lines(sql`select table_name || ' ' || grantee || ' ' || privilege_type as line
      from information_schema.role_table_grants where table_schema = 'public'`),
    rowSecurity: await lines(sql`select relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity as line
      from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`),
  };
}

describe(`migrations on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.drop());

  it('applies every numbered file once, in order', async () => {
    const files = readMigrations();
    assert.ok(files.length >= 1);
    assert.deepEqual(
      files.map((m) => m.version),
      [...files.map((m) => m.version)].sort(),
    );
    const applied = await sql<{
      version: string;
    }>`select version from schema_migrations order by version`.execute(db.kysely);
    assert.deepEqual(
      applied.rows.map((r) => r.version),
      files.map((m) => m.version),
    );
    assert.deepEqual(await migrate(db), [], 'a second run applies nothing');
  });

  it('refuses to run when an applied migration was edited', async () => {
    const edited = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(db, edited), /was changed after it was applied/);
  });

  it('applies a failing migration not at all', async () => {
    const broken = [
      ...readMigrations(),
      {
        version: '9999',
        name: 'broken',
        text: 'create table half_done (id int); select 1/0;',
        checksum: 'x',
      },
    ];
    await assert.rejects(migrate(db, broken), /division by zero/);
    const exists = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_tables where tablename = 'half_done'`.execute(db.kysely);
    assert.equal(exists.rows[0]!.n, 0);
    const recorded = await sql<{
      n: number;
    }>`select count(*)::int as n from schema_migrations where version = '9999'`.execute(db.kysely);
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

  it('keeps every committed migration as migrations/checksums.txt lists it (npm run migrations:checksums adds new ones)', () => {
    const listed = readChecksumList();
    const files = readMigrations();
    for (const m of files) {
      const file = `${m.version}_${m.name}.sql`;
      assert.ok(listed.has(file), `${file} is listed in migrations/checksums.txt`);
      assert.equal(
        m.checksum,
        listed.get(file),
        `${file} is unchanged since it was committed: add a new migration instead`,
      );
    }
    assert.deepEqual(
      [...listed.keys()].sort(),
      files.map((m) => `${m.version}_${m.name}.sql`),
      'every listed migration exists',
    );
  });

  it('starts a database that applied the earlier texts of edited migrations, which then matches a fresh one', async () => {
    const current = readMigrations();
    const earlier: Migration[] = fs
      .readdirSync(SUPERSEDED_DIR)
      .sort()
      .map((file) => {
        const text = fs.readFileSync(path.join(SUPERSEDED_DIR, file), 'utf8');
        return {
          version: file.slice(0, 4),
          name: file.slice(5, -4),
          text,
          checksum: createHash('sha256').update(text).digest('hex'),
        };
      });
    assert.deepEqual(
      earlier.map((m) => m.version),
      Object.keys(SUPERSEDED_CHECKSUMS).sort(),
    );
    for (const m of earlier)
      assert.ok(
        SUPERSEDED_CHECKSUMS[m.version]!.includes(m.checksum),
        `${m.version}'s earlier text is accepted`,
      );
    const old = await openTestDatabase({ empty: true });
    try {
      // As it was when the edited migrations were the newest: the earlier texts, nothing after them.
      const last = earlier.at(-1)!.version;
      const then = current
        .filter((m) => m.version <= last)
        .map((m) => earlier.find((e) => e.version === m.version) ?? m);
      await migrate(old, then);
      const applied = await migrate(old);
      assert.ok(
        applied.length > 0 && applied.every((name) => name > last),
        'the upgrade applies only the later migrations',
      );
      assert.deepEqual(await schemaOf(old), await schemaOf(db));
    } finally {
      await old.drop();
    }
  });
});
