import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPGlite, openPostgres, type Database } from '../src/core/db.ts';
import { migrate, type Migration } from '../src/core/migrate.ts';
import { adminQuery, databaseUrl, TEMPLATE_ENV } from './template.ts';

/**
 * Every test (and every CLI or server it starts, which inherit the environment) keys the audit
 * chain with this fixed key, so no test writes a key file and results do not depend on one.
 */
export const TEST_AUDIT_KEY = 'placebudget-test-audit-key-0123456789abcdef';
process.env.PLACEBUDGET_AUDIT_KEY ??= TEST_AUDIT_KEY;

export interface TestDatabase extends Database {
  /** Closes and then removes the database this test made (drops it on PostgreSQL). */
  drop(): Promise<void>;
  /** Opens the same database again after `close()`, e.g. once a child process has used it. */
  reopen(): Promise<TestDatabase>;
  /** The environment a child process (the CLI, the server) needs to open this same database. */
  env: Record<string, string>;
}

/**
 * A fresh, migrated database for one test file (on disk when a child process must open it too):
 * in-memory PGlite by default, or a new database on the server named by DATABASE_URL, dropped
 * again afterwards. Under `npm test` it is a copy of the run's migrated template (test/template.ts);
 * a test file run on its own migrates its database itself. `empty` leaves out the migrations;
 * `migrations` applies only those given (never from the template, which has them all).
 */
export async function openTestDatabase(
  options: { onDisk?: boolean; empty?: boolean; migrations?: Migration[] } = {},
): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  const template = options.empty || options.migrations ? undefined : process.env[TEMPLATE_ENV] || undefined;
  const migrated = options.empty
    ? (opening: Promise<Database>) => opening
    : (opening: Promise<Database>) => migratedNow(opening, options.migrations);
  if (!serverUrl) {
    const dataDir = options.onDisk
      ? fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-test-'))
      : 'memory://';
    const open = () => openPGlite(dataDir);
    const remove = async () => {
      if (options.onDisk) fs.rmSync(dataDir, { recursive: true, force: true });
    };
    const first = template ? openPGlite(dataDir, { loadDataDir: templateTarball(template) }) : open();
    return withLifecycle(await migrated(first), open, remove, { PLACEBUDGET_DATA_DIR: dataDir });
  }
  const name = `placebudget_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(
    serverUrl,
    template ? `create database ${name} template ${template}` : `create database ${name}`,
  );
  const url = databaseUrl(serverUrl, name);
  const open = () => openPostgres(url);
  const remove = () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
  return withLifecycle(await migrated(open()), open, remove, { DATABASE_URL: url });
}

let tarball: { file: string; blob: Blob } | undefined;

/** The template's tar file, read once per test process. */
function templateTarball(file: string): Blob {
  if (tarball?.file !== file) tarball = { file, blob: new Blob([fs.readFileSync(file)]) };
  return tarball.blob;
}

/** Migrates a new database; on a copy of the template this only checks that nothing is left to apply. */
async function migratedNow(opening: Promise<Database>, migrations?: Migration[]): Promise<Database> {
  const db = await opening;
  await migrate(db, migrations);
  return db;
}

function withLifecycle(
  db: Database,
  open: () => Promise<Database>,
  remove: () => Promise<void>,
  env: Record<string, string>,
): TestDatabase {
  let closed = false;
  return {
    ...db,
    env,
    async close() {
      closed = true;
      await db.close();
    },
    async drop() {
      if (!closed) await db.close();
      await remove();
    },
    async reopen() {
      return withLifecycle(await open(), open, remove, env);
    },
  };
}

export const engineName = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
