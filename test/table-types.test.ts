import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { engineName, openTestDatabase, type TestDatabase } from './db.ts';
import { declaredTables, type BroadType, type DeclaredColumn } from './table-types.ts';

/** Tables the application does not query through Kysely's DB type. */
const UNTYPED_TABLES = new Set(['schema_migrations']);

/** How each column type comes back through the drivers as src/core/db.ts sets them up. */
const BROAD: Record<string, BroadType> = {
  int2: 'number',
  int4: 'number',
  int8: 'number',
  float8: 'number',
  numeric: 'string',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  citext: 'string',
  uuid: 'string',
  date: 'string',
  timestamptz: 'date',
  timestamp: 'date',
  bool: 'boolean',
  bytea: 'bytes',
  json: 'json',
  jsonb: 'json',
};

describe(`table types against the migrated schema on ${engineName}`, () => {
  let db: TestDatabase;
  let declared: Map<string, Map<string, DeclaredColumn>>;
  let actual: Map<string, Map<string, DeclaredColumn>>;
  before(async () => {
    db = await openTestDatabase();
    declared = declaredTables();
    const { rows } = await sql<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
      column_default: string | null;
      is_identity: string;
    }>`select c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable, c.column_default, c.is_identity
      from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE'`.execute(db.kysely);
    actual = new Map();
    for (const row of rows) {
      if (UNTYPED_TABLES.has(row.table_name)) continue;
      const nullable = row.is_nullable === 'YES';
      const columns = actual.get(row.table_name) ?? new Map<string, DeclaredColumn>();
      columns.set(row.column_name, {
        type: row.data_type === 'ARRAY' ? 'array' : (BROAD[row.udt_name] ?? `other: ${row.udt_name}`),
        nullable,
        optional: nullable || row.column_default !== null || row.is_identity === 'YES',
      });
      actual.set(row.table_name, columns);
    }
  });
  after(() => db.drop());

  it('declares every table of the database and no other', () => {
    assert.deepEqual([...declared.keys()].sort(), [...actual.keys()].sort());
  });

  it("declares each table's columns with the database's names, nullability and broad type", () => {
    const wrong: string[] = [];
    for (const [table, columns] of actual) {
      const typed = declared.get(table) ?? new Map<string, DeclaredColumn>();
      for (const name of new Set([...columns.keys(), ...typed.keys()])) {
        const want = columns.get(name);
        const have = typed.get(name);
        const show = (c: DeclaredColumn | undefined) =>
          c ? `${c.type}${c.nullable ? ' | null' : ''}` : 'missing';
        if (show(want) !== show(have))
          wrong.push(`${table}.${name}: the database has ${show(want)}, tables.ts ${show(have)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('marks Generated exactly the columns an insert may leave out (a default, an identity, or null)', () => {
    const wrong: string[] = [];
    for (const [table, columns] of actual) {
      for (const [name, column] of columns) {
        const typed = declared.get(table)?.get(name);
        if (typed && typed.optional !== column.optional) {
          wrong.push(
            `${table}.${name}: ${column.optional ? 'the database fills it in' : 'an insert must give it'}`,
          );
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
