import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../core/config.ts';
import { AUDIT_KEY_FILE } from '../core/config.ts';

/**
 * The secret that keys the audit chain (HMAC-SHA256). It is held outside the database, so someone
 * who can write to the database but not read this secret cannot rewrite an entry and re-chain the
 * ones after it. Taken from PLACEBUDGET_AUDIT_KEY (at least 32 characters; every server of one
 * database must share it), or else from `audit.key` in the data folder, made with mode 0600 on the
 * first start.
 */
export interface AuditKey {
  key: Buffer;
  /** A short, non-secret name for the key, written into checkpoints. */
  id: string;
  source: 'env' | 'file';
  file?: string;
  created: boolean;
}

export { AUDIT_KEY_FILE };
const MIN_ENV_KEY = 32;

let current: AuditKey | null = null;

export function loadAuditKey(
  config: Pick<Config, 'dataDir'>,
  env: NodeJS.ProcessEnv = process.env,
): AuditKey {
  const fromEnv = env.PLACEBUDGET_AUDIT_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_ENV_KEY)
      throw new Error(`PLACEBUDGET_AUDIT_KEY must be at least ${MIN_ENV_KEY} characters`);
    current = withId({ key: Buffer.from(fromEnv, 'utf8'), source: 'env', created: false });
    return current;
  }
  const file = path.join(config.dataDir, AUDIT_KEY_FILE);
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (err) {
      // Another process made it at the same moment: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077)
    throw new Error(`The audit key ${file} must be readable by its owner only (chmod 600 ${file})`);
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`The audit key ${file} is not 64 hexadecimal characters`);
  current = withId({ key: Buffer.from(text, 'hex'), source: 'file', file, created });
  return current;
}

function withId(key: Omit<AuditKey, 'id'>): AuditKey {
  return {
    ...key,
    id: createHmac('sha256', key.key).update('placebudget audit key id').digest('hex').slice(0, 16),
  };
}

/** The key loaded at start-up, or (the CLI, tests) the one the environment and data folder give. */
export function auditKey(): AuditKey {
  return current ?? loadAuditKey(loadConfig());
}
