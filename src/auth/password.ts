import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );

/** scrypt's cost: a hash carries the parameters it was made with, so it stays checkable. */
export interface PasswordCost {
  N: number;
  r: number;
  p: number;
}

// OWASP's scrypt minimum: N=2^17, r=8, p=1 (128 MiB of memory per hash).
export const PASSWORD_COST: PasswordCost = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const MAX_PASSWORD_LENGTH = 1024;

/** `scrypt$N$r$p$salt$key`, so parameters can be raised later without breaking old hashes. */
export async function hashPassword(password: string, cost: PasswordCost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: 256 * 1024 * 1024 });
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored || password.length > MAX_PASSWORD_LENGTH) return false;
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return timingSafeEqual(actual, expected);
}

/** A hash no password matches, made at `cost`, so unknown emails take as long as wrong passwords. */
export function dummyHash(cost: PasswordCost = PASSWORD_COST): string {
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${'A'.repeat(22)}$${'A'.repeat(43)}`;
}

/**
 * Words at the top of every published list of breached passwords, and of this service. NIST SP
 * 800-63B §5.1.1.2 asks that new passwords be checked against "commonly-used, expected or
 * compromised values"; NCSC's password guidance does the same. A password of 12 or more characters
 * is refused when, with digits and symbols taken off both ends and common letter swaps undone
 * (`p@ssw0rd` → `password`), what is left is one of these words, or one of them repeated.
 * Written for this product (no list is copied); see docs/security.md.
 */
const COMMON_WORDS = new Set(
  `password passwort passw0rd letmein welcome iloveyou qwerty qwertyuiop asdfghjkl zxcvbnm azerty
  admin administrator root login master secret changeme default monkey dragon football baseball
  soccer cricket rugby liverpool arsenal chelsea manchester tottenham sunshine princess superman
  batman starwars trustno shadow michael jennifer jordan hunter ranger buster charlie thomas
  daniel jessica ashley summer winter spring autumn freedom whatever computer internet hello
  helloworld welcomehome lovely love flower cookie cheese chocolate pepper ginger orange banana
  purple yellow london england britain placebudget community communitybudget communitybudgets
  council budget abc abcdef abcdefgh abcdefghijkl test tester testing guest user username`.split(/\s+/),
);

/** Runs people reach for: digits, the alphabet and keyboard rows, each also backwards. */
const SEQUENCES = [
  '0123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc4rfv',
];

const UNLEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

/** Whether the text is one short unit over and over (`abcabcabcabc`, `passwordpassword`). */
function repeats(text: string): boolean {
  for (let size = 1; size <= text.length / 2; size++) {
    if (text.length % size === 0 && text.slice(0, size).repeat(text.length / size) === text) return true;
  }
  return false;
}

/** A sequence run, forwards or backwards, possibly wrapping round (`7890123456`). */
function isSequence(text: string): boolean {
  return SEQUENCES.some((seq) => {
    const round = seq + seq;
    const back = [...round].reverse().join('');
    return round.includes(text) || back.includes(text);
  });
}

/** Why a password is too easy to guess, or null. */
export function commonPasswordProblem(
  password: string,
  person: { email?: string; name?: string } = {},
): string | null {
  const lower = password.normalize('NFKC').toLowerCase();
  const compact = lower.replace(/[\s\-_.]+/g, '');
  if (new Set(compact).size < 4 || repeats(compact) || isSequence(compact)) {
    return 'Password is too easy to guess. Use a few unrelated words instead';
  }
  const core = compact.replace(/^[^a-z]+|[^a-z]+$/g, '');
  const unleet = [...core].map((c) => UNLEET[c] ?? c).join('');
  for (const candidate of [core, unleet]) {
    if (!candidate) continue;
    for (let size = 1; size <= candidate.length; size++) {
      const unit = candidate.slice(0, size);
      if (
        COMMON_WORDS.has(unit) &&
        candidate.length % size === 0 &&
        unit.repeat(candidate.length / size) === candidate
      ) {
        return 'Password is too common. Use a few unrelated words instead';
      }
    }
  }
  const local = (person.email ?? '').toLowerCase().split('@')[0] ?? '';
  const name = (person.name ?? '').toLowerCase().replace(/[\s\-_.]+/g, '');
  if (
    (local.length >= 4 && compact.includes(local.replace(/[\s\-_.]+/g, ''))) ||
    (name.length >= 4 && compact.includes(name))
  ) {
    return 'Password must not contain your name or email address';
  }
  return null;
}

export function validateNewPassword(
  password: string,
  person: { email?: string; name?: string } = {},
): string | null {
  if (password.length < 12) return 'Password must be 12 characters or more';
  if (password.length > MAX_PASSWORD_LENGTH) return 'Password must be 1,024 characters or fewer';
  return commonPasswordProblem(password, person);
}
