import { type Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import type { AgencyType } from '../places/domain.ts';
import type { UnitCostCatalogue } from './catalogue.ts';
import {
  accessBasis,
  consentFor,
  PROFESSIONAL_ROLES,
  type AccessBasis,
  type NewFamily,
  type Purpose,
} from './domain.ts';
import {
  type Actor,
  type FamilyViewer,
  assertPartnersOfPlace,
  auditFamily,
  consentsOf,
  familyExists,
  familySubject,
  listAgreements,
  requireAccess,
} from './access.ts';
import { timeline } from './events.ts';

/** The family record: families, their members and professionals, outcome plans (goals), closure, subject access and erasure. */

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
  await auditFamily(tx, placeId, familyId, viewer, 'family.read', {
    purpose,
    basis: access.basis,
    agreement_id: access.agreementId,
    fields: ['household', 'members', 'address', 'consents', 'professionals'],
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
  await auditFamily(tx, placeId, row.id, viewer, 'family.create', {
    reference: row.reference,
    members: input.members.length,
    taken_on: input.taken_on,
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
  await auditFamily(tx, placeId, familyId, viewer, 'family.professional.add', {
    professional_id: row.id,
    partner_id: input.partner_id,
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
  // The reason is free text about the family: it stays in the erasable record, never in the audit log.
  await auditFamily(tx, placeId, familyId, viewer, 'family.close', {
    status: 'closed',
    reason_length: reason.trim().length,
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
  const goals = await goalsOf(tx, placeId, familyId);
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
    .where('audit_log.subject', '=', familySubject(familyId))
    .orderBy('audit_log.id')
    .execute();
  await auditFamily(tx, placeId, familyId, viewer, 'family.export', { purpose: 'subject_access' });
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
type ErasedTable = keyof typeof ERASED_FIELDS;

export async function eraseFamily(tx: Tx, placeId: number, familyId: number, actor: Actor): Promise<void> {
  const family = await familyExists(tx, placeId, familyId);
  if (family.erased_at)
    throw new Invalid('This family’s personal data has already been erased', { family: 'Already erased' });
  const now = new Date();
  for (const [table, fields] of Object.entries(ERASED_FIELDS) as [ErasedTable, readonly string[]][]) {
    // A note may not be null, so it is left empty; the rows that carry erased_at are stamped in the
    // same update, since their checks let a required field go blank only on an erased row.
    const blanked = Object.fromEntries(fields.map((field) => [field, field === 'note' ? '' : null]));
    await tx
      .updateTable(table)
      .set(table === 'families' || table === 'family_members' ? { ...blanked, erased_at: now } : blanked)
      .where('place_id', '=', placeId)
      .where(table === 'families' ? 'id' : 'family_id', '=', familyId)
      .execute();
  }
  await auditFamily(tx, placeId, familyId, actor, 'family.erase', { reference: family.reference });
}

// ---------------------------------------------------------------------------------------------
// Outcome plans

function goalsOf(tx: Tx, placeId: number, familyId: number) {
  return tx
    .selectFrom('family_goals')
    .select(['id', 'outcome', 'description', 'status', 'met_on'])
    .where('place_id', '=', placeId)
    .where('family_id', '=', familyId)
    .orderBy('id')
    .execute();
}

export async function listGoals(tx: Tx, placeId: number, familyId: number) {
  const goals = await goalsOf(tx, placeId, familyId);
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
  await auditFamily(tx, placeId, familyId, viewer, 'family.goal.add', {
    goal_id: row.id,
    outcome: goal.outcome,
  });
  return row.id;
}

export async function goalOf(tx: Tx, placeId: number, familyId: number, goalId: number) {
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
  await auditFamily(tx, placeId, familyId, viewer, 'family.goal.met', { goal_id: goalId, met_on: metOn });
}
