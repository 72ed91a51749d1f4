import { sql } from 'kysely';
import { inSystem, type Database, type Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import type { AgencyType } from '../places/domain.ts';
import type { UnitCostCatalogue } from './catalogue.ts';
import {
  accessBasis,
  addCosts,
  changePct,
  consentFor,
  costOf,
  DEFAULT_MATCH_THRESHOLD,
  emptySummary,
  PROFESSIONAL_ROLES,
  proposeHouseholds,
  validateClaim,
  type AccessBasis,
  type AgreementTerms,
  type ConsentRecord,
  type CostSummary,
  type Criterion,
  type EventQuantity,
  type ImportedEvent,
  type MatchEntry,
  type NewAgreement,
  type NewConsent,
  type NewEvent,
  type NewFamily,
  type Purpose,
  type Viewer,
} from './domain.ts';
import type { PotIncome } from './income.ts';
import { assertPartnersOfPlace as assertPartnersOf } from '../places/public.ts';

export interface Actor {
  personId: number;
}

export interface FamilyViewer extends Viewer, Actor {}

// ---------------------------------------------------------------------------------------------
// Agreements and consent

export interface AgreementRow extends AgreementTerms {
  title: string;
  data_categories: string[];
}

export async function listAgreements(tx: Tx, placeId: number): Promise<AgreementRow[]> {
  const rows = await tx
    .selectFrom('family_agreements')
    .select(['id', 'title', 'purposes', 'data_categories', 'legal_basis', 'starts_on', 'ends_on'])
    .where('place_id', '=', placeId)
    .orderBy('id')
    .execute();
  const parties = await tx
    .selectFrom('family_agreement_parties')
    .select(['agreement_id', 'partner_id'])
    .where('place_id', '=', placeId)
    .execute();
  return rows.map((r) => ({
    ...r,
    party_ids: parties
      .filter((p) => p.agreement_id === r.id)
      .map((p) => p.partner_id)
      .sort((a, b) => a - b),
  }));
}

async function assertPartnersOfPlace(tx: Tx, placeId: number, ids: readonly number[], field: string) {
  await assertPartnersOf(tx, placeId, ids, 'Select partners of this place', {
    [field]: 'Select partners of this place',
  });
}

export async function createAgreement(
  tx: Tx,
  placeId: number,
  input: NewAgreement,
  actor: Actor,
): Promise<AgreementRow> {
  await assertPartnersOfPlace(tx, placeId, input.party_ids, 'party_ids');
  const { party_ids, ...terms } = input;
  const row = await tx
    .insertInto('family_agreements')
    .values({ place_id: placeId, ...terms, created_by: actor.personId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await tx
    .insertInto('family_agreement_parties')
    .values(party_ids.map((partner_id) => ({ place_id: placeId, agreement_id: row.id, partner_id })))
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family_agreement.create',
    subject: `family_agreement:${row.id}`,
    detail: { ...input },
  });
  return (await listAgreements(tx, placeId)).find((a) => a.id === row.id)!;
}

/** An agreement ends on a date (it no longer covers any reads after it); it can be brought forward, never reopened. */
export async function endAgreement(
  tx: Tx,
  placeId: number,
  agreementId: number,
  endsOn: string,
  actor: Actor,
): Promise<void> {
  const agreement = await tx
    .selectFrom('family_agreements')
    .select(['id', 'starts_on', 'ends_on'])
    .where('place_id', '=', placeId)
    .where('id', '=', agreementId)
    .forUpdate()
    .executeTakeFirst();
  if (!agreement) throw new NotFound('Agreement not found');
  if (endsOn < agreement.starts_on)
    throw new Invalid('The agreement cannot end before it starts', {
      ends_on: `Enter a date on or after ${agreement.starts_on}`,
    });
  if (agreement.ends_on !== null && agreement.ends_on <= endsOn)
    throw new Invalid(`The agreement already ends on ${agreement.ends_on}`, {
      ends_on: `Enter a date before ${agreement.ends_on}`,
    });
  await tx
    .updateTable('family_agreements')
    .set({ ends_on: endsOn })
    .where('place_id', '=', placeId)
    .where('id', '=', agreementId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family_agreement.end',
    subject: `family_agreement:${agreementId}`,
    detail: { ends_on: endsOn, was: agreement.ends_on },
  });
}

async function consentsOf(
  tx: Tx,
  placeId: number,
  familyIds: readonly number[],
): Promise<Map<number, ConsentRecord[]>> {
  const out = new Map<number, ConsentRecord[]>();
  if (!familyIds.length) return out;
  const rows = await tx
    .selectFrom('family_consents')
    .select(['id', 'family_id', 'purpose', 'state'])
    .where('place_id', '=', placeId)
    .where('family_id', 'in', familyIds)
    .orderBy('id')
    .execute();
  for (const r of rows) out.set(r.family_id, [...(out.get(r.family_id) ?? []), r]);
  return out;
}

async function familyExists(tx: Tx, placeId: number, familyId: number) {
  const row = await tx
    .selectFrom('families')
    .select(['id', 'reference', 'erased_at'])
    .where('place_id', '=', placeId)
    .where('id', '=', familyId)
    .executeTakeFirst();
  if (!row) throw new NotFound('Family not found');
  return row;
}

/**
 * The family a form acts on, after the access rule, with only its non-personal reference and
 * status: showing a form is not a read of the family's personal data.
 */
export async function familyForForm(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: Viewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  return tx
    .selectFrom('families')
    .select(['id', 'reference', 'status'])
    .where('place_id', '=', placeId)
    .where('id', '=', familyId)
    .executeTakeFirstOrThrow();
}

/** Whether the viewer may read the family for case work now (a newly opened family may first need consent). */
export async function mayRead(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: Viewer,
  today: string,
): Promise<boolean> {
  return requireAccess(tx, placeId, familyId, viewer, 'case_work', today).then(
    () => true,
    (err: unknown) => {
      if (err instanceof NotFound) return false;
      throw err;
    },
  );
}

/** The access rule applied to one family, or NotFound: a person who may not see it learns nothing, not even that it exists. */
export async function requireAccess(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: Viewer,
  purpose: Purpose,
  today: string,
): Promise<AccessBasis> {
  if (!Number.isSafeInteger(familyId)) throw new NotFound('Family not found');
  const family = await tx
    .selectFrom('families')
    .select(['id', 'erased_at'])
    .where('place_id', '=', placeId)
    .where('id', '=', familyId)
    .executeTakeFirst();
  if (!family || family.erased_at) throw new NotFound('Family not found');
  const basis = accessBasis(
    viewer,
    await listAgreements(tx, placeId),
    (await consentsOf(tx, placeId, [familyId])).get(familyId) ?? [],
    purpose,
    today,
  );
  if (!basis) throw new NotFound('Family not found');
  return basis;
}

/**
 * Consent is recorded by a professional whose partner is party to an agreement in force for the
 * purpose (for any of `purposes`), whatever the current consent: they are the ones who ask the family.
 */
export async function requireConsentTaker(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: Viewer,
  purposes: readonly Purpose[],
  today: string,
) {
  const family = await familyExists(tx, placeId, familyId);
  const agreements = (await listAgreements(tx, placeId)).map((a) => ({
    ...a,
    legal_basis: 'public_task' as const,
  }));
  if (family.erased_at || !purposes.some((p) => accessBasis(viewer, agreements, [], p, today)))
    throw new NotFound('Family not found');
  return { id: family.id, reference: family.reference };
}

export async function recordConsent(
  tx: Tx,
  placeId: number,
  familyId: number,
  input: NewConsent,
  viewer: FamilyViewer,
  today: string,
): Promise<void> {
  await requireConsentTaker(tx, placeId, familyId, viewer, [input.purpose], today);
  const row = await tx
    .insertInto('family_consents')
    .values({ place_id: placeId, family_id: familyId, ...input, recorded_by: viewer.personId })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.consent',
    subject: `family:${familyId}`,
    detail: {
      consent_id: row.id,
      purpose: input.purpose,
      state: input.state,
      recorded_on: input.recorded_on,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The family record (personal data: every read is audited)

export interface FamilySummary {
  id: number;
  reference: string;
  household_name: string | null;
  postcode: string | null;
  status: string;
  taken_on: string;
}

/** The families this professional may see for case work; reading their names is itself audited. */
export async function listFamilies(
  tx: Tx,
  placeId: number,
  viewer: FamilyViewer,
  today: string,
): Promise<FamilySummary[]> {
  const families = await tx
    .selectFrom('families')
    .select(['id', 'reference', 'household_name', 'postcode', 'status', 'taken_on'])
    .where('place_id', '=', placeId)
    .where('erased_at', 'is', null)
    .orderBy('reference')
    .execute();
  const agreements = await listAgreements(tx, placeId);
  const consents = await consentsOf(
    tx,
    placeId,
    families.map((f) => f.id),
  );
  const visible = families.filter((f) =>
    accessBasis(viewer, agreements, consents.get(f.id) ?? [], 'case_work', today),
  );
  if (visible.length) {
    await appendAudit(tx, {
      person_id: viewer.personId,
      place_id: placeId,
      action: 'family.list',
      subject: 'families',
      detail: {
        purpose: 'case_work',
        families: visible.map((f) => f.id),
        fields: ['household_name', 'postcode'],
      },
    });
  }
  return visible;
}

export interface FamilyRecord {
  id: number;
  reference: string;
  household_name: string | null;
  address: string | null;
  postcode: string | null;
  status: string;
  closure_reason: string | null;
  taken_on: string;
  lead_professional: string | null;
  lead_partner: string | null;
  members: { id: number; name: string | null; date_of_birth: string | null; relationship: string | null }[];
  professionals: {
    id: number;
    name: string | null;
    role: string;
    partner_id: number;
    partner_name: string;
    agency_type: AgencyType;
  }[];
  consents: {
    id: number;
    purpose: string;
    state: string;
    given_by: string | null;
    recorded_on: string;
    recorded_by: string;
  }[];
  consent_state: Record<string, 'given' | 'withdrawn' | null>;
  access: AccessBasis;
}

async function loadRecord(tx: Tx, placeId: number, familyId: number) {
  const family = await tx
    .selectFrom('families')
    .leftJoin('people', 'people.id', 'families.lead_professional_id')
    .leftJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'families.place_id')
        .onRef('partners.id', '=', 'families.lead_partner_id'),
    )
    .select([
      'families.id',
      'families.reference',
      'families.household_name',
      'families.address',
      'families.postcode',
      'families.status',
      'families.closure_reason',
      'families.taken_on',
      'families.erased_at',
      'people.name as lead_professional',
      'partners.name as lead_partner',
    ])
    .where('families.place_id', '=', placeId)
    .where('families.id', '=', familyId)
    .executeTakeFirstOrThrow();
  const members = await tx
    .selectFrom('family_members')
    .select(['id', 'name', 'date_of_birth', 'relationship'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .orderBy('id')
    .execute();
  const professionals = await tx
    .selectFrom('family_professionals')
    .innerJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'family_professionals.place_id')
        .onRef('partners.id', '=', 'family_professionals.partner_id'),
    )
    .select([
      'family_professionals.id',
      'family_professionals.name',
      'family_professionals.role',
      'family_professionals.partner_id',
      'partners.name as partner_name',
      'partners.agency_type',
    ])
    .where('family_professionals.place_id', '=', placeId)
    .where('family_professionals.family_id', '=', familyId)
    .orderBy('partners.name')
    .execute();
  const consents = await tx
    .selectFrom('family_consents')
    .innerJoin('people', 'people.id', 'family_consents.recorded_by')
    .select([
      'family_consents.id',
      'family_consents.purpose',
      'family_consents.state',
      'family_consents.given_by',
      'family_consents.recorded_on',
      'people.name as recorded_by',
    ])
    .where('family_consents.place_id', '=', placeId)
    .where('family_consents.family_id', '=', familyId)
    .orderBy('family_consents.id', 'desc')
    .execute();
  return { family, members, professionals, consents };
}

/** Reads one family's record for a purpose, after the access rule, and writes who read what and why to the audit log. */
export async function readFamily(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: FamilyViewer,
  purpose: Purpose,
  today: string,
): Promise<FamilyRecord> {
  const access = await requireAccess(tx, placeId, familyId, viewer, purpose, today);
  const { family, members, professionals, consents } = await loadRecord(tx, placeId, familyId);
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.read',
    subject: `family:${familyId}`,
    detail: {
      purpose,
      basis: access.basis,
      agreement_id: access.agreementId,
      fields: ['household', 'members', 'address', 'consents', 'professionals'],
    },
  });
  const purposes = [...new Set(consents.map((c) => c.purpose))];
  const records = consents.map((c) => ({ id: c.id, purpose: c.purpose, state: c.state }));
  const { erased_at: _erased, ...rest } = family;
  return {
    ...rest,
    members,
    professionals,
    consents,
    consent_state: Object.fromEntries(purposes.map((p) => [p, consentFor(records, p)])),
    access,
  };
}

/** Who may lead a family's work: the place's key workers and partner reps, each with the partner they work for. */
export async function listLeadProfessionals(tx: Tx, placeId: number) {
  return tx
    .selectFrom('memberships')
    .innerJoin('people', 'people.id', 'memberships.person_id')
    .innerJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'memberships.place_id')
        .onRef('partners.id', '=', 'memberships.partner_id'),
    )
    .select(['people.id', 'people.name', 'partners.id as partner_id', 'partners.name as partner_name'])
    .where('memberships.place_id', '=', placeId)
    .where('memberships.role', 'in', [...PROFESSIONAL_ROLES])
    .distinctOn('people.id')
    .orderBy('people.id')
    .execute();
}

/** A professional opens a record for a family; they lead it unless they name another professional of the place. */
export async function createFamily(
  tx: Tx,
  placeId: number,
  input: NewFamily,
  viewer: FamilyViewer,
): Promise<{ id: number; reference: string }> {
  const clash = await tx
    .selectFrom('families')
    .select('id')
    .where('place_id', '=', placeId)
    .where('reference', '=', input.reference)
    .executeTakeFirst();
  if (clash)
    throw new Invalid('There is a problem with the family record', {
      reference: 'A family with this reference already exists',
    });
  const chosen =
    input.lead_professional_id === null
      ? null
      : (await listLeadProfessionals(tx, placeId)).find((p) => p.id === input.lead_professional_id);
  if (input.lead_professional_id !== null && !chosen) {
    throw new Invalid('There is a problem with the family record', {
      lead_professional_id: 'Select a key worker or partner representative of this place',
    });
  }
  const leadPartner = input.lead_partner_id ?? chosen?.partner_id ?? viewer.partnerIds[0] ?? null;
  if (leadPartner !== null) await assertPartnersOfPlace(tx, placeId, [leadPartner], 'lead_partner_id');
  const row = await tx
    .insertInto('families')
    .values({
      place_id: placeId,
      reference: input.reference,
      household_name: input.household_name,
      address: input.address || null,
      postcode: input.postcode || null,
      taken_on: input.taken_on,
      status: input.status,
      lead_professional_id: chosen?.id ?? viewer.personId,
      lead_partner_id: leadPartner,
    })
    .returning(['id', 'reference'])
    .executeTakeFirstOrThrow();
  if (input.members.length) {
    await tx
      .insertInto('family_members')
      .values(input.members.map((m) => ({ place_id: placeId, family_id: row.id, ...m })))
      .execute();
  }
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.create',
    subject: `family:${row.id}`,
    detail: { reference: row.reference, members: input.members.length, taken_on: input.taken_on },
  });
  return row;
}

export async function addProfessional(
  tx: Tx,
  placeId: number,
  familyId: number,
  input: { partner_id: number; name: string; role: string },
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  await assertPartnersOfPlace(tx, placeId, [input.partner_id], 'partner_id');
  const row = await tx
    .insertInto('family_professionals')
    .values({ place_id: placeId, family_id: familyId, ...input })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.professional.add',
    subject: `family:${familyId}`,
    detail: { professional_id: row.id, partner_id: input.partner_id },
  });
}

export async function closeFamily(
  tx: Tx,
  placeId: number,
  familyId: number,
  reason: string,
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  if (!reason.trim() || reason.trim().length > 500)
    throw new Invalid('Give the reason for closing', {
      closure_reason: 'Enter the reason the family’s record is closed, up to 500 characters',
    });
  await tx
    .updateTable('families')
    .set({ status: 'closed', closure_reason: reason.trim() })
    .where('place_id', '=', placeId)
    .where('id', '=', familyId)
    .execute();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.close',
    subject: `family:${familyId}`,
    // The reason is free text about the family: it stays in the erasable record, never in the audit log.
    detail: { status: 'closed', reason_length: reason.trim().length },
  });
}

// ---------------------------------------------------------------------------------------------
// Events

export interface TimelineEvent {
  id: number;
  event_type: string;
  label: string;
  occurred_on: string;
  quantity: number;
  partner_name: string;
  note: string;
  cost: Pence;
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
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.event.log',
    subject: `family:${familyId}`,
    detail: { event_id: row.id, event_type: event.event_type, quantity: event.quantity },
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

const INSERT_CHUNK = 2_000;

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
  const costs = await catalogue.unitCosts(
    rows.map((r) => r.event_type),
    priceBase,
  );
  return rows.map((r) => ({
    ...r,
    label: costs.get(r.event_type)!.label,
    cost: pence(costs.get(r.event_type)!.pence * r.quantity),
  }));
}

// ---------------------------------------------------------------------------------------------
// Costing: SQL sums quantities; the unit costs (and their price base) come from the catalogue.

export interface FamilyCost {
  family_id: number;
  reference: string;
  cost: CostSummary;
}

/** Cost per family of the events in [from, to), with the place's total. No personal data. */
export async function costByFamily(
  tx: Tx,
  placeId: number,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
  from: string,
  to: string,
): Promise<{ families: FamilyCost[]; total: CostSummary }> {
  const rows = await tx
    .selectFrom('family_events')
    .select(['family_id', 'event_type'])
    .select((eb) => eb.fn.sum<string>('quantity').as('quantity'))
    .where('place_id', '=', placeId)
    .where('occurred_on', '>=', from)
    .where('occurred_on', '<', to)
    .groupBy(['family_id', 'event_type'])
    .execute();
  const families = await tx
    .selectFrom('families')
    .select(['id', 'reference'])
    .where('place_id', '=', placeId)
    .orderBy('reference')
    .execute();
  const costs = await catalogue.unitCosts(
    rows.map((r) => r.event_type),
    priceBase,
  );
  const byFamily = new Map<number, EventQuantity[]>();
  for (const r of rows)
    byFamily.set(r.family_id, [
      ...(byFamily.get(r.family_id) ?? []),
      { event_type: r.event_type, quantity: Number(r.quantity) },
    ]);
  const total = emptySummary();
  const out = families.map((f) => {
    const quantities = byFamily.get(f.id) ?? [];
    addCosts(total, quantities, costs);
    return { family_id: f.id, reference: f.reference, cost: costOf(quantities, costs) };
  });
  return { families: out, total };
}

export interface FamilyBeforeAfter {
  family_id: number;
  reference: string;
  taken_on: string;
  before: Pence;
  after: Pence;
  changePct: number | null;
  professionals: number;
  agencies: number;
}

export interface Cohort {
  families: number;
  byAgencyYear: { year: number; agency: AgencyType; cost: Pence }[];
  before: CostSummary;
  after: CostSummary;
  changePct: number | null;
  perFamily: FamilyBeforeAfter[];
}

/** Cost by the agency that bears it and by financial year: quantities summed in SQL, priced from the catalogue. */
export async function costByAgencyYear(
  tx: Tx,
  placeId: number | null,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
): Promise<{ year: number; agency: AgencyType; cost: Pence }[]> {
  let query = tx
    .selectFrom('family_events')
    .select(['event_type'])
    .select(sql<number>`extract(year from occurred_on - interval '3 months')::int`.as('year'))
    .select((eb) => eb.fn.sum<string>('quantity').as('quantity'))
    .groupBy(['event_type', sql`2`]);
  if (placeId !== null) query = query.where('place_id', '=', placeId);
  const rows = await query.execute();
  const costs = await catalogue.unitCosts(
    rows.map((r) => r.event_type),
    priceBase,
  );
  const cells = new Map<string, { year: number; agency: AgencyType; cost: Pence }>();
  for (const r of rows) {
    const unit = costs.get(r.event_type)!;
    const key = `${r.year}|${unit.agency}`;
    const cell = cells.get(key) ?? { year: Number(r.year), agency: unit.agency, cost: 0 };
    cell.cost = pence(cell.cost + unit.pence * Number(r.quantity));
    cells.set(key, cell);
  }
  return [...cells.values()].sort((x, y) => x.year - y.year || x.agency.localeCompare(y.agency));
}

/**
 * The place's cohort: cost by bearing agency and financial year, and each family's twelve months
 * before its date taken on against the twelve months after, with the people and agencies around it.
 */
export async function cohort(
  tx: Tx,
  placeId: number,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
): Promise<Cohort> {
  const byAgencyYear = await costByAgencyYear(tx, placeId, catalogue, priceBase);
  const windows = await tx
    .selectFrom('family_events as e')
    .innerJoin('families as f', (j) =>
      j.onRef('f.place_id', '=', 'e.place_id').onRef('f.id', '=', 'e.family_id'),
    )
    .select(['e.family_id', 'e.event_type'])
    .select(
      sql<string>`coalesce(sum(e.quantity) filter (where e.occurred_on >= f.taken_on - interval '12 months' and e.occurred_on < f.taken_on), 0)`.as(
        'before',
      ),
    )
    .select(
      sql<string>`coalesce(sum(e.quantity) filter (where e.occurred_on >= f.taken_on and e.occurred_on < f.taken_on + interval '12 months'), 0)`.as(
        'after',
      ),
    )
    .where('e.place_id', '=', placeId)
    .groupBy(['e.family_id', 'e.event_type'])
    .execute();
  const families = await tx
    .selectFrom('families')
    .select(['id', 'reference', 'taken_on'])
    .where('place_id', '=', placeId)
    .orderBy('reference')
    .execute();
  const people = await tx
    .selectFrom('family_professionals')
    .select(['family_id'])
    .select((eb) => [
      eb.fn.countAll<string>().as('professionals'),
      eb.fn.count<string>('partner_id').distinct().as('agencies'),
    ])
    .where('place_id', '=', placeId)
    .groupBy('family_id')
    .execute();
  const costs = await catalogue.unitCosts(
    windows.map((r) => r.event_type),
    priceBase,
  );
  const before = emptySummary();
  const after = emptySummary();
  const perFamily = families.map((f) => {
    const rows = windows.filter((w) => w.family_id === f.id);
    const b = costOf(
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.before) })),
      costs,
    );
    const a = costOf(
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.after) })),
      costs,
    );
    addCosts(
      before,
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.before) })),
      costs,
    );
    addCosts(
      after,
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.after) })),
      costs,
    );
    const p = people.find((x) => x.family_id === f.id);
    return {
      family_id: f.id,
      reference: f.reference,
      taken_on: f.taken_on,
      before: b.total,
      after: a.total,
      changePct: changePct(b.total, a.total),
      professionals: Number(p?.professionals ?? 0),
      agencies: Number(p?.agencies ?? 0),
    };
  });
  return {
    families: families.length,
    byAgencyYear,
    before,
    after,
    changePct: changePct(before.total, after.total),
    perFamily,
  };
}

/**
 * The cohort as a viewer may see it. The aggregates (cost by agency and year, before and after)
 * are for every role that may read the cohort; the per-family rows (reference, date taken on,
 * costs) are pseudonymised personal data, so they go only to a professional with an access basis
 * for case work on that family, never for an erased family, and each such read is audited.
 * `full` is the unfiltered cohort, for aggregate charts only: never send it to the viewer.
 */
export async function cohortFor(
  tx: Tx,
  placeId: number,
  viewer: FamilyViewer,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
  today: string,
): Promise<{ view: Cohort; full: Cohort }> {
  const full = await cohort(tx, placeId, catalogue, priceBase);
  const readable = await accessibleReferences(tx, placeId, viewer, 'case_work', today);
  const ids = new Set(readable.values());
  const perFamily = full.perFamily.filter((f) => ids.has(f.family_id));
  if (perFamily.length) {
    await appendAudit(tx, {
      person_id: viewer.personId,
      place_id: placeId,
      action: 'family.cohort.read',
      subject: 'families',
      detail: {
        purpose: 'case_work',
        families: perFamily.map((f) => f.family_id),
        fields: ['reference', 'taken_on', 'before', 'after', 'professionals', 'agencies'],
      },
    });
  }
  return { view: { ...full, perFamily }, full };
}

/** The whole product's roll-up across places: cost by bearing agency and financial year, and family counts. */
export async function productRollup(db: Database, catalogue: UnitCostCatalogue, priceBase: number | null) {
  return inSystem(db, async (tx) => {
    const families = await tx
      .selectFrom('families')
      .select((eb) => [
        eb.fn.countAll<string>().as('n'),
        eb.fn.count<string>('place_id').distinct().as('places'),
      ])
      .executeTakeFirstOrThrow();
    const byAgencyYear = await costByAgencyYear(tx, null, catalogue, priceBase);
    return { families: Number(families.n), places: Number(families.places), byAgencyYear };
  });
}

// ---------------------------------------------------------------------------------------------
// Subject access and erasure

/** Everything held about a family, for a subject access request. The export itself is audited. */
export async function subjectAccessExport(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: FamilyViewer,
  today: string,
  catalogue: UnitCostCatalogue,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  const { family, members, professionals, consents } = await loadRecord(tx, placeId, familyId);
  const events = await timeline(tx, placeId, familyId, catalogue, null);
  const goals = await tx
    .selectFrom('family_goals')
    .select(['id', 'outcome', 'description', 'status', 'met_on'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .orderBy('id')
    .execute();
  const claims = await tx
    .selectFrom('family_claims')
    .select(['id', 'goal_id', 'amount', 'evidence', 'status', 'claimed_at', 'decided_at'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .orderBy('id')
    .execute();
  const reads = await tx
    .selectFrom('audit_log')
    .leftJoin('people', 'people.id', 'audit_log.person_id')
    .select(['audit_log.at', 'audit_log.action', 'audit_log.detail', 'people.name as person'])
    .where('audit_log.place_id', '=', placeId)
    .where('audit_log.subject', '=', `family:${familyId}`)
    .orderBy('audit_log.id')
    .execute();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.export',
    subject: `family:${familyId}`,
    detail: { purpose: 'subject_access' },
  });
  const { erased_at: _erased, ...household } = family;
  return {
    generated_on: today,
    household,
    members,
    professionals,
    consents,
    events,
    goals,
    claims,
    access_log: reads,
  };
}

/**
 * Erasure keeps the costed events (so aggregate reports do not change) and removes what
 * identifies anyone: every personal field of the families tables (ERASED_FIELDS).
 */
export const ERASED_FIELDS = {
  families: ['household_name', 'address', 'postcode', 'closure_reason'],
  family_members: ['name', 'date_of_birth', 'relationship'],
  family_professionals: ['name'],
  family_consents: ['given_by'],
  family_events: ['note'],
  family_goals: ['description'],
  family_claims: ['evidence'],
} as const;

export async function eraseFamily(tx: Tx, placeId: number, familyId: number, actor: Actor): Promise<void> {
  const family = await familyExists(tx, placeId, familyId);
  if (family.erased_at)
    throw new Invalid('This family’s personal data has already been erased', { family: 'Already erased' });
  const now = new Date();
  await tx
    .updateTable('families')
    .set({ household_name: null, address: null, postcode: null, closure_reason: null, erased_at: now })
    .where('place_id', '=', placeId)
    .where('id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_members')
    .set({ name: null, date_of_birth: null, relationship: null, erased_at: now })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_consents')
    .set({ given_by: null })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_professionals')
    .set({ name: null })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_goals')
    .set({ description: null })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_events')
    .set({ note: '' })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await tx
    .updateTable('family_claims')
    .set({ evidence: null })
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.erase',
    subject: `family:${familyId}`,
    detail: { reference: family.reference },
  });
}

// ---------------------------------------------------------------------------------------------
// Outcome plans and payment by results

export async function listGoals(tx: Tx, placeId: number, familyId: number) {
  const goals = await tx
    .selectFrom('family_goals')
    .select(['id', 'outcome', 'description', 'status', 'met_on'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .orderBy('id')
    .execute();
  const claims = await tx
    .selectFrom('family_claims')
    .select(['id', 'goal_id', 'amount', 'status', 'posting_ref'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .execute();
  return goals.map((g) => ({ ...g, claim: claims.find((c) => c.goal_id === g.id) ?? null }));
}

export async function addGoal(
  tx: Tx,
  placeId: number,
  familyId: number,
  goal: { outcome: string; description: string },
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  const row = await tx
    .insertInto('family_goals')
    .values({
      place_id: placeId,
      family_id: familyId,
      outcome: goal.outcome as never,
      description: goal.description,
      created_by: viewer.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.goal.add',
    subject: `family:${familyId}`,
    detail: { goal_id: row.id, outcome: goal.outcome },
  });
  return row.id;
}

async function goalOf(tx: Tx, placeId: number, familyId: number, goalId: number) {
  const goal = await tx
    .selectFrom('family_goals')
    .select(['id', 'status'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .where('id', '=', goalId)
    .executeTakeFirst();
  if (!goal) throw new NotFound('Goal not found');
  return goal;
}

export async function markGoalMet(
  tx: Tx,
  placeId: number,
  familyId: number,
  goalId: number,
  metOn: string,
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  await goalOf(tx, placeId, familyId, goalId);
  await tx
    .updateTable('family_goals')
    .set({ status: 'met', met_on: metOn })
    .where('place_id', '=', placeId)
    .where('id', '=', goalId)
    .execute();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.goal.met',
    subject: `family:${familyId}`,
    detail: { goal_id: goalId, met_on: metOn },
  });
}

export async function makeClaim(
  tx: Tx,
  placeId: number,
  familyId: number,
  goalId: number,
  input: { amount: unknown; evidence: unknown },
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  const goal = await goalOf(tx, placeId, familyId, goalId);
  const claim = validateClaim({ goal_status: goal.status, ...input });
  const clash = await tx
    .selectFrom('family_claims')
    .select('id')
    .where('place_id', '=', placeId)
    .where('goal_id', '=', goalId)
    .where('status', '<>', 'rejected')
    .executeTakeFirst();
  if (clash)
    throw new Invalid('This goal has already been claimed for', { goal_id: 'A goal is paid for once' });
  await tx
    .deleteFrom('family_claims')
    .where('place_id', '=', placeId)
    .where('goal_id', '=', goalId)
    .where('status', '=', 'rejected')
    .execute();
  const row = await tx
    .insertInto('family_claims')
    .values({
      place_id: placeId,
      family_id: familyId,
      goal_id: goalId,
      ...claim,
      claimed_by: viewer.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: viewer.personId,
    place_id: placeId,
    action: 'family.claim',
    subject: `family:${familyId}`,
    detail: { claim_id: row.id, goal_id: goalId, amount: claim.amount },
  });
  return row.id;
}

export async function listClaims(tx: Tx, placeId: number) {
  return tx
    .selectFrom('family_claims')
    .innerJoin('families', (j) =>
      j
        .onRef('families.place_id', '=', 'family_claims.place_id')
        .onRef('families.id', '=', 'family_claims.family_id'),
    )
    .innerJoin('family_goals', (j) =>
      j
        .onRef('family_goals.place_id', '=', 'family_claims.place_id')
        .onRef('family_goals.id', '=', 'family_claims.goal_id'),
    )
    .select([
      'family_claims.id',
      'families.reference',
      'family_goals.outcome',
      'family_claims.amount',
      'family_claims.status',
      'family_claims.claimed_at',
      'family_claims.posting_ref',
    ])
    .where('family_claims.place_id', '=', placeId)
    .orderBy('family_claims.id', 'desc')
    .execute();
}

/** Approves (and posts to the pot through the ledger) or rejects a claim, once. */
export async function decideClaim(
  tx: Tx,
  placeId: number,
  claimId: number,
  decision: 'approved' | 'rejected',
  actor: Actor,
  income: PotIncome,
) {
  const claim = await tx
    .selectFrom('family_claims')
    .innerJoin('families', (j) =>
      j
        .onRef('families.place_id', '=', 'family_claims.place_id')
        .onRef('families.id', '=', 'family_claims.family_id'),
    )
    .select([
      'family_claims.id',
      'family_claims.status',
      'family_claims.amount',
      'family_claims.family_id',
      'families.reference',
    ])
    .where('family_claims.place_id', '=', placeId)
    .where('family_claims.id', '=', claimId)
    .forUpdate()
    .executeTakeFirst();
  if (!claim) throw new NotFound('Claim not found');
  if (claim.status !== 'claimed')
    throw new Invalid(`This claim has already been ${claim.status}`, { status: `Already ${claim.status}` });
  const postingRef =
    decision === 'approved'
      ? await income.postClaim(tx, {
          placeId,
          claimId,
          familyReference: claim.reference,
          amount: claim.amount,
          approvedBy: actor.personId,
        })
      : null;
  await tx
    .updateTable('family_claims')
    .set({ status: decision, decided_by: actor.personId, decided_at: new Date(), posting_ref: postingRef })
    .where('place_id', '=', placeId)
    .where('id', '=', claimId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: `family.claim.${decision}`,
    subject: `family:${claim.family_id}`,
    detail: { claim_id: claimId, amount: claim.amount, posting_ref: postingRef },
  });
  return { id: claimId, status: decision, posting_ref: postingRef };
}

// ---------------------------------------------------------------------------------------------
// Data matching

export async function saveMatchList(
  tx: Tx,
  placeId: number,
  partnerId: number,
  keyId: string,
  entries: readonly MatchEntry[],
  actor: Actor,
): Promise<number> {
  await assertPartnersOfPlace(tx, placeId, [partnerId], 'partner_id');
  const list = await tx
    .insertInto('family_match_lists')
    .values({
      place_id: placeId,
      partner_id: partnerId,
      key_id: keyId,
      rows: entries.length,
      uploaded_by: actor.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    await tx
      .insertInto('family_match_entries')
      .values(
        entries.slice(i, i + INSERT_CHUNK).map((e) => ({
          place_id: placeId,
          list_id: list.id,
          line: e.line,
          person_key: e.person_key,
          household_key: e.household_key,
          criteria: e.criteria,
        })),
      )
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.match.upload',
    subject: `partner:${partnerId}`,
    detail: { list_id: list.id, rows: entries.length, key_id: keyId },
  });
  return list.id;
}

/** Lists hashed with another key than `keyId` (stale after a rotation); erased too when `erase` is set. */
export async function staleMatchLists(
  tx: Tx,
  placeId: number,
  keyId: string,
  erase: boolean,
  actor: { personId: number | null },
): Promise<number> {
  const stale = await tx
    .selectFrom('family_match_lists')
    .select('id')
    .where('place_id', '=', placeId)
    .where('key_id', '<>', keyId)
    .execute();
  const ids = stale.map((l) => l.id);
  if (erase && ids.length) {
    await tx
      .deleteFrom('family_match_entries')
      .where('place_id', '=', placeId)
      .where('list_id', 'in', ids)
      .execute();
    await tx
      .deleteFrom('family_match_lists')
      .where('place_id', '=', placeId)
      .where('id', 'in', ids)
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.match.rotate',
    subject: `matching_key:${keyId}`,
    detail: { stale_lists: ids.length, erased: erase ? ids.length : 0 },
  });
  return ids.length;
}

/** The place's matching rule: how many different criteria make a household one to propose. */
export async function matchThreshold(tx: Tx, placeId: number): Promise<number> {
  const row = await tx
    .selectFrom('family_settings')
    .select('match_threshold')
    .where('place_id', '=', placeId)
    .executeTakeFirst();
  return row?.match_threshold ?? DEFAULT_MATCH_THRESHOLD;
}

export async function setMatchThreshold(
  tx: Tx,
  placeId: number,
  threshold: number,
  actor: Actor,
): Promise<void> {
  const was = await matchThreshold(tx, placeId);
  await tx
    .insertInto('family_settings')
    .values({ place_id: placeId, match_threshold: threshold, updated_by: actor.personId })
    .onConflict((oc) =>
      oc
        .column('place_id')
        .doUpdateSet({ match_threshold: threshold, updated_by: actor.personId, updated_at: new Date() }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.settings',
    subject: 'family_settings',
    detail: { match_threshold: threshold, was },
  });
}

/** Households proposed for assessment under the place's rule, matched only across lists hashed with the current key. */
export async function matchProposals(tx: Tx, placeId: number, keyId: string) {
  const threshold = await matchThreshold(tx, placeId);
  const lists = await tx
    .selectFrom('family_match_lists')
    .innerJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'family_match_lists.place_id')
        .onRef('partners.id', '=', 'family_match_lists.partner_id'),
    )
    .select([
      'family_match_lists.id',
      'family_match_lists.key_id',
      'family_match_lists.rows',
      'family_match_lists.uploaded_at',
      'partners.name as partner_name',
    ])
    .where('family_match_lists.place_id', '=', placeId)
    .orderBy('family_match_lists.id')
    .execute();
  const current = lists.filter((l) => l.key_id === keyId).map((l) => l.id);
  const entries = current.length
    ? await tx
        .selectFrom('family_match_entries')
        .select(['list_id', 'line', 'person_key', 'household_key', 'criteria'])
        .where('place_id', '=', placeId)
        .where('list_id', 'in', current)
        .execute()
    : [];
  return {
    threshold,
    lists: lists.map((l) => ({ ...l, stale: l.key_id !== keyId })),
    proposals: proposeHouseholds(
      entries.map((e) => ({ ...e, criteria: e.criteria as Criterion[] })),
      threshold,
    ),
  };
}
