import type { Database, Tx } from '../core/db.ts';
import { Forbidden, Invalid, NotFound } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { createInvitation } from '../auth/public.ts';
import type { Role } from '../auth/domain.ts';
import {
  signOffState,
  type AgencyType,
  type NewDecision,
  type NewMember,
  type NewPartner,
  type PlaceKind,
  type SignOffRule,
} from './domain.ts';
import type { Place } from './tables.ts';

export interface PlaceSummary {
  slug: string;
  name: string;
  kind: PlaceKind;
  parent: string | null;
}

/** Every place with its parent's slug: the public directory, and `places list --json`. */
export async function listPlaces(db: Database): Promise<PlaceSummary[]> {
  return db.kysely
    .selectFrom('places')
    .leftJoin('places as parent', 'parent.id', 'places.parent_id')
    .select(['places.slug', 'places.name', 'places.kind', 'parent.slug as parent'])
    .orderBy('places.kind', 'desc')
    .orderBy('places.name')
    .execute();
}

export interface MemberPlace extends PlaceSummary {
  roles: Role[];
  parent_name: string | null;
}

export async function listPlacesOf(db: Database, personId: number): Promise<MemberPlace[]> {
  const rows = await db.kysely
    .selectFrom('memberships')
    .innerJoin('places', 'places.id', 'memberships.place_id')
    .leftJoin('places as parent', 'parent.id', 'places.parent_id')
    .select([
      'places.slug',
      'places.name',
      'places.kind',
      'parent.slug as parent',
      'parent.name as parent_name',
    ])
    .select((eb) => eb.fn.agg<Role[]>('array_agg', ['memberships.role']).as('roles'))
    .where('memberships.person_id', '=', personId)
    .groupBy(['places.id', 'parent.slug', 'parent.name'])
    .orderBy('places.kind', 'desc')
    .orderBy('places.name')
    .execute();
  return rows.map((r) => ({ ...r, roles: [...r.roles].sort() }));
}

export async function findPlaceBySlug(db: Database, slug: string): Promise<Place | undefined> {
  return db.kysely.selectFrom('places').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export interface PartnerRow {
  id: number;
  name: string;
  agency_type: AgencyType;
}

export async function listPartners(tx: Tx, placeId: number): Promise<PartnerRow[]> {
  return tx
    .selectFrom('partners')
    .select(['id', 'name', 'agency_type'])
    .where('place_id', '=', placeId)
    .orderBy('name')
    .execute();
}

export interface Actor {
  personId: number;
}

export async function addPartner(
  tx: Tx,
  placeId: number,
  input: NewPartner,
  actor: Actor,
): Promise<PartnerRow> {
  const clash = await tx
    .selectFrom('partners')
    .select('id')
    .where('place_id', '=', placeId)
    .where((eb) => eb(eb.fn('lower', ['name']), '=', input.name.toLowerCase()))
    .executeTakeFirst();
  if (clash)
    throw new Invalid('There is a problem with the partner', {
      name: 'This place already has a partner with that name',
    });
  const partner = await tx
    .insertInto('partners')
    .values({ place_id: placeId, ...input })
    .returning(['id', 'name', 'agency_type'])
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'partner.add',
    subject: `partner:${partner.id}`,
    detail: { name: partner.name, agency_type: partner.agency_type },
  });
  return partner;
}

export interface PersonRow {
  id: number;
  name: string;
  email: string;
  roles: Role[];
  partner_name: string | null;
}

export async function listPeople(tx: Tx, placeId: number): Promise<PersonRow[]> {
  const rows = await tx
    .selectFrom('memberships')
    .innerJoin('people', 'people.id', 'memberships.person_id')
    .leftJoin('partners', (join) =>
      join
        .onRef('partners.place_id', '=', 'memberships.place_id')
        .onRef('partners.id', '=', 'memberships.partner_id'),
    )
    .select(['people.id', 'people.name', 'people.email'])
    .select((eb) => [
      eb.fn.agg<Role[]>('array_agg', ['memberships.role']).as('roles'),
      eb.fn.max('partners.name').as('partner_name'),
    ])
    .where('memberships.place_id', '=', placeId)
    .groupBy('people.id')
    .orderBy('people.name')
    .execute();
  return rows.map((r) => ({ ...r, roles: [...r.roles].sort() }));
}

export interface DecisionView {
  id: number;
  title: string;
  description: string;
  kind: string;
  financial_year: number | null;
  sign_off_rule: SignOffRule;
  proposed_by: string;
  proposed_at: Date;
  agreed_at: Date | null;
  signed_off_by: { partner_id: number; partner_name: string; signed_at: Date }[];
  needed: number;
  given: number;
  met: boolean;
}

export async function listDecisions(
  tx: Tx,
  placeId: number,
  partners: PartnerRow[],
): Promise<DecisionView[]> {
  const decisions = await tx
    .selectFrom('decisions')
    .innerJoin('people', 'people.id', 'decisions.proposed_by')
    .select([
      'decisions.id',
      'decisions.title',
      'decisions.description',
      'decisions.kind',
      'decisions.financial_year',
      'decisions.sign_off_rule',
      'decisions.proposed_at',
      'decisions.agreed_at',
      'people.name as proposed_by',
    ])
    .where('decisions.place_id', '=', placeId)
    .orderBy('decisions.proposed_at', 'desc')
    .orderBy('decisions.id', 'desc')
    .execute();
  const signOffs = await tx
    .selectFrom('decision_sign_offs')
    .innerJoin('partners', (join) =>
      join
        .onRef('partners.place_id', '=', 'decision_sign_offs.place_id')
        .onRef('partners.id', '=', 'decision_sign_offs.partner_id'),
    )
    .select([
      'decision_sign_offs.decision_id',
      'decision_sign_offs.partner_id',
      'decision_sign_offs.signed_at',
      'partners.name as partner_name',
    ])
    .where('decision_sign_offs.place_id', '=', placeId)
    .orderBy('partners.name')
    .execute();
  const partnerIds = partners.map((p) => p.id);
  return decisions.map((decision) => {
    const signed = signOffs.filter((s) => s.decision_id === decision.id);
    const state = signOffState(
      decision.sign_off_rule,
      partnerIds,
      signed.map((s) => s.partner_id),
    );
    return {
      ...decision,
      signed_off_by: signed.map(({ partner_id, partner_name, signed_at }) => ({
        partner_id,
        partner_name,
        signed_at,
      })),
      needed: state.needed,
      given: state.given,
      // Once agreed, a decision stays agreed even if partners join later.
      met: decision.agreed_at !== null || state.met,
    };
  });
}

export async function findDecision(tx: Tx, placeId: number, decisionId: number): Promise<DecisionView> {
  const partners = await listPartners(tx, placeId);
  const decision = (await listDecisions(tx, placeId, partners)).find((d) => d.id === decisionId);
  if (!decision) throw new NotFound('No such decision in this place');
  return decision;
}

function assertPartnersOfPlace(partners: PartnerRow[], ids: number[], field: string) {
  const known = new Set(partners.map((p) => p.id));
  if (!ids.every((id) => known.has(id))) {
    throw new Invalid('There is a problem with the sign-off', { [field]: 'Select partners of this place' });
  }
}

/**
 * The partners this person represents in the place: their partner_rep memberships. Only they sign
 * off for those partners; no other role (an admin included) signs for a partner.
 */
export async function representedPartners(
  tx: Tx,
  placeId: number,
  personId: number | null,
): Promise<Set<number>> {
  if (personId === null) return new Set();
  const rows = await tx
    .selectFrom('memberships')
    .select('partner_id')
    .where('place_id', '=', placeId)
    .where('person_id', '=', personId)
    .where('role', '=', 'partner_rep')
    .execute();
  return new Set(rows.map((r) => r.partner_id).filter((id): id is number => id !== null));
}

async function assertRepresents(
  tx: Tx,
  placeId: number,
  personId: number | null,
  partnerIds: readonly number[],
) {
  const mine = await representedPartners(tx, placeId, personId);
  if (!partnerIds.every((id) => mine.has(id)))
    throw new Forbidden('You can only sign off for the partner you represent');
}

export async function recordDecision(
  tx: Tx,
  placeId: number,
  input: NewDecision,
  actor: Actor,
): Promise<DecisionView> {
  const partners = await listPartners(tx, placeId);
  assertPartnersOfPlace(partners, input.signed_off_by, 'signed_off_by');
  const mine = await representedPartners(tx, placeId, actor.personId);
  if (!input.signed_off_by.every((id) => mine.has(id)))
    throw new Invalid('There is a problem with the sign-off', {
      signed_off_by: 'You can only sign off for the partner you represent',
    });
  const state = signOffState(
    input.sign_off_rule,
    partners.map((p) => p.id),
    input.signed_off_by,
  );
  const decision = await tx
    .insertInto('decisions')
    .values({
      place_id: placeId,
      title: input.title,
      description: input.description,
      sign_off_rule: input.sign_off_rule,
      kind: input.kind ?? 'general',
      financial_year: input.kind === 'period_reopen' ? (input.financial_year ?? null) : null,
      proposed_by: actor.personId,
      // A decision no partner has signed is never agreed, even in a place without partners.
      agreed_at: state.met && state.given > 0 ? new Date() : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (input.signed_off_by.length) {
    await tx
      .insertInto('decision_sign_offs')
      .values(
        input.signed_off_by.map((partner_id) => ({
          place_id: placeId,
          decision_id: decision.id,
          partner_id,
          signed_by: actor.personId,
        })),
      )
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'decision.record',
    subject: `decision:${decision.id}`,
    detail: {
      kind: input.kind ?? 'general',
      financial_year: input.financial_year ?? null,
      title_length: input.title.length,
      sign_off_rule: input.sign_off_rule,
      signed_off_by: input.signed_off_by,
      agreed: state.met,
    },
  });
  return findDecision(tx, placeId, decision.id);
}

/** Adds one partner's sign-off; the decision becomes agreed the moment the rule is met. */
export async function signOffDecision(
  tx: Tx,
  placeId: number,
  decisionId: number,
  partnerId: number,
  actor: Actor,
): Promise<DecisionView> {
  const partners = await listPartners(tx, placeId);
  assertPartnersOfPlace(partners, [partnerId], 'partner_id');
  await assertRepresents(tx, placeId, actor.personId, [partnerId]);
  // Lock the decision so two partners signing at once cannot both miss the moment it is agreed.
  const locked = await tx
    .selectFrom('decisions')
    .select('id')
    .where('place_id', '=', placeId)
    .where('id', '=', decisionId)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) throw new NotFound('No such decision in this place');
  const inserted = await tx
    .insertInto('decision_sign_offs')
    .values({ place_id: placeId, decision_id: decisionId, partner_id: partnerId, signed_by: actor.personId })
    .onConflict((oc) => oc.doNothing())
    .returning('partner_id')
    .executeTakeFirst();
  const decision = await findDecision(tx, placeId, decisionId);
  if (inserted) {
    if (decision.met && !decision.agreed_at) {
      await tx
        .updateTable('decisions')
        .set({ agreed_at: new Date() })
        .where('place_id', '=', placeId)
        .where('id', '=', decisionId)
        .execute();
    }
    await appendAudit(tx, {
      person_id: actor.personId,
      place_id: placeId,
      action: 'decision.sign_off',
      subject: `decision:${decisionId}`,
      detail: { partner_id: partnerId, agreed: decision.met },
    });
  }
  return findDecision(tx, placeId, decisionId);
}

export async function listFacts(tx: Tx, placeId: number) {
  return tx
    .selectFrom('place_facts')
    .select(['label', 'value', 'source'])
    .where('place_id', '=', placeId)
    .orderBy('id')
    .execute();
}

export interface AddedMember {
  person_id: number;
  /**
   * The one-time token for the link the admin passes on. Every grant gets one, whether or not the
   * email already has an account (anywhere on the service), so the answer does not say which: a new
   * person sets their password with it; someone who has one is asked to sign in as usual.
   */
  invitation_token: string;
}

/**
 * Gives a person a role in the place, adding them first if they are new (with an invitation to
 * set their password). Nobody grants a role to themselves (separation of duties): another admin
 * must, and every grant is audited with who gave it.
 */
export async function addMember(
  tx: Tx,
  placeId: number,
  input: NewMember,
  actor: Actor,
): Promise<AddedMember> {
  if (input.partner_id !== null)
    assertPartnersOfPlace(await listPartners(tx, placeId), [input.partner_id], 'partner_id');
  const existing = await tx
    .selectFrom('people')
    .select('id')
    .where('email', '=', input.email)
    .executeTakeFirst();
  if (existing && existing.id === actor.personId) {
    throw new Forbidden('You cannot give yourself a role. Ask another administrator of this place');
  }
  const personId =
    existing?.id ??
    (
      await tx
        .insertInto('people')
        .values({ email: input.email, name: input.name })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const granted = await tx
    .insertInto('memberships')
    .values({ place_id: placeId, person_id: personId, role: input.role, partner_id: input.partner_id })
    .onConflict((oc) => oc.doNothing())
    .returning('role')
    .executeTakeFirst();
  if (!granted)
    throw new Invalid('There is a problem with the person', {
      role: 'They already have this role in this place',
    });
  const invitation_token = await createInvitation(tx, personId, actor.personId);
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'membership.grant',
    subject: `person:${personId}`,
    // Not whether the person is new: that would tell this place's admins about accounts elsewhere.
    detail: { role: input.role, partner_id: input.partner_id },
  });
  return { person_id: personId, invitation_token };
}

/** Takes a role away; the place always keeps at least one administrator. */
export async function removeRole(
  tx: Tx,
  placeId: number,
  personId: number,
  role: Role,
  actor: Actor,
): Promise<void> {
  if (role === 'admin') {
    const admins = await tx
      .selectFrom('memberships')
      .select('person_id')
      .where('place_id', '=', placeId)
      .where('role', '=', 'admin')
      .execute();
    if (admins.length === 1 && admins[0]!.person_id === personId) {
      throw new Invalid('The place needs an administrator', {
        role: 'Add another administrator before removing the last one',
      });
    }
  }
  const removed = await tx
    .deleteFrom('memberships')
    .where('place_id', '=', placeId)
    .where('person_id', '=', personId)
    .where('role', '=', role)
    .returning('role')
    .executeTakeFirst();
  if (!removed) throw new NotFound('That person does not have that role here');
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'membership.revoke',
    subject: `person:${personId}`,
    detail: { role },
  });
}
