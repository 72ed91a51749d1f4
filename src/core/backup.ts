import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AUDIT_KEY_FILE, type Config } from './config.ts';
import { openPGlite } from './db.ts';
import { Invalid } from './errors.ts';

export interface BackupResult {
  engine: 'pglite' | 'postgres';
  file: string;
  bytes: number;
}

/**
 * A whole-database backup: PGlite's data folder as a gzipped tarball (taken through PGlite, so it
 * is consistent), or pg_dump's custom format for a server. The server must be stopped for PGlite,
 * which allows one process at a time; the lock file says so if it is not.
 */
export async function backup(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  file: string,
): Promise<BackupResult> {
  if (config.databaseUrl) {
    run('pg_dump', ['--format=custom', '--no-owner', `--file=${file}`, `--dbname=${config.databaseUrl}`]);
    return { engine: 'postgres', file, bytes: fs.statSync(file).size };
  }
  if (!fs.existsSync(config.dataDir))
    throw new Invalid(`There is no database in ${config.dataDir} to back up`);
  const db = await openPGlite(config.dataDir);
  try {
    const tarball = await (db.raw as { pglite: import('@electric-sql/pglite').PGlite }).pglite.dumpDataDir(
      'gzip',
    );
    fs.writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
  } finally {
    await db.close();
  }
  return { engine: 'pglite', file, bytes: fs.statSync(file).size };
}

/**
 * Replaces the database with a backup, all or nothing. A PGlite folder being replaced is moved
 * aside, not deleted, so a mistaken restore loses nothing; a server restore runs in one transaction.
 */
export async function restore(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  file: string,
): Promise<{ keptAs?: string }> {
  if (!fs.existsSync(file)) throw new Invalid(`No backup file at ${file}`);
  if (config.databaseUrl) {
    run('pg_restore', [
      '--clean',
      '--if-exists',
      '--single-transaction',
      '--exit-on-error',
      '--no-owner',
      `--dbname=${config.databaseUrl}`,
      file,
    ]);
    return {};
  }
  const tarball = new Blob([fs.readFileSync(file)]);
  const keptAs = fs.existsSync(config.dataDir) ? `${config.dataDir}.before-restore-${Date.now()}` : undefined;
  if (keptAs) {
    // Opening takes the lock: if the server is running, this fails before anything moves.
    const current = await openPGlite(config.dataDir);
    await current.close();
    fs.renameSync(config.dataDir, keptAs);
  }
  try {
    const restored = await openPGlite(config.dataDir, { loadDataDir: tarball });
    await restored.close();
    // The audit key lives in the data folder but is not part of the database: keep the one in use.
    const key = keptAs && path.join(keptAs, AUDIT_KEY_FILE);
    if (key && fs.existsSync(key)) fs.copyFileSync(key, path.join(config.dataDir, AUDIT_KEY_FILE));
  } catch (err) {
    fs.rmSync(config.dataDir, { recursive: true, force: true });
    if (keptAs) fs.renameSync(keptAs, config.dataDir);
    throw new Invalid(`${file} is not a placebudget PGlite backup: ${(err as Error).message}`);
  }
  return keptAs ? { keptAs } : {};
}

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error)
    throw new Error(
      `${command} could not run: ${result.error.message} (install the postgresql-client package)`,
    );
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.trim()}`);
}
