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
  /**
   * Which proxies in front of the server to believe about the client's address (X-Forwarded-For):
   * false (none, the default), a hop count, or addresses/CIDR ranges. Sign-in limits key on it.
   */
  trustProxy: boolean | number | string;
  /** The address people reach the service at, for links the product hands out (invitations). */
  publicUrl: string;
}

/** `PLACEBUDGET_TRUST_PROXY`: unset or `false`; a hop count (`1`); or `127.0.0.1,10.0.0.0/8`. */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  const text = (value ?? '').trim();
  if (text === '' || text === 'false' || text === '0') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[0-9A-Fa-f.:/, a-z]+$/.test(text)) {
    throw new Error(
      'PLACEBUDGET_TRUST_PROXY must be false, a hop count, or proxy addresses / CIDR ranges separated by commas',
    );
  }
  return text;
}

function parsePublicUrl(value: string | undefined, port: number): string {
  const text = (value ?? '').trim() || `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`PLACEBUDGET_PUBLIC_URL must be an absolute http(s) address, not "${text}"`);
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw new Error(
      `PLACEBUDGET_PUBLIC_URL must be a plain http(s) address like https://budget.example.org, not "${text}"`,
    );
  }
  return url.href.replace(/\/+$/, '');
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
    trustProxy: parseTrustProxy(env.PLACEBUDGET_TRUST_PROXY),
    publicUrl: parsePublicUrl(env.PLACEBUDGET_PUBLIC_URL, port),
  };
}
