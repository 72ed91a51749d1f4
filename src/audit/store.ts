import { sql } from 'kysely';
import type { Database, Tx } from '../core/db.ts';
import { entryHash, findChainBreak, GENESIS_HASH, type AuditContent, type ChainBreak, type ChainedEntry } from './domain.ts';

/** Any constant works; it only has to be the same for every writer of the chain. */
export const AUDIT_CHAIN_LOCK = 4_711_001;

export type AuditInput = Omit<AuditContent, 'at' | 'detail'> & { detail?: Record<string, unknown> };

/**
 * Appends an entry in the caller's transaction, so the entry exists exactly when the change it
 * records does. Writers take one transaction-scoped lock, so entries chain in commit order.
 */
export async function appendAudit(tx: Tx, input: AuditInput): Promise<ChainedEntry> {
  await sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`.execute(tx);
  const last = await tx.selectFrom('audit_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const content: AuditContent = {
    ...input,
    at: new Date(),
    detail: input.detail ?? {},
  };
  const prev_hash = last?.hash ?? GENESIS_HASH;
  const hash = entryHash(prev_hash, content);
  const row = await tx
    .insertInto('audit_log')
    .values({ ...content, detail: JSON.stringify(content.detail), prev_hash, hash })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { ...content, id: row.id, prev_hash, hash };
}

export interface ChainReport {
  entries: number;
  broken: ChainBreak | null;
}

const VERIFY_PAGE = 5_000;

/** Walks the whole chain in pages of bounded size and names the first broken entry. */
export async function verifyAuditChain(db: Database): Promise<ChainReport> {
  let prevHash = GENESIS_HASH;
  let afterId = 0;
  let entries = 0;
  for (;;) {
    const page = await db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(VERIFY_PAGE)
      .execute();
    if (page.length === 0) return { entries, broken: null };
    const broken = findChainBreak(page as ChainedEntry[], prevHash);
    if (broken) return { entries: entries + page.findIndex((e) => e.id === broken.id), broken };
    entries += page.length;
    prevHash = page.at(-1)!.hash;
    afterId = page.at(-1)!.id;
  }
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
export async function listPlaceAudit(tx: Tx, placeId: number, page: number, pageSize = 50): Promise<AuditListing[]> {
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
