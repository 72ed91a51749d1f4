import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Invalid } from '../core/errors.ts';
import type { MatchingKey } from './domain.ts';
import { todayIso } from '../core/dates.ts';

const MIN_SECRET_LENGTH = 32;

/** PLACEBUDGET_MATCHING_SECRET_ESSEX for essex, …_WEST_LONDON_TRI_BOROUGH for west-london-tri-borough. */
export function secretVariable(slug: string): string {
  return `PLACEBUDGET_MATCHING_SECRET_${slug.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * The place's matching key, never from the repository: an environment variable per place, or a
 * JSON secrets file outside the repo named by PLACEBUDGET_MATCHING_SECRETS_FILE
 * (`{"essex": {"key_id": "2024-01", "secret": "…"}}`). Rotating the secret changes the key id,
 * so lists hashed with the old key are reported as stale instead of silently failing to match.
 */
export function matchingKeyFor(slug: string, env: NodeJS.ProcessEnv = process.env): MatchingKey {
  const fromEnv = env[secretVariable(slug)];
  let key: MatchingKey | null = null;
  if (fromEnv) {
    key = {
      secret: fromEnv,
      keyId:
        env[`${secretVariable(slug)}_KEY_ID`] ??
        createHash('sha256').update(fromEnv).digest('hex').slice(0, 12),
    };
  } else if (env.PLACEBUDGET_MATCHING_SECRETS_FILE) {
    const file = JSON.parse(fs.readFileSync(env.PLACEBUDGET_MATCHING_SECRETS_FILE, 'utf8')) as Record<
      string,
      { key_id?: string; secret?: string }
    >;
    const entry = file[slug];
    if (entry?.secret)
      key = {
        secret: entry.secret,
        keyId: entry.key_id ?? createHash('sha256').update(entry.secret).digest('hex').slice(0, 12),
      };
  }
  if (!key) {
    throw new Invalid(
      `Data matching is not set up for this place: set ${secretVariable(slug)} or PLACEBUDGET_MATCHING_SECRETS_FILE on the server`,
      {
        file: 'Ask your administrator to configure the matching key',
      },
    );
  }
  if (key.secret.length < MIN_SECRET_LENGTH)
    throw new Invalid(`The matching secret for ${slug} must be at least ${MIN_SECRET_LENGTH} characters`, {
      file: 'Matching key too short',
    });
  return key;
}

/**
 * Gives the place a new random matching secret with a new key id in the secrets file (written
 * whole, readable by its owner only). Stored match keys are one-way HMACs of identifiers that are
 * never kept, so they cannot be re-keyed: lists hashed with the old key stop matching (reported
 * as stale) until each agency uploads its list again, and can be erased.
 */
export function rotateMatchingSecret(
  slug: string,
  env: NodeJS.ProcessEnv = process.env,
  today = todayIso(),
): MatchingKey {
  if (env[secretVariable(slug)]) {
    throw new Invalid(
      `The matching secret for ${slug} comes from ${secretVariable(slug)}: set a new value there, with a new ${secretVariable(slug)}_KEY_ID`,
    );
  }
  const file = env.PLACEBUDGET_MATCHING_SECRETS_FILE;
  if (!file)
    throw new Invalid(
      'Set PLACEBUDGET_MATCHING_SECRETS_FILE to the secrets file (outside the repository) to rotate matching secrets',
    );
  const secrets = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)
    : {};
  const key: MatchingKey = {
    keyId: `${today}-${randomBytes(3).toString('hex')}`,
    secret: randomBytes(32).toString('base64url'),
  };
  const next = { ...secrets, [slug]: { key_id: key.keyId, secret: key.secret } };
  // Written beside the file and renamed over it, so a crash never leaves half a secrets file.
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(temporary, file);
  return key;
}
