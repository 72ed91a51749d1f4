/**
 * One limiter for every way of proving a password (the sign-in form, the API, changing a password),
 * keyed on the normalised email so padding or case makes no new bucket. Three limits:
 *
 * - per client and account: `perClient` tries a minute (typos, not guessing);
 * - per client: `perIp` tries a minute across all accounts (password spraying);
 * - per account, from every client together: after `freeFailures` failures in `accountWindowMs`
 *   each try waits longer (doubling up to `maxDelayMs`); past `accountBudget` failures the clients
 *   that have been failing on that account are refused until the window ends. A client that has
 *   not failed on the account (the real person, elsewhere) is only slowed, never refused, so an
 *   attacker cannot turn the limit into a lock-out.
 *
 * The client is `request.ip`, which is the proxy unless `PLACEBUDGET_TRUST_PROXY` names it: then
 * every client shares the per-client limits (documented in docs/security.md). State is in memory,
 * bounded by `maxKeys`, and per process.
 */
export interface ThrottleOptions {
  perClient: number;
  perIp: number;
  windowMs: number;
  freeFailures: number;
  accountBudget: number;
  accountWindowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  perClient: 10,
  perIp: 100,
  windowMs: 60_000,
  freeFailures: 5,
  accountBudget: 20,
  accountWindowMs: 15 * 60_000,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  maxKeys: 50_000,
};

export type ThrottleDecision =
  { allowed: true; delayMs: number } | { allowed: false; retryAfterSeconds: number };

interface Count {
  count: number;
  resetAt: number;
}

interface AccountState {
  failures: number;
  resetAt: number;
  /** Clients that have failed on this account in the window, and how often. */
  failing: Map<string, number>;
}

const MAX_FAILING_CLIENTS = 1_000;

export class SignInThrottle {
  options: ThrottleOptions;
  private readonly clients = new Map<string, Count>();
  private readonly ips = new Map<string, Count>();
  private readonly accounts = new Map<string, AccountState>();

  constructor(
    options: Partial<ThrottleOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_THROTTLE, ...options };
  }

  /** Counts this try and says whether it may go ahead, and after how long a wait. */
  attempt(ip: string, account: string): ThrottleDecision {
    const o = this.options;
    const now = this.now();
    const client = this.bump(this.clients, `${ip}|${account}`, now, o.windowMs);
    const fromIp = this.bump(this.ips, ip, now, o.windowMs);
    if (client.count > o.perClient) return refuse(client.resetAt - now);
    if (fromIp.count > o.perIp) return refuse(fromIp.resetAt - now);
    const state = this.account(account, now);
    if (!state) return { allowed: true, delayMs: 0 };
    if (state.failures >= o.accountBudget && state.failing.has(ip)) return refuse(state.resetAt - now);
    const over = state.failures - o.freeFailures;
    const delayMs = over < 0 ? 0 : Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(over, 30));
    return { allowed: true, delayMs };
  }

  failed(ip: string, account: string) {
    const now = this.now();
    let state = this.account(account, now);
    if (!state) {
      state = { failures: 0, resetAt: now + this.options.accountWindowMs, failing: new Map() };
      remember(this.accounts, account, state, this.options.maxKeys);
    }
    state.failures += 1;
    if (!state.failing.has(ip) && state.failing.size >= MAX_FAILING_CLIENTS) {
      state.failing.delete(state.failing.keys().next().value!);
    }
    state.failing.set(ip, (state.failing.get(ip) ?? 0) + 1);
  }

  /** The right password from this client: its own tries start again; the account's count stands. */
  succeeded(ip: string, account: string) {
    this.clients.delete(`${ip}|${account}`);
    this.accounts.get(account)?.failing.delete(ip);
  }

  private account(key: string, now: number): AccountState | undefined {
    const state = this.accounts.get(key);
    if (state && state.resetAt <= now) {
      this.accounts.delete(key);
      return undefined;
    }
    return state;
  }

  private bump(map: Map<string, Count>, key: string, now: number, windowMs: number): Count {
    let entry = map.get(key);
    if (!entry || entry.resetAt <= now) {
      entry = { count: 0, resetAt: now + windowMs };
      map.delete(key);
      remember(map, key, entry, this.options.maxKeys);
    }
    entry.count += 1;
    return entry;
  }
}

function refuse(ms: number): ThrottleDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
}

/** Adds a key, dropping the oldest when the map is full, so memory stays bounded under a flood. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number) {
  while (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The email as the account lookup sees it: compatibility-normalised, trimmed, lower-cased. */
export function normaliseEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}
