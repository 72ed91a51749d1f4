/**
 * Limits on voting with an access code (security review 2026-12, H6). A whole neighbourhood may
 * vote through one address (a library's network, a proxy) at once, so right codes are never
 * limited per client; what is limited is what guessing needs, wrong codes:
 * - per client: after `perClient` wrong codes in the window the client is refused outright, even
 *   with a right code, so the answers tell a guesser nothing more;
 * - per process: once the process has seen `perProcess` wrong codes in the window, any client
 *   that has itself given a wrong code is refused, so guessing from many addresses gets one try
 *   per address, while voters who type their code right still get through;
 * - per code: at most `perCode` ballots (a vote and revotes) per code in the window.
 * Codes carry about 59 bits, so these are defence in depth. Counts are kept in memory, per server
 * process, in fixed windows, as @fastify/rate-limit's default store does.
 */
export interface AttemptLimits {
  perClient: number;
  perProcess: number;
  perCode: number;
  windowMs: number;
}

export const CODE_ATTEMPT_LIMITS: AttemptLimits = {
  perClient: 10,
  perProcess: 200,
  perCode: 10,
  windowMs: 15 * 60_000,
};

export const TOO_MANY_CODE_TRIES =
  'Too many tries with access codes from here. Wait 15 minutes and try again, or ask for help at a polling place';

export class CodeAttempts {
  private readonly counts = new Map<string, { n: number; until: number }>();

  constructor(
    readonly limits: AttemptLimits = CODE_ATTEMPT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private get(key: string): number {
    const entry = this.counts.get(key);
    if (!entry) return 0;
    if (entry.until <= this.now()) {
      this.counts.delete(key);
      return 0;
    }
    return entry.n;
  }

  private add(key: string) {
    const now = this.now();
    if (this.counts.size > 100_000)
      for (const [k, e] of this.counts) if (e.until <= now) this.counts.delete(k);
    const entry = this.counts.get(key);
    if (entry && entry.until > now) entry.n += 1;
    else this.counts.set(key, { n: 1, until: now + this.limits.windowMs });
  }

  /** Whether this client may try a code in this process now. */
  allowed(processId: number, client: string): boolean {
    const failed = this.get(`client:${processId}:${client}`);
    if (failed >= this.limits.perClient) return false;
    return !(failed > 0 && this.get(`process:${processId}`) >= this.limits.perProcess);
  }

  /** Whether this code may cast another ballot now (counting this one). */
  ballot(processId: number, codeHash: string): boolean {
    const key = `code:${processId}:${codeHash}`;
    if (this.get(key) >= this.limits.perCode) return false;
    this.add(key);
    return true;
  }

  /** A wrong code from this client. */
  failed(processId: number, client: string) {
    this.add(`client:${processId}:${client}`);
    this.add(`process:${processId}`);
  }
}

const perApp = new WeakMap<object, CodeAttempts>();

/** The one set of counts of a running app (keyed by its dependencies, shared by all its routes). */
export function codeAttemptsOf(app: object): CodeAttempts {
  let attempts = perApp.get(app);
  if (!attempts) perApp.set(app, (attempts = new CodeAttempts()));
  return attempts;
}

/** The error the HTTP layer answers as 429. */
export function tooManyCodeTries(): Error {
  return Object.assign(new Error(TOO_MANY_CODE_TRIES), { statusCode: 429, code: 'too_many_requests' });
}

/**
 * Checks a try with an access code before the ballot is cast: refused (429) when the client has
 * given too many wrong codes, or the code has cast too many ballots; a wrong code is counted (and
 * then reported against the code field by castBallot, as before).
 */
export async function guardCodeTry(
  attempts: CodeAttempts,
  processId: number,
  client: string,
  codeHash: string,
  known: () => Promise<boolean>,
): Promise<void> {
  if (!attempts.allowed(processId, client)) throw tooManyCodeTries();
  if (!(await known())) attempts.failed(processId, client);
  else if (!attempts.ballot(processId, codeHash)) throw tooManyCodeTries();
}
