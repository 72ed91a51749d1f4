import { type Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import {
  accessBasis,
  type AccessBasis,
  type AgreementTerms,
  type ConsentRecord,
  type NewAgreement,
  type NewConsent,
  type Purpose,
  type Viewer,
} from './domain.ts';
import { assertPartnersOfPlace as assertPartnersOf } from '../places/public.ts';

/** Who may see what: data-sharing agreements, consent, and the access rule applied to each family. */

export interface Actor {
  personId: number;
}

export interface FamilyViewer extends Viewer, Actor {}

/** How the audit log names a family: by its id alone, never by anything that identifies its members. */
export const familySubject = (familyId: number) => `family:${familyId}`;

/** Writes what a person did to a family's record to the audit log. */
export function auditFamily(
  tx: Tx,
  placeId: number,
  familyId: number,
  by: Actor,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  return appendAudit(tx, {
    person_id: by.personId,
    place_id: placeId,
    action,
    subject: familySubject(familyId),
    detail,
  });
}

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

export async function assertPartnersOfPlace(tx: Tx, placeId: number, ids: readonly number[], field: string) {
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

export async function consentsOf(
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

export async function familyExists(tx: Tx, placeId: number, familyId: number) {
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
  await auditFamily(tx, placeId, familyId, viewer, 'family.consent', {
    consent_id: row.id,
    purpose: input.purpose,
    state: input.state,
    recorded_on: input.recorded_on,
  });
}
