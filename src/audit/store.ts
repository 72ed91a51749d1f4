import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { finishTransactionsWith, type Database, type Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import {
  canonicalJson,
  entryHash,
  findChainBreak,
  GENESIS_HASH,
  type AuditContent,
  type ChainBreak,
  type ChainedEntry,
  type ChainState,
} from './domain.ts';
import { auditKey } from './key.ts';

/** Any constant works; it only has to be the same for every writer of the chain. */
export const AUDIT_CHAIN_LOCK = 4_711_001;

export type AuditInput = Omit<AuditContent, 'at' | 'detail'> & { detail?: Record<string, unknown> };

/**
 * Entries waiting for the end of their transaction. inPlace() and inSystem() open a queue for the
 * transaction they run and flush it as the last statement before COMMIT, so the chain's one global
 * lock is held for the append and the commit only, not for the rest of the request's work.
 */
const pending = new WeakMap<Tx, AuditInput[]>();

/** Called by inPlace()/inSystem() when they open a transaction. */
export function deferAuditIn(tx: Tx) {
  pending.set(tx, []);
}

/** Writes the entries queued in `tx` (the transaction's last statements before COMMIT). */
export async function flushAudit(tx: Tx): Promise<void> {
  const queue = pending.get(tx);
  if (!queue || queue.length === 0) return;
  pending.set(tx, []);
  await writeEntries(tx, queue);
}

// Every inPlace/inSystem transaction queues its audit entries and appends them just before COMMIT.
finishTransactionsWith({ begin: deferAuditIn, finish: flushAudit });

/**
 * Appends an entry in the caller's transaction, so the entry exists exactly when the change it
 * records does. In a transaction opened by inPlace()/inSystem() the entry is written just before
 * COMMIT; in any other transaction it is written at once.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<void> {
  const queue = pending.get(tx);
  if (queue) queue.push(input);
  else await writeEntries(tx, [input]);
}

/**
 * Writers take one transaction-scoped lock, so entries chain in commit order; the last hash is
 * read after the lock is granted, so it is the last committed one. Every entry written here comes
 * after the key marker (migration 0050), so each is an HMAC under the audit key.
 */
async function writeEntries(tx: Tx, inputs: AuditInput[]): Promise<ChainedEntry[]> {
  const { key } = auditKey();
  await sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`.execute(tx);
  const last = await tx
    .selectFrom('audit_log')
    .select('hash')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  let prev_hash = last?.hash ?? GENESIS_HASH;
  const at = new Date();
  const entries = inputs.map((input) => {
    const content: AuditContent = { ...input, at, detail: input.detail ?? {} };
    const hash = entryHash(prev_hash, content, key);
    const entry = { ...content, prev_hash, hash };
    prev_hash = hash;
    return entry;
  });
  const rows = await tx
    .insertInto('audit_log')
    .values(entries.map((e) => ({ ...e, detail: JSON.stringify(e.detail) })))
    .returning('id')
    .execute();
  return entries.map((e, i) => ({ ...e, id: rows[i]!.id }));
}

export interface ChainReport {
  entries: number;
  broken: ChainBreak | null;
}

/** What a full walk of the chain found: its length, its head and where the keyed part starts. */
export interface ChainWalk extends ChainReport {
  lastId: number | null;
  lastHash: string | null;
  keyedFrom: number | null;
}

const VERIFY_PAGE = 5_000;

/** Walks the whole chain in pages of bounded size and names the first broken entry. */
export async function verifyAuditChain(db: Database): Promise<ChainReport> {
  const { entries, broken } = await walkAuditChain(db);
  return { entries, broken };
}

export async function walkAuditChain(db: Database, key: Buffer = auditKey().key): Promise<ChainWalk> {
  let prevHash = GENESIS_HASH;
  let afterId = 0;
  let entries = 0;
  const state: ChainState = { keyed: false };
  let lastHash: string | null = null;
  for (;;) {
    const page = await db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(VERIFY_PAGE)
      .execute();
    const keyedFrom = state.markerId ?? null;
    if (page.length === 0) {
      if (entries > 0 && !state.keyed) {
        return {
          entries,
          broken: {
            id: afterId,
            reason: 'the chain has no key marker, so none of it is keyed (the marker was removed)',
          },
          lastId: afterId,
          lastHash,
          keyedFrom,
        };
      }
      return { entries, broken: null, lastId: afterId || null, lastHash, keyedFrom };
    }
    const broken = findChainBreak(page as ChainedEntry[], prevHash, { key, state });
    if (broken) {
      return {
        entries: entries + page.findIndex((e) => e.id === broken.id),
        broken,
        lastId: null,
        lastHash: null,
        keyedFrom: state.markerId ?? null,
      };
    }
    entries += page.length;
    prevHash = lastHash = page.at(-1)!.hash;
    afterId = page.at(-1)!.id;
  }
}

/**
 * A checkpoint: the chain's length and head at a moment, signed with the audit key. Published
 * outside the database (printed, filed, sent to the board), it lets `audit verify --checkpoint`
 * find a cut tail or a re-chained rewrite, which a walk of the database alone cannot.
 */
export interface Checkpoint {
  format: 'placebudget-audit-checkpoint/1';
  entries: number;
  last_id: number;
  last_hash: string;
  keyed_from: number;
  key_id: string;
  at: string;
  signature: string;
}

function checkpointSignature(key: Buffer, fields: Omit<Checkpoint, 'signature'>): string {
  return createHmac('sha256', key)
    .update('placebudget audit checkpoint\n')
    .update(canonicalJson(fields))
    .digest('hex');
}

/** Signs the head of an intact chain; refuses a broken or empty one. */
export async function makeCheckpoint(db: Database, now = new Date()): Promise<Checkpoint> {
  const key = auditKey();
  const walk = await walkAuditChain(db, key.key);
  if (walk.broken)
    throw new Invalid(
      `The audit chain is broken at entry ${walk.broken.id}: ${walk.broken.reason}. No checkpoint was made.`,
    );
  if (walk.lastId === null || walk.lastHash === null || walk.keyedFrom === null)
    throw new Invalid('The audit chain is empty: nothing to checkpoint');
  const fields = {
    format: 'placebudget-audit-checkpoint/1' as const,
    entries: walk.entries,
    last_id: walk.lastId,
    last_hash: walk.lastHash,
    keyed_from: walk.keyedFrom,
    key_id: key.id,
    at: now.toISOString(),
  };
  return { ...fields, signature: checkpointSignature(key.key, fields) };
}

/** Reads a checkpoint file's JSON and checks its signature. */
export function parseCheckpoint(text: string): Checkpoint {
  let value: Checkpoint;
  try {
    value = JSON.parse(text) as Checkpoint;
  } catch {
    throw new Invalid('The checkpoint is not JSON made by `placebudget audit checkpoint`');
  }
  if (value?.format !== 'placebudget-audit-checkpoint/1' || typeof value.signature !== 'string') {
    throw new Invalid('The checkpoint is not one made by `placebudget audit checkpoint`');
  }
  return value;
}

/**
 * The chain must be intact, and still hold the checkpoint's head: the same entry count up to the
 * same last entry with the same hash, keyed from the same marker. The signature shows the checkpoint
 * itself was made with this audit key and not changed.
 */
export async function verifyAgainstCheckpoint(db: Database, checkpoint: Checkpoint): Promise<ChainReport> {
  const key = auditKey();
  const { signature, ...fields } = checkpoint;
  const expected = Buffer.from(checkpointSignature(key.key, fields), 'hex');
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      entries: 0,
      broken: {
        id: checkpoint.last_id,
        reason:
          "the checkpoint's signature does not match the audit key (the checkpoint was changed or made with another key)",
      },
    };
  }
  const walk = await walkAuditChain(db, key.key);
  if (walk.broken) return { entries: walk.entries, broken: walk.broken };
  const atCheckpoint = await db.kysely
    .selectFrom('audit_log')
    .select('hash')
    .where('id', '=', checkpoint.last_id)
    .executeTakeFirst();
  const upTo = await sql<{
    n: number;
  }>`select count(*)::int as n from audit_log where id <= ${checkpoint.last_id}`.execute(db.kysely);
  if (!atCheckpoint) {
    return {
      entries: walk.entries,
      broken: {
        id: checkpoint.last_id,
        reason: `the checkpoint's last entry is missing: the chain was cut back to ${walk.entries} entries from at least ${checkpoint.entries}`,
      },
    };
  }
  if (
    atCheckpoint.hash !== checkpoint.last_hash ||
    upTo.rows[0]!.n !== checkpoint.entries ||
    walk.keyedFrom !== checkpoint.keyed_from
  ) {
    return {
      entries: walk.entries,
      broken: {
        id: checkpoint.last_id,
        reason:
          'the chain no longer matches the checkpoint (entries up to it were rewritten, removed or re-chained)',
      },
    };
  }
  return { entries: walk.entries, broken: null };
}

export interface AuditListing {
  id: number;
  at: Date;
  action: string;
  subject: string;
  person_name: string | null;
  detail: Record<string, unknown>;
}

/** A place's audit trail, newest first, a page at a time. */
export async function listPlaceAudit(
  tx: Tx,
  placeId: number,
  page: number,
  pageSize = 50,
): Promise<AuditListing[]> {
  return tx
    .selectFrom('audit_log')
    .leftJoin('people', 'people.id', 'audit_log.person_id')
    .select(['audit_log.id', 'audit_log.at', 'audit_log.action', 'audit_log.subject', 'audit_log.detail'])
    .select('people.name as person_name')
    .where('audit_log.place_id', '=', placeId)
    .orderBy('audit_log.id', 'desc')
    .limit(pageSize)
    .offset((page - 1) * pageSize)
    .execute();
}
