import { isIP } from 'node:net';

/** Why the demo (an admin of every place, with a published password) is or is not loaded. */
export interface DemoDecision {
  load: boolean;
  reason: string;
}

/** Addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * The demo loads only where nobody else can sign in with its published password: on a loopback
 * address, outside production, and on the embedded database (a PostgreSQL server is a deployment
 * unless PLACEBUDGET_DEMO=1 says otherwise). PLACEBUDGET_NO_DEMO=1 always keeps it out.
 */
export function demoDecision(env: NodeJS.ProcessEnv, host: string): DemoDecision {
  if (env.PLACEBUDGET_NO_DEMO === '1') return { load: false, reason: 'PLACEBUDGET_NO_DEMO=1' };
  if (env.NODE_ENV === 'production') return { load: false, reason: 'NODE_ENV=production' };
  if (!isLoopbackHost(host)) return { load: false, reason: `HOST ${host} is reachable beyond this machine` };
  if (env.DATABASE_URL && env.PLACEBUDGET_DEMO !== '1') {
    return { load: false, reason: 'DATABASE_URL is set (set PLACEBUDGET_DEMO=1 to load the demo into it)' };
  }
  return { load: true, reason: 'a loopback address outside production' };
}
