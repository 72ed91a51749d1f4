import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Config } from './config.ts';
import { assert } from './errors.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { DB } from './schema.ts';

export type { DB };
export type Tx = Transaction<DB>;

/** The typed query builder plus what Kysely cannot express: multi-statement scripts. */
export interface Database {
  readonly engine: 'pglite' | 'postgres';
  readonly kysely: Kysely<DB>;
  /** Runs a multi-statement SQL script in one transaction: all of it or none. */
  script(text: string): Promise<void>;
  /**
   * Loads rows written in COPY's text format (tab between fields, a line per row) into `table`
   * inside the transaction `tx`. Bulk imports go this way: sending the same rows as an INSERT's
   * parameters costs several times as much on both sides. Row-level security refuses COPY into
   * its tables, so the target is a temporary table the import then inserts from.
   */
  copyInto(tx: Tx, table: string, columns: readonly string[], rows: string): Promise<void>;
  /** The engine's own client, for COPY and benchmarks. */
  readonly raw: { pglite: PGlite } | { pool: pg.Pool };
  close(): Promise<void>;
}

const OID = { int8: 20, date: 1082, numeric: 1700 } as const;

/** bigint columns hold pence and ids; both must stay exact, so reject what a double cannot hold. */
function parseInt8(value: string): number {
  const n = Number(value);
  assert(Number.isSafeInteger(n), `bigint ${value} is outside the safe integer range`);
  return n;
}

/** Dates stay 'YYYY-MM-DD' strings: a Date would shift them by the time zone. */
const identity = (value: string) => value;

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPGlite(config.dataDir);
}

/** `dataDir` of 'memory://' keeps the database in memory (tests). */
export async function openPGlite(dataDir: string, options: { loadDataDir?: Blob } = {}): Promise<Database> {
  const unlock = dataDir.startsWith('memory://') ? () => undefined : lockDataDir(dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir, {
      parsers: { [OID.int8]: parseInt8, [OID.date]: identity, [OID.numeric]: identity },
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  } catch (err) {
    unlock();
    throw err;
  }
  const kysely = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    engine: 'pglite',
    kysely,
    raw: { pglite },
    async copyInto(tx, table, columns, rows) {
      assert(tx.isTransaction, 'COPY runs inside the transaction it belongs to');
      // PGlite is a single session, which the transaction holds, so the COPY joins it. It reads
      // the rows as a virtual file, which only a privileged role may do: the statement runs as the
      // session's own role (it writes only the named table) and the transaction's role comes back.
      const { role } = (await sql<{ role: string }>`select current_setting('role') as role`.execute(tx))
        .rows[0]!;
      await sql`set local role none`.execute(tx);
      // A failed COPY aborts the transaction, whose rollback undoes the role change with it.
      await pglite.query(`copy ${copyTarget(table, columns)} from '/dev/blob'`, [], {
        blob: new Blob([rows]),
      });
      await sql`select set_config('role', ${role}, true)`.execute(tx);
    },
    async script(text) {
      // Through Kysely's connection so no other caller's statement can run inside it.
      await kysely.connection().execute(async () => {
        try {
          await pglite.exec(`begin;\n${text}\n;commit;`);
        } catch (err) {
          await pglite.exec('rollback').catch(() => undefined);
          throw err;
        }
      });
    },
    async close() {
      await kysely.destroy();
      await pglite.close();
      unlock();
    },
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * A lock file names the owner; a lock left by a process that has died (kill -9) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'placebudget.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lockPath, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `The data folder ${dataDir} is in use by process ${owner} (is the server running?). ` +
            'Stop it first, or use a PostgreSQL server through DATABASE_URL to share the database.',
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function openPostgres(connectionString: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === OID.int8) return parseInt8;
        if (oid === OID.date || oid === OID.numeric) return identity;
        return pg.types.getTypeParser(oid, format ?? 'text');
      }) as typeof pg.types.getTypeParser,
    },
  });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // Nor may one dropped while a request holds it (a restart, pg_terminate_backend): the request's
  // query fails and answers 503, but the client's own 'error' event would otherwise be uncaught.
  // Kysely does not hand out the pg client behind a transaction; its server process id finds it.
  const clients = new Map<number, pg.PoolClient>();
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    clients.set(backendPid(client), client);
  });
  pool.on('remove', (client) => clients.delete(backendPid(client)));
  const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    engine: 'postgres',
    kysely,
    raw: { pool },
    async copyInto(tx, table, columns, rows) {
      assert(tx.isTransaction, 'COPY runs inside the transaction it belongs to');
      const { pid } = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!;
      const client = clients.get(pid);
      assert(client !== undefined, `the pool knows the client of server process ${pid}`);
      await pipeline(
        Readable.from([rows]),
        client.query(copyFrom(`copy ${copyTarget(table, columns)} from stdin`)),
      );
    },
    async script(text) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(text);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await kysely.destroy();
    },
  };
}

function backendPid(client: pg.PoolClient): number {
  return (client as unknown as { processID: number }).processID;
}

/** COPY takes no parameters, so its table and column names are checked to be plain identifiers. */
function copyTarget(table: string, columns: readonly string[]): string {
  for (const name of [table, ...columns])
    assert(/^[a-z_][a-z0-9_]*$/.test(name), `${name} is a plain identifier`);
  return `${table} (${columns.join(', ')})`;
}

/**
 * How long one statement of a read may run on PostgreSQL before it is cancelled (a 503 to the
 * client): every GET in a place and every place the network figures read (review 2026-12, H5).
 */
export const READ_STATEMENT_TIMEOUT_MS = 10_000;

/** The database role place-scoped work runs as; row-level security applies to it. */
export const APP_ROLE = 'placebudget_app';

/**
 * Runs `work` in a transaction that can only see and change rows of one place: the place id is
 * a transaction-local setting read by the row-level security policies, and the role is switched
 * to one that is subject to them. The application filters by place too; this is the second line.
 */
export async function inPlace<T>(
  db: Database,
  placeId: number,
  work: (tx: Tx) => Promise<T>,
  options: { statementTimeoutMs?: number } = {},
): Promise<T> {
  assert(Number.isSafeInteger(placeId) && placeId > 0, 'a place id is a positive integer');
  // SET LOCAL statement_timeout bounds each statement of a read. PGlite runs in this process's one
  // thread and has no timer to cancel a statement, so there the limit is not applied.
  const timeout =
    db.engine === 'postgres' && options.statementTimeoutMs ? String(options.statementTimeoutMs) : null;
  return db.kysely.transaction().execute(async (tx) => {
    // One round trip: set_config('role', …, true) is SET LOCAL ROLE.
    if (timeout) {
      await sql`select set_config('app.place_id', ${String(placeId)}, true), set_config('role', ${APP_ROLE}, true),
        set_config('statement_timeout', ${timeout}, true)`.execute(tx);
    } else {
      await sql`select set_config('app.place_id', ${String(placeId)}, true), set_config('role', ${APP_ROLE}, true)`.execute(
        tx,
      );
    }
    return finished(tx, work);
  });
}

/** A transaction for work that spans places or has no place yet (sign-in, seeding, audit checks). */
export async function inSystem<T>(db: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.kysely.transaction().execute((tx) => finished(tx, work));
}

/**
 * Work a capability runs as the last statements of every inPlace/inSystem transaction before its
 * COMMIT: the audit log queues its entries and appends them there, so the chain's lock is held
 * only for that append and the COMMIT. Registered by the capability (core knows none of them).
 */
export interface TransactionFinisher {
  begin(tx: Tx): void;
  finish(tx: Tx): Promise<void>;
}
const finishers: TransactionFinisher[] = [];

export function finishTransactionsWith(finisher: TransactionFinisher) {
  finishers.push(finisher);
}

async function finished<T>(tx: Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (const finisher of finishers) finisher.begin(tx);
  const result = await work(tx);
  for (const finisher of finishers) await finisher.finish(tx);
  return result;
}
