import { type Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import type { AgencyType } from '../places/domain.ts';
import { knownUnitCosts, type UnitCostCatalogue } from './catalogue.ts';
import { accessBasis, type ImportedEvent, type NewEvent, type Purpose, type Viewer } from './domain.ts';
import {
  type Actor,
  type FamilyViewer,
  assertPartnersOfPlace,
  auditFamily,
  consentsOf,
  listAgreements,
  requireAccess,
} from './access.ts';

/** Events on a family's timeline: logged one by one or imported from an agency, and read back priced. */

// ---------------------------------------------------------------------------------------------
// Events

export interface TimelineEvent {
  id: number;
  event_type: string;
  label: string;
  occurred_on: string;
  quantity: number;
  /** The agency that logged the event (its professional's employer). */
  partner_name: string;
  note: string;
  /** Null when the catalogue has no unit cost for the event's type: not costed, never £0. */
  cost: Pence | null;
  /** The agency type that bears the unit cost, charged as on the cohort page; null when not costed. */
  agency: AgencyType | null;
}

export async function logEvent(
  tx: Tx,
  placeId: number,
  familyId: number,
  partnerId: number,
  event: NewEvent,
  viewer: FamilyViewer,
  today: string,
): Promise<number> {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  if (!viewer.partnerIds.includes(partnerId))
    throw new Invalid('You can log events only for the agency you work for', {
      partner_id: 'Select your own agency',
    });
  const row = await tx
    .insertInto('family_events')
    .values({
      place_id: placeId,
      family_id: familyId,
      partner_id: partnerId,
      ...event,
      recorded_by: viewer.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await auditFamily(tx, placeId, familyId, viewer, 'family.event.log', {
    event_id: row.id,
    event_type: event.event_type,
    quantity: event.quantity,
  });
  return row.id;
}

/**
 * The references of the families this viewer may act on for a purpose now: the same access rule
 * as a single read or write (`accessBasis`), applied to every family of the place at once. A
 * family outside it is left out, so to the bulk import it looks exactly like one that does not exist.
 */
export async function accessibleReferences(
  tx: Tx,
  placeId: number,
  viewer: Viewer,
  purpose: Purpose,
  today: string,
): Promise<Map<string, number>> {
  const rows = await tx
    .selectFrom('families')
    .select(['id', 'reference'])
    .where('place_id', '=', placeId)
    .where('erased_at', 'is', null)
    .execute();
  const agreements = await listAgreements(tx, placeId);
  const consents = await consentsOf(
    tx,
    placeId,
    rows.map((r) => r.id),
  );
  return new Map(
    rows
      .filter((r) => accessBasis(viewer, agreements, consents.get(r.id) ?? [], purpose, today))
      .map((r) => [r.reference, r.id]),
  );
}

export const INSERT_CHUNK = 2_000;

/** Saves an agency's validated import in the caller's transaction: all lines or, on any failure, none. */
export async function saveImportedEvents(
  tx: Tx,
  placeId: number,
  partnerId: number,
  rows: readonly ImportedEvent[],
  refs: ReadonlyMap<string, number>,
  actor: Actor,
): Promise<number> {
  await assertPartnersOfPlace(tx, placeId, [partnerId], 'partner_id');
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await tx
      .insertInto('family_events')
      .values(
        rows.slice(i, i + INSERT_CHUNK).map((r) => ({
          place_id: placeId,
          family_id: refs.get(r.family_reference)!,
          partner_id: partnerId,
          event_type: r.event_type,
          occurred_on: r.occurred_on,
          quantity: r.quantity,
          note: r.note,
          recorded_by: actor.personId,
        })),
      )
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.event.import',
    subject: `partner:${partnerId}`,
    detail: { events: rows.length },
  });
  return rows.length;
}

export async function timeline(
  tx: Tx,
  placeId: number,
  familyId: number,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
): Promise<TimelineEvent[]> {
  const rows = await tx
    .selectFrom('family_events')
    .innerJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'family_events.place_id')
        .onRef('partners.id', '=', 'family_events.partner_id'),
    )
    .select([
      'family_events.id',
      'family_events.event_type',
      'family_events.occurred_on',
      'family_events.quantity',
      'family_events.note',
      'partners.name as partner_name',
    ])
    .where('family_events.place_id', '=', placeId)
    .where('family_events.family_id', '=', familyId)
    .orderBy('family_events.occurred_on', 'desc')
    .orderBy('family_events.id', 'desc')
    .execute();
  const costs = await knownUnitCosts(
    catalogue,
    rows.map((r) => r.event_type),
    priceBase,
  );
  return rows.map((r) => {
    const unit = costs.get(r.event_type);
    return unit
      ? { ...r, label: unit.label, cost: pence(unit.pence * r.quantity), agency: unit.agency }
      : { ...r, label: r.event_type, cost: null, agency: null };
  });
}
