import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Invalid, NotFound } from '../core/errors.ts';
import { allows } from '../auth/domain.ts';
import { inRequestPlace, need, placeOf, placeScoped, type PlaceContext } from '../places/scope.ts';
import { defaultCatalogue } from './catalogue.ts';
import {
  CRITERIA,
  LEGAL_BASES,
  lastTwelveMonths,
  OUTCOMES,
  PURPOSES,
  parseUkDate,
  validateEndDate,
  validateGoal,
  validateMatchThreshold,
  validateNewAgreement,
  validateNewConsent,
  validateNewFamily,
  validateEvent,
  validateCostPeriod,
  validateProfessional,
  type Purpose,
} from './domain.ts';
import type { FamilyPorts } from './income.ts';
import { matchingKeyFor } from './matching-key.ts';
import { importEventsCsv, partnerFor, uploadMatchCsv } from './service.ts';
import { createAgreement, endAgreement, listAgreements, recordConsent, type FamilyViewer } from './access.ts';
import { decideClaim, listClaims, makeClaim } from './claims.ts';
import { cohortFor, readFamilyCost } from './costing.ts';
import { logEvent, timeline } from './events.ts';
import { matchProposals, matchThreshold, setMatchThreshold } from './match-lists.ts';
import {
  addGoal,
  addProfessional,
  closeFamily,
  createFamily,
  eraseFamily,
  listFamilies,
  listGoals,
  markGoalMet,
  readFamily,
  subjectAccessExport,
} from './record.ts';
import { todayIso } from '../core/dates.ts';
import { closedObject, id, isoDate as date, placeParams, text as str } from '../core/json-schema.ts';

const params = placeParams;
const priceBaseQuery = {
  type: 'object',
  properties: { price_base: { type: 'integer', minimum: 1990, maximum: 2100 } },
} as const;

/** Only professionals may ever see a family; to anyone else a family's URL is a 404, like a family that does not exist. */
export function needFamilyReader(request: FastifyRequest): PlaceContext {
  const place = placeOf(request);
  if (!allows(place.roles, 'family.read')) throw new NotFound('Family not found');
  return place;
}

export function viewerOf(place: PlaceContext): FamilyViewer {
  return { roles: place.roles, partnerIds: place.partnerIds, personId: place.person.id };
}

type Req<P = Record<string, never>, B = unknown, Q = Record<string, never>> = FastifyRequest<{
  Params: { slug: string } & P;
  Body: B;
  Querystring: Q;
}>;

const catalogue = defaultCatalogue;
const tags = ['families'];

/** The family record: list, open, read, subject access export, professionals, closure and erasure. */
function registerRecordRoutes(s: FastifyInstance) {
  s.get(
    '/families',
    {
      schema: {
        tags,
        summary: 'Families the signed-in professional may see for case work (each read is audited)',
        params: params(),
      },
    },
    async (request) => {
      const place = needFamilyReader(request);
      return inRequestPlace(request, place, (tx) => listFamilies(tx, place.id, viewerOf(place), todayIso()));
    },
  );

  s.post(
    '/families',
    {
      schema: {
        tags,
        summary: 'Open a family record (the professional becomes its lead)',
        params: params(),
        body: closedObject(
          {
            reference: str(30),
            household_name: str(200),
            address: str(500),
            postcode: str(10),
            taken_on: str(20),
            status: { type: 'string', enum: ['identified', 'assessment', 'active'] },
            lead_partner_id: id,
            lead_professional_id: id,
            members: {
              type: 'array',
              maxItems: 30,
              items: closedObject({ name: str(200), date_of_birth: str(20), relationship: str(60) }, [
                'name',
              ]),
            },
          },
          ['reference', 'household_name', 'taken_on'],
        ),
      },
    },
    async (request: Req<object, Record<string, unknown>>, reply) => {
      const place = need(request, 'family.manage');
      const input = validateNewFamily(request.body);
      const created = await inRequestPlace(request, place, (tx) =>
        createFamily(tx, place.id, input, viewerOf(place)),
      );
      return reply.code(201).send(created);
    },
  );

  s.get(
    '/families/:id',
    {
      schema: {
        tags,
        summary: 'A family’s record, timeline with costs and outcome plan (audited read)',
        params: params('id'),
        querystring: { type: 'object', properties: { purpose: { type: 'string', enum: PURPOSES } } },
      },
    },
    async (request: Req<{ id: number }, unknown, { purpose?: Purpose }>) => {
      const place = needFamilyReader(request);
      return inRequestPlace(request, place, async (tx) => {
        const record = await readFamily(
          tx,
          place.id,
          request.params.id,
          viewerOf(place),
          request.query.purpose ?? 'case_work',
          todayIso(),
        );
        return {
          ...record,
          events: await timeline(tx, place.id, request.params.id, catalogue, null),
          goals: await listGoals(tx, place.id, request.params.id),
        };
      });
    },
  );

  s.get(
    '/families/:id/export',
    {
      schema: {
        tags,
        summary: 'Subject access: everything held about the family (audited)',
        params: params('id'),
      },
    },
    async (request: Req<{ id: number }>) => {
      const place = needFamilyReader(request);
      return inRequestPlace(request, place, (tx) =>
        subjectAccessExport(tx, place.id, request.params.id, viewerOf(place), todayIso(), catalogue),
      );
    },
  );

  s.post(
    '/families/:id/professionals',
    {
      schema: {
        tags,
        summary: 'Add a professional and their agency to the family',
        params: params('id'),
        body: closedObject({ partner_id: id, name: str(200), role: str(100) }, [
          'partner_id',
          'name',
          'role',
        ]),
      },
    },
    async (request: Req<{ id: number }, Record<string, unknown>>, reply) => {
      const place = need(request, 'family.manage');
      const input = validateProfessional(request.body);
      await inRequestPlace(request, place, (tx) =>
        addProfessional(tx, place.id, request.params.id, input, viewerOf(place), todayIso()),
      );
      return reply.code(201).send({ added: true });
    },
  );

  s.post(
    '/families/:id/close',
    {
      schema: {
        tags,
        summary: 'Close the family’s record, with the reason',
        params: params('id'),
        body: closedObject({ closure_reason: str(500) }, ['closure_reason']),
      },
    },
    async (request: Req<{ id: number }, { closure_reason: string }>) => {
      const place = need(request, 'family.manage');
      await inRequestPlace(request, place, (tx) =>
        closeFamily(
          tx,
          place.id,
          request.params.id,
          request.body.closure_reason,
          viewerOf(place),
          todayIso(),
        ),
      );
      return { closed: true };
    },
  );

  s.post(
    '/families/:id/erase',
    {
      schema: {
        tags,
        summary: 'Erase the family’s personal data, keeping costed events for aggregate reports (admin)',
        params: params('id'),
      },
    },
    async (request: Req<{ id: number }>) => {
      const place = need(request, 'family.erase');
      await inRequestPlace(request, place, (tx) =>
        eraseFamily(tx, place.id, request.params.id, { personId: place.person.id }),
      );
      return { erased: true };
    },
  );
}

/** Who may see what: consent to a family's record and the place's data-sharing agreements. */
function registerAccessRoutes(s: FastifyInstance) {
  s.post(
    '/families/:id/consents',
    {
      schema: {
        tags,
        summary: 'Record consent given or withdrawn for a purpose',
        params: params('id'),
        body: closedObject(
          {
            purpose: { type: 'string', enum: PURPOSES },
            state: { type: 'string', enum: ['given', 'withdrawn'] },
            given_by: str(200),
            recorded_on: str(20),
          },
          ['purpose', 'state', 'given_by'],
        ),
      },
    },
    async (request: Req<{ id: number }, Record<string, unknown>>, reply) => {
      const place = need(request, 'family.manage');
      const today = todayIso();
      const input = validateNewConsent(request.body, today);
      await inRequestPlace(request, place, (tx) =>
        recordConsent(tx, place.id, request.params.id, input, viewerOf(place), today),
      );
      return reply.code(201).send({ recorded: true });
    },
  );

  s.get(
    '/family-agreements',
    { schema: { tags, summary: 'Data-sharing agreements between partners', params: params() } },
    async (request) => {
      const place = need(request, 'family.cohort');
      return inRequestPlace(request, place, (tx) => listAgreements(tx, place.id));
    },
  );

  s.post(
    '/family-agreements',
    {
      schema: {
        tags,
        summary: 'Record a data-sharing agreement (admin)',
        params: params(),
        body: closedObject(
          {
            title: str(200),
            purposes: { type: 'array', items: { type: 'string', enum: PURPOSES }, maxItems: 10 },
            data_categories: { type: 'array', items: str(40), maxItems: 20 },
            legal_basis: { type: 'string', enum: LEGAL_BASES },
            starts_on: str(20),
            ends_on: str(20),
            party_ids: { type: 'array', items: id, maxItems: 50 },
          },
          ['title', 'purposes', 'data_categories', 'legal_basis', 'starts_on', 'party_ids'],
        ),
      },
    },
    async (request: Req<object, Record<string, unknown>>, reply) => {
      const place = need(request, 'family.agreements');
      const input = validateNewAgreement(request.body);
      return reply
        .code(201)
        .send(
          await inRequestPlace(request, place, (tx) =>
            createAgreement(tx, place.id, input, { personId: place.person.id }),
          ),
        );
    },
  );

  s.post(
    '/family-agreements/:agreement/end',
    {
      schema: {
        tags,
        summary: 'End a data-sharing agreement on a date (admin)',
        params: params('agreement'),
        body: closedObject({ ends_on: str(20) }, ['ends_on']),
      },
    },
    async (request: Req<{ agreement: number }, { ends_on: string }>) => {
      const place = need(request, 'family.agreements');
      const endsOn = validateEndDate(request.body.ends_on);
      await inRequestPlace(request, place, (tx) =>
        endAgreement(tx, place.id, request.params.agreement, endsOn, { personId: place.person.id }),
      );
      return { ends_on: endsOn };
    },
  );
}

/** Events on a family's timeline, one by one or imported from an agency's CSV. */
function registerEventRoutes(s: FastifyInstance) {
  s.post(
    '/families/:id/events',
    {
      schema: {
        tags,
        summary: 'Log an event against the family for your agency',
        params: params('id'),
        body: closedObject(
          {
            event_type: str(40),
            occurred_on: str(20),
            quantity: { type: 'integer', minimum: 1, maximum: 1000 },
            note: str(2000),
            partner_id: id,
          },
          ['event_type', 'occurred_on'],
        ),
      },
    },
    async (request: Req<{ id: number }, Record<string, unknown> & { partner_id?: number }>, reply) => {
      const place = need(request, 'family.manage');
      const today = todayIso();
      const known = new Set((await catalogue.eventTypes()).map((t) => t.code));
      const { event, fields } = validateEvent(request.body, known, today);
      if (!event) throw new Invalid('There is a problem with the event', fields);
      const partnerId = partnerFor(place.roles, place.partnerIds, request.body.partner_id);
      const eventId = await inRequestPlace(request, place, (tx) =>
        logEvent(tx, place.id, request.params.id, partnerId, event, viewerOf(place), today),
      );
      return reply.code(201).send({ id: eventId });
    },
  );

  s.post(
    '/family-events/import',
    {
      schema: {
        tags,
        summary:
          'Import an agency’s events from CSV (family_reference, event_type, occurred_on, quantity, note): all lines or none',
        params: params(),
        body: closedObject({ partner_id: id, csv: str(10 * 1024 * 1024) }, ['csv']),
      },
    },
    async (request: Req<object, { partner_id?: number; csv: string }>, reply) => {
      const place = need(request, 'family.manage');
      const partnerId = partnerFor(place.roles, place.partnerIds, request.body.partner_id);
      const imported = await inRequestPlace(request, place, (tx) =>
        importEventsCsv(tx, place.id, partnerId, request.body.csv, catalogue, viewerOf(place), todayIso()),
      );
      return reply.code(201).send({ imported });
    },
  );
}

/** The before-and-after cohort of the families the professional may see. */
function registerCostingRoutes(s: FastifyInstance) {
  s.get(
    '/family-cohort',
    {
      schema: {
        tags,
        summary:
          'Cohort costs by agency and year, before/after; per-family rows only for families you may read for case work (audited), never erased ones',
        params: params(),
        querystring: priceBaseQuery,
      },
    },
    async (request: Req<object, unknown, { price_base?: number }>) => {
      const place = need(request, 'family.cohort');
      const { view } = await inRequestPlace(request, place, (tx) =>
        cohortFor(tx, place.id, viewerOf(place), catalogue, request.query.price_base ?? null, todayIso()),
      );
      return view;
    },
  );
}

const penceAmount = { type: 'integer' } as const;
const familyCostResponse = closedObject({
  from: date,
  to: date,
  price_base: { anyOf: [{ type: 'integer' }, { type: 'string', enum: ['as published'] }] },
  total: penceAmount,
  events: { type: 'integer' },
  by_agency: { type: 'object', additionalProperties: penceAmount },
  by_year: {
    type: 'array',
    items: closedObject({ year: { type: 'integer' }, label: str(7), cost: penceAmount }),
  },
  not_costed: {
    type: 'array',
    items: closedObject({ event_type: str(40), quantity: { type: 'integer' } }),
  },
});

/** One family's cost over a period: its personal data, so the family record's access rule and an audited read. */
function registerFamilyCostRoute(s: FastifyInstance) {
  s.get(
    '/families/:id/cost',
    {
      schema: {
        tags,
        summary:
          'A family’s cost of events in [from, to) by the agency that bears each unit cost and by financial year; events with no unit cost listed as not costed (audited read)',
        params: params('id'),
        querystring: {
          ...priceBaseQuery,
          properties: { ...priceBaseQuery.properties, from: date, to: date },
          additionalProperties: false,
        },
        response: { 200: familyCostResponse },
      },
    },
    async (request: Req<{ id: number }, unknown, { from?: string; to?: string; price_base?: number }>) => {
      const place = needFamilyReader(request);
      const defaults = lastTwelveMonths(todayIso());
      const period = validateCostPeriod(request.query.from ?? defaults.from, request.query.to ?? defaults.to);
      const priceBase = request.query.price_base ?? null;
      const { cost, byYear, notCosted } = await inRequestPlace(request, place, (tx) =>
        readFamilyCost(
          tx,
          place.id,
          request.params.id,
          viewerOf(place),
          catalogue,
          priceBase,
          period,
          todayIso(),
        ),
      );
      return {
        ...period,
        price_base: priceBase ?? 'as published',
        total: cost.total,
        events: cost.events,
        by_agency: cost.byAgency,
        by_year: byYear,
        not_costed: notCosted,
      };
    },
  );
}

/** Data matching: agencies' hashed lists, the proposals and the place's matching rule. */
function registerMatchingRoutes(s: FastifyInstance) {
  s.post(
    '/family-matching/lists',
    {
      schema: {
        tags,
        summary: `Upload an agency list (name, date_of_birth, postcode, criteria: ${CRITERIA.join('; ')}); only keyed hashes are kept`,
        params: params(),
        body: closedObject({ partner_id: id, csv: str(10 * 1024 * 1024) }, ['csv']),
      },
    },
    async (request: Req<object, { partner_id?: number; csv: string }>, reply) => {
      const place = need(request, 'family.match');
      const partnerId = partnerFor(place.roles, place.partnerIds, request.body.partner_id);
      const key = matchingKeyFor(place.slug);
      return reply
        .code(201)
        .send(
          await inRequestPlace(request, place, (tx) =>
            uploadMatchCsv(tx, place.id, partnerId, request.body.csv, key, { personId: place.person.id }),
          ),
        );
    },
  );

  s.get(
    '/family-matching/proposals',
    {
      schema: {
        tags,
        summary:
          'Households meeting the place’s matching rule (family-settings; 2 or more criteria by default), proposed for assessment',
        params: params(),
      },
    },
    async (request) => {
      const place = need(request, 'family.match');
      const key = matchingKeyFor(place.slug);
      return inRequestPlace(request, place, (tx) => matchProposals(tx, place.id, key.keyId));
    },
  );

  s.get(
    '/family-settings',
    {
      schema: {
        tags,
        summary: 'The place’s families settings: the data-matching rule',
        params: params(),
      },
    },
    async (request) => {
      const place = need(request, 'family.match');
      return {
        match_threshold: await inRequestPlace(request, place, (tx) => matchThreshold(tx, place.id)),
      };
    },
  );

  s.put(
    '/family-settings',
    {
      schema: {
        tags,
        summary: 'Set how many criteria make a household one to propose for assessment (admin)',
        params: params(),
        body: closedObject({ match_threshold: { type: 'integer', minimum: 1, maximum: CRITERIA.length } }, [
          'match_threshold',
        ]),
      },
    },
    async (request: Req<object, { match_threshold: number }>) => {
      const place = need(request, 'family.settings');
      const threshold = validateMatchThreshold(request.body.match_threshold);
      await inRequestPlace(request, place, (tx) =>
        setMatchThreshold(tx, place.id, threshold, { personId: place.person.id }),
      );
      return { match_threshold: threshold };
    },
  );
}

/** A family's outcome plan: goals added and met. */
function registerGoalRoutes(s: FastifyInstance) {
  s.post(
    '/families/:id/goals',
    {
      schema: {
        tags,
        summary: 'Add an outcome goal to the family’s plan',
        params: params('id'),
        body: closedObject({ outcome: { type: 'string', enum: OUTCOMES }, description: str(500) }, [
          'outcome',
          'description',
        ]),
      },
    },
    async (request: Req<{ id: number }, Record<string, unknown>>, reply) => {
      const place = need(request, 'family.manage');
      const goal = validateGoal(request.body);
      return reply.code(201).send({
        id: await inRequestPlace(request, place, (tx) =>
          addGoal(tx, place.id, request.params.id, goal, viewerOf(place), todayIso()),
        ),
      });
    },
  );

  s.post(
    '/families/:id/goals/:goal/met',
    {
      schema: {
        tags,
        summary: 'Record that a goal was met',
        params: params('id', 'goal'),
        body: closedObject({ met_on: str(20) }, ['met_on']),
      },
    },
    async (request: Req<{ id: number; goal: number }, { met_on: string }>) => {
      const place = need(request, 'family.manage');
      const metOn = parseUkDate(request.body.met_on);
      if (!metOn)
        throw new Invalid('Enter the date the goal was met', { met_on: 'Enter a date like 2014-03-31' });
      await inRequestPlace(request, place, (tx) =>
        markGoalMet(tx, place.id, request.params.id, request.params.goal, metOn, viewerOf(place), todayIso()),
      );
      return { met: true };
    },
  );
}

/** Payment-by-results claims on met goals, and their decision (posted to the pot through the ledger). */
function registerClaimRoutes(s: FastifyInstance, ports: FamilyPorts) {
  s.post(
    '/families/:id/goals/:goal/claims',
    {
      schema: {
        tags,
        summary: 'Claim payment by results for a met, evidenced goal (amount in pence)',
        params: params('id', 'goal'),
        body: closedObject({ amount: { type: 'integer', minimum: 1 }, evidence: str(2000) }, [
          'amount',
          'evidence',
        ]),
      },
    },
    async (request: Req<{ id: number; goal: number }, { amount: number; evidence: string }>, reply) => {
      const place = need(request, 'family.manage');
      return reply.code(201).send({
        id: await inRequestPlace(request, place, (tx) =>
          makeClaim(
            tx,
            place.id,
            request.params.id,
            request.params.goal,
            request.body,
            viewerOf(place),
            todayIso(),
          ),
        ),
      });
    },
  );

  s.get(
    '/family-claims',
    { schema: { tags, summary: 'Payment-by-results claims (no personal data)', params: params() } },
    async (request) => {
      const place = need(request, 'family.cohort');
      return inRequestPlace(request, place, (tx) => listClaims(tx, place.id));
    },
  );

  s.post(
    '/family-claims/:claim/decision',
    {
      schema: {
        tags,
        summary: 'Approve (posting to the pot as income) or reject a claim',
        params: params('claim'),
        body: closedObject({ decision: { type: 'string', enum: ['approved', 'rejected'] } }, ['decision']),
      },
    },
    async (request: Req<{ claim: number }, { decision: 'approved' | 'rejected' }>) => {
      const place = need(request, 'family.claims.decide');
      return inRequestPlace(request, place, (tx) =>
        decideClaim(
          tx,
          place.id,
          request.params.claim,
          request.body.decision,
          { personId: place.person.id },
          ports.potIncome,
        ),
      );
    },
  );
}

export async function familyRoutes(app: FastifyInstance, ports: FamilyPorts) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (s) => {
      registerRecordRoutes(s);
      registerAccessRoutes(s);
      registerEventRoutes(s);
      registerCostingRoutes(s);
      registerFamilyCostRoute(s);
      registerMatchingRoutes(s);
      registerGoalRoutes(s);
      registerClaimRoutes(s, ports);
    }),
  );
}
