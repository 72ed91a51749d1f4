import { createHash, createHmac } from 'node:crypto';

/** What one audit entry says: who did what to which thing, in which place, when. */
export interface AuditContent {
  at: Date;
  person_id: number | null;
  place_id: number | null;
  /** A verb in the capability's words: `partner.add`, `decision.sign_off`, `family.read`. */
  action: string;
  /** What it was done to: `partner:12`, `family:7`. */
  subject: string;
  detail: Record<string, unknown>;
}

export interface ChainedEntry extends AuditContent {
  id: number;
  prev_hash: string;
  hash: string;
}

/** The hash the first entry chains to. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so the hash does not depend on how jsonb reorders keys. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The action of the one entry that starts the keyed chain (written by migration 0050). Entries up
 * to and including it are hashed with plain SHA-256, as before the key existed; every entry after
 * it is hashed with HMAC-SHA256 under the audit key, which is held outside the database.
 */
export const KEY_MARKER_ACTION = 'audit.chain_keyed';

/** The entry's content as the text its hash covers. */
export function entryBody(content: AuditContent): string {
  return canonicalJson({
    at: content.at.toISOString(),
    person_id: content.person_id,
    place_id: content.place_id,
    action: content.action,
    subject: content.subject,
    detail: content.detail,
  });
}

/** SHA-256 of the previous hash and the content; HMAC-SHA256 under `key` once the chain is keyed. */
export function entryHash(prevHash: string, content: AuditContent, key?: Buffer | null): string {
  const h = key ? createHmac('sha256', key) : createHash('sha256');
  return h.update(prevHash).update('\n').update(entryBody(content)).digest('hex');
}

export type ChainBreak = { id: number; reason: string };

/** Where a walk of the chain has got to: whether the key marker has been passed. */
export interface ChainState {
  keyed: boolean;
  /** The id of the key marker, once passed. */
  markerId?: number;
}

/**
 * Checks a run of entries in id order, continuing from `prevHash`. Returns the first entry whose
 * link or content does not match, or null when the run is intact. Entries after the key marker
 * must carry an HMAC under `key`; `state` carries whether the marker was passed across pages.
 */
export function findChainBreak(
  entries: ChainedEntry[],
  prevHash: string,
  options: { key?: Buffer | null; state?: ChainState } = {},
): ChainBreak | null {
  const state = options.state ?? { keyed: false };
  let expectedPrev = prevHash;
  for (const entry of entries) {
    if (entry.prev_hash !== expectedPrev) {
      return {
        id: entry.id,
        reason: 'its link to the previous entry does not match (an entry was removed or reordered)',
      };
    }
    if (state.keyed && !options.key) {
      return { id: entry.id, reason: 'it is keyed, and no audit key was given to check it' };
    }
    if (entryHash(entry.prev_hash, entry, state.keyed ? options.key : null) !== entry.hash) {
      return {
        id: entry.id,
        reason: state.keyed
          ? 'its content does not match its keyed hash (the entry was changed, or the audit key is not the one it was written with)'
          : 'its content does not match its hash (the entry was changed)',
      };
    }
    if (!state.keyed && entry.action === KEY_MARKER_ACTION) {
      state.keyed = true;
      state.markerId = entry.id;
    }
    expectedPrev = entry.hash;
  }
  return null;
}
