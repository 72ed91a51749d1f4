import path from 'node:path';

/** Everything the process reads from its environment, read once and validated. */
/** The audit chain's key file in the data folder (src/audit/key.ts); a restore keeps the one in use. */
export const AUDIT_KEY_FILE = 'audit.key';

export interface Config {
  /** When set, a PostgreSQL server; otherwise PGlite persisted to `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  /** Cookies are marked Secure unless explicitly running plain HTTP for local use. */
  secureCookies: boolean;
  logLevel: string;
  sessionHours: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a whole number from 0 to 65535, not "${env.PORT}"`);
  }
  const sessionHours = Number(env.PLACEBUDGET_SESSION_HOURS ?? 8);
  if (!(sessionHours > 0 && sessionHours <= 24 * 30)) {
    throw new Error('PLACEBUDGET_SESSION_HOURS must be between 0 and 720');
  }
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.PLACEBUDGET_DATA_DIR ?? 'data'),
    port,
    host: env.HOST ?? '127.0.0.1',
    // Browsers keep Secure cookies on http://localhost, so Secure is safe as the default.
    secureCookies: env.PLACEBUDGET_INSECURE_COOKIES !== '1',
    logLevel: env.LOG_LEVEL ?? 'info',
    sessionHours,
  };
}
