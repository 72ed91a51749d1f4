import { loadConfig } from './config.ts';
import { openDatabase, type Database } from './db.ts';
import { migrate } from './migrate.ts';

/** Opens the configured database, migrated, for the length of one CLI command. */
export async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig());
  try {
    await migrate(db);
    return await work(db);
  } finally {
    await db.close();
  }
}
