import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPGlite, openPostgres, type Database } from '../src/core/db.ts';
import { migrate, type Migration } from '../src/core/migrate.ts';

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
 * again afterwards.
 */
export async function openTestDatabase(options: { onDisk?: boolean; migrations?: Migration[] } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dataDir = options.onDisk ? fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-test-')) : 'memory://';
    const open = () => openPGlite(dataDir);
    const remove = async () => {
      if (options.onDisk) fs.rmSync(dataDir, { recursive: true, force: true });
    };
    return withLifecycle(await migrated(open(), options.migrations), open, remove, { PLACEBUDGET_DATA_DIR: dataDir });
  }
  const name = `placebudget_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const open = () => openPostgres(url.toString());
  const remove = () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
  return withLifecycle(await migrated(open(), options.migrations), open, remove, { DATABASE_URL: url.toString() });
}

async function migrated(opening: Promise<Database>, migrations?: Migration[]): Promise<Database> {
  const db = await opening;
  await migrate(db, migrations);
  return db;
}

function withLifecycle(db: Database, open: () => Promise<Database>, remove: () => Promise<void>, env: Record<string, string>): TestDatabase {
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

async function adminQuery(serverUrl: string, text: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export const engineName = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
