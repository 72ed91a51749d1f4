/**
 * The migrated template a test run clones for each test file, so that a file gets a fresh database
 * without running every migration again. `npm test` (scripts/test.ts) makes it once and names it
 * in PLACEBUDGET_TEST_TEMPLATE: a PostgreSQL database to `create database … template` from, or a
 * PGlite data folder dumped as a tar file to load. test/db.ts falls back to migrating when the
 * variable is absent (a test file run directly with `node --test`).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPGlite, openPostgres } from '../src/core/db.ts';
import { migrate } from '../src/core/migrate.ts';

export const TEMPLATE_ENV = 'PLACEBUDGET_TEST_TEMPLATE';

export interface Template {
  /** What a test process needs in its environment to clone the template. */
  env: Record<string, string>;
  /** Removes the template; safe to call twice. */
  remove(): Promise<void>;
}

/** Migrates a template on the server named by `serverUrl`, or a PGlite one when it is undefined. */
export async function makeTemplate(serverUrl: string | undefined): Promise<Template> {
  return serverUrl ? makePostgresTemplate(serverUrl) : makePGliteTemplate();
}

async function makePGliteTemplate(): Promise<Template> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-template-'));
  const file = path.join(dir, 'template.tar');
  try {
    const db = await openPGlite('memory://');
    try {
      await migrate(db);
      const pglite = (db.raw as { pglite: import('@electric-sql/pglite').PGlite }).pglite;
      // Uncompressed: each test file loads it, and gunzip would cost more than the bytes save.
      const tarball = await pglite.dumpDataDir('none');
      fs.writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
    } finally {
      await db.close();
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    env: { [TEMPLATE_ENV]: file },
    async remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function makePostgresTemplate(serverUrl: string): Promise<Template> {
  const name = `placebudget_template_${randomBytes(6).toString('hex')}`;
  const remove = () => adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
  await adminQuery(serverUrl, `create database ${name}`);
  try {
    // Closed again before any clone: PostgreSQL copies a template only while nobody is connected to it.
    const db = await openPostgres(databaseUrl(serverUrl, name));
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { env: { [TEMPLATE_ENV]: name }, remove };
}

/** `serverUrl` with its database replaced by `name`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function adminQuery(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
