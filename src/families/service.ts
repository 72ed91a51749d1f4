import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import type { UnitCostCatalogue } from './catalogue.ts';
import { readCsv } from './csv.ts';
import { hashMatchRows, validateEventRows, type MatchingKey } from './domain.ts';
import { type Actor, type FamilyViewer } from './access.ts';
import { accessibleReferences, saveImportedEvents } from './events.ts';
import { saveMatchList } from './match-lists.ts';

/**
 * One agency's events CSV (family_reference, event_type, occurred_on, quantity, note): all lines or
 * none. Each line passes the same access rule as a single event (case work, for the importer's own
 * agency); a family the importer may not act on is answered exactly as a reference that does not exist.
 */
export async function importEventsCsv(
  tx: Tx,
  placeId: number,
  partnerId: number,
  csv: string,
  catalogue: UnitCostCatalogue,
  viewer: FamilyViewer,
  today: string,
): Promise<number> {
  if (!viewer.partnerIds.includes(partnerId))
    throw new Invalid('You can import events only for the agency you work for', {
      partner_id: 'Select your own agency',
    });
  const records = readCsv(csv, ['family_reference', 'event_type', 'occurred_on']);
  const known = new Set((await catalogue.eventTypes()).map((t) => t.code));
  const refs = await accessibleReferences(tx, placeId, viewer, 'case_work', today);
  const rows = validateEventRows(records, known, new Set(refs.keys()), today);
  const actor: Actor = { personId: viewer.personId };
  return saveImportedEvents(tx, placeId, partnerId, rows, refs, actor);
}

/** One agency's list of people (name, date_of_birth, postcode, criteria), stored only as keyed hashes. */
export async function uploadMatchCsv(
  tx: Tx,
  placeId: number,
  partnerId: number,
  csv: string,
  key: MatchingKey,
  actor: Actor,
): Promise<{ listId: number; rows: number }> {
  const records = readCsv(csv, ['name', 'date_of_birth', 'postcode', 'criteria']);
  const entries = hashMatchRows(records, key);
  return {
    listId: await saveMatchList(tx, placeId, partnerId, key.keyId, entries, actor),
    rows: entries.length,
  };
}

/** Partner reps and key workers act for their own partner; an admin may act for any. */
export function partnerFor(
  roles: readonly string[],
  partnerIds: readonly number[],
  requested: number | undefined,
): number {
  if (requested !== undefined && (roles.includes('admin') || partnerIds.includes(requested)))
    return requested;
  if (requested === undefined && partnerIds.length === 1) return partnerIds[0]!;
  throw new Invalid('Select the agency you act for', { partner_id: 'Select your own agency' });
}
