import { createHash } from 'node:crypto';

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

export function entryHash(prevHash: string, content: AuditContent): string {
  const body = canonicalJson({
    at: content.at.toISOString(),
    person_id: content.person_id,
    place_id: content.place_id,
    action: content.action,
    subject: content.subject,
    detail: content.detail,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export type ChainBreak = { id: number; reason: string };

/**
 * Checks a run of entries in id order, continuing from `prevHash`. Returns the first entry whose
 * link or content does not match, or null when the run is intact.
 */
export function findChainBreak(entries: ChainedEntry[], prevHash: string): ChainBreak | null {
  let expectedPrev = prevHash;
  for (const entry of entries) {
    if (entry.prev_hash !== expectedPrev) {
      return { id: entry.id, reason: 'its link to the previous entry does not match (an entry was removed or reordered)' };
    }
    if (entryHash(entry.prev_hash, entry) !== entry.hash) {
      return { id: entry.id, reason: 'its content does not match its hash (the entry was changed)' };
    }
    expectedPrev = entry.hash;
  }
  return null;
}
