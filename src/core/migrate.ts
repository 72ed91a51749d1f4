import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './db.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface Migration {
  version: string;
  name: string;
  text: string;
  checksum: string;
}

/** Plain numbered SQL files, applied in order: `0001_core.sql`, `0002_ledger.sql`, ... */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      return {
        version: file.slice(0, 4),
        name: file.slice(5, -4),
        text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });
}

/**
 * Earlier texts of migrations edited after they were committed, by version: a database that
 * applied one of these still starts. Only for edits whose effect a later migration repeats, so
 * databases from before and after the edit end with the same schema (a test checks this with the
 * earlier texts in test/superseded-migrations/). Never add to this: write a new migration instead.
 */
export const SUPERSEDED_CHECKSUMS: Readonly<Record<string, readonly string[]>> = {
  // The posting trigger's balance check; 0013_ledger_postings_trigger.sql sets the edited function.
  '0002': ['754f84dfcf0358d8f17a83dbc548bf11ee53e15594cd97169fbe60ad50d3357f'],
  // One comment's wording about pb_processes.postcodes; the schema is the same.
  '0003': ['382d902ac4456c56d79cc762ae76e369987da08cea20591f366e985c66851fef'],
};

/**
 * Applies every migration not yet applied, each in its own transaction with its record.
 * Forward-only: an applied migration whose file has changed stops the run, because the
 * database no longer matches what the file says.
 */
export async function migrate(db: Database, migrations = readMigrations()): Promise<string[]> {
  await db.script(`create table if not exists schema_migrations (
    version text primary key, name text not null, checksum text not null,
    applied_at timestamptz not null default now())`);
  const applied = await sql<{ version: string; name: string; checksum: string }>`
    select version, name, checksum from schema_migrations order by version`.execute(db.kysely);
  const byVersion = new Map(applied.rows.map((row) => [row.version, row]));
  const done: string[] = [];
  for (const migration of migrations) {
    const previous = byVersion.get(migration.version);
    if (previous) {
      const accepted = [migration.checksum, ...(SUPERSEDED_CHECKSUMS[migration.version] ?? [])];
      if (!accepted.includes(previous.checksum)) {
        throw new Error(
          `migration ${migration.version}_${migration.name} was changed after it was applied; ` +
            'add a new migration instead of editing an applied one',
        );
      }
      continue;
    }
    const record = `insert into schema_migrations (version, name, checksum) values
      ('${migration.version}', '${migration.name}', '${migration.checksum}');`;
    await db.script(`${migration.text}\n;\n${record}`);
    done.push(`${migration.version}_${migration.name}`);
  }
  return done;
}
