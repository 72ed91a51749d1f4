import type { FastifyInstance } from 'fastify';
import { requirePerson } from '../auth/plugin.ts';
import { endSessionsIfNoRoles } from '../auth/public.ts';
import { listPlaceAudit } from '../audit/public.ts';
import type { FastifyRequest } from 'fastify';
import { ROLES, type Role } from '../auth/domain.ts';
import {
  AGENCY_TYPES,
  DECISION_KINDS,
  SIGN_OFF_RULES,
  validateNewDecision,
  validateNewMember,
  validateNewPartner,
} from './domain.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from './scope.ts';
import {
  addMember,
  addPartner,
  listDecisions,
  listFacts,
  listPartners,
  listPeople,
  listPlaces,
  listPlacesOf,
  recordDecision,
  removeRole,
  signOffDecision,
} from './store.ts';
import { Forbidden } from '../core/errors.ts';
import { closedObject, id, pageQuery, slugParam, text } from '../core/json-schema.ts';

const placeSummary = {
  type: 'object',
  properties: {
    slug: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['whole_place', 'neighbourhood'] },
    parent: { type: ['string', 'null'] },
  },
  required: ['slug', 'name', 'kind', 'parent'],
} as const;

const partner = {
  type: 'object',
  properties: { id, name: { type: 'string' }, agency_type: { type: 'string', enum: AGENCY_TYPES } },
  required: ['id', 'name', 'agency_type'],
} as const;

const decision = {
  type: 'object',
  properties: {
    id,
    title: { type: 'string' },
    description: { type: 'string' },
    kind: { type: 'string' },
    financial_year: { type: ['integer', 'null'] },
    sign_off_rule: { type: 'string', enum: SIGN_OFF_RULES },
    proposed_by: { type: 'string' },
    proposed_at: { type: 'string', format: 'date-time' },
    agreed_at: { type: ['string', 'null'], format: 'date-time' },
    signed_off_by: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partner_id: id,
          partner_name: { type: 'string' },
          signed_at: { type: 'string', format: 'date-time' },
        },
      },
    },
    needed: { type: 'integer' },
    given: { type: 'integer' },
    met: { type: 'boolean' },
  },
  required: ['id', 'title', 'sign_off_rule', 'met', 'needed', 'given'],
} as const;

export async function placeRoutes(app: FastifyInstance) {
  app.get(
    '/api/v1/directory',
    {
      schema: {
        tags: ['places'],
        summary: 'Every place on this service (public)',
        response: { 200: { type: 'array', items: placeSummary } },
      },
    },
    async () => listPlaces(app.deps.db),
  );

  app.get(
    '/api/v1/places',
    {
      schema: {
        tags: ['places'],
        summary: 'The places the signed-in person belongs to, with their roles',
        response: {
          200: {
            type: 'array',
            items: {
              ...placeSummary,
              properties: {
                ...placeSummary.properties,
                roles: { type: 'array', items: { type: 'string', enum: ROLES } },
              },
            },
          },
        },
      },
    },
    async (request) => listPlacesOf(app.deps.db, requirePerson(request).id),
  );

  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      scoped.get(
        '',
        {
          schema: {
            tags: ['places'],
            summary: 'A place: its partners, board decisions and headline facts',
            params: slugParam,
            response: {
              200: {
                type: 'object',
                properties: {
                  place: {
                    type: 'object',
                    properties: {
                      slug: { type: 'string' },
                      name: { type: 'string' },
                      kind: { type: 'string' },
                      roles: { type: 'array', items: { type: 'string' } },
                    },
                  },
                  partners: { type: 'array', items: partner },
                  decisions: { type: 'array', items: decision },
                  facts: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        label: { type: 'string' },
                        value: { type: 'string' },
                        source: { type: 'string' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        async (request) => {
          const place = need(request, 'place.read');
          return inRequestPlace(request, place, async (tx) => {
            const partners = await listPartners(tx, place.id);
            return {
              place: { slug: place.slug, name: place.name, kind: place.kind, roles: place.roles },
              partners,
              decisions: await listDecisions(tx, place.id, partners),
              facts: await listFacts(tx, place.id),
            };
          });
        },
      );

      scoped.get(
        '/partners',
        {
          schema: {
            tags: ['places'],
            summary: 'Partners of the place',
            params: slugParam,
            response: { 200: { type: 'array', items: partner } },
          },
        },
        async (request) => {
          const place = need(request, 'place.read');
          return inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
        },
      );

      scoped.post<{ Body: { name: string; agency_type: string } }>(
        '/partners',
        {
          schema: {
            tags: ['places'],
            summary: 'Add a partner agency (admin)',
            params: slugParam,
            body: closedObject({ name: text(200), agency_type: { type: 'string', enum: AGENCY_TYPES } }),
            response: { 201: partner },
          },
        },
        async (request, reply) => {
          const place = need(request, 'partner.manage');
          const input = validateNewPartner(request.body);
          const created = await inRequestPlace(request, place, (tx) =>
            addPartner(tx, place.id, input, { personId: place.person.id }),
          );
          return reply.code(201).send(created);
        },
      );

      scoped.get(
        '/people',
        {
          schema: {
            tags: ['places'],
            summary: 'People of the place and their roles',
            params: slugParam,
            response: {
              200: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id,
                    name: { type: 'string' },
                    email: { type: 'string' },
                    roles: { type: 'array', items: { type: 'string' } },
                    partner_name: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
        },
        async (request) => {
          const place = need(request, 'people.read');
          return inRequestPlace(request, place, (tx) => listPeople(tx, place.id));
        },
      );

      scoped.post<{ Body: { email: string; name: string; role: string; partner_id?: number | null } }>(
        '/people',
        {
          schema: {
            tags: ['places'],
            summary:
              'Give a person a role in the place (admin); a new person gets a one-time link to set their password',
            params: slugParam,
            body: closedObject(
              {
                email: text(320),
                name: text(200),
                role: { type: 'string', enum: ROLES },
                partner_id: { anyOf: [id, { type: 'null' }] },
              },
              ['email', 'name', 'role'],
            ),
            response: {
              201: {
                type: 'object',
                properties: { person_id: id, invitation_url: { type: 'string' } },
                required: ['person_id', 'invitation_url'],
              },
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'people.manage');
          const input = validateNewMember(request.body);
          const added = await inRequestPlace(request, place, (tx) =>
            addMember(tx, place.id, input, { personId: place.person.id }),
          );
          // The same answer whether or not the email already has an account anywhere on the service.
          return reply.code(201).send({
            person_id: added.person_id,
            invitation_url: invitationUrl(request, added.invitation_token),
          });
        },
      );

      scoped.delete<{ Params: { slug: string; personId: number; role: Role } }>(
        '/people/:personId/roles/:role',
        {
          schema: {
            tags: ['places'],
            summary: 'Take a role away from a person (admin); the place keeps at least one administrator',
            params: {
              type: 'object',
              properties: { slug: { type: 'string' }, personId: id, role: { type: 'string', enum: ROLES } },
              required: ['slug', 'personId', 'role'],
            },
            response: { 204: { type: 'null' } },
          },
        },
        async (request, reply) => {
          const place = need(request, 'people.manage');
          await takeRoleAway(request, place, request.params.personId, request.params.role);
          return reply.code(204).send();
        },
      );

      scoped.get(
        '/decisions',
        {
          schema: {
            tags: ['board'],
            summary: 'Programme board decisions, newest first',
            params: slugParam,
            response: { 200: { type: 'array', items: decision } },
          },
        },
        async (request) => {
          const place = need(request, 'place.read');
          return inRequestPlace(request, place, async (tx) =>
            listDecisions(tx, place.id, await listPartners(tx, place.id)),
          );
        },
      );

      scoped.post<{
        Body: {
          title: string;
          description?: string;
          sign_off_rule: string;
          signed_off_by?: number[];
          kind?: string;
          financial_year?: number;
        };
      }>(
        '/decisions',
        {
          schema: {
            tags: ['board'],
            summary:
              'Record a board decision (admin); signed_off_by only for the partners you represent; kind period_reopen with financial_year re-opens that closed year once',
            params: slugParam,
            body: closedObject(
              {
                title: text(200),
                description: text(5000),
                sign_off_rule: { type: 'string', enum: SIGN_OFF_RULES },
                signed_off_by: { type: 'array', items: id, maxItems: 100 },
                kind: { type: 'string', enum: DECISION_KINDS },
                financial_year: { type: 'integer', minimum: 1990, maximum: 2100 },
              },
              ['title', 'sign_off_rule'],
            ),
            response: { 201: decision },
          },
        },
        async (request, reply) => {
          const place = need(request, 'decision.record');
          const input = validateNewDecision(request.body);
          const created = await inRequestPlace(request, place, (tx) =>
            recordDecision(tx, place.id, input, { personId: place.person.id }),
          );
          return reply.code(201).send(created);
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: { partner_id: number } }>(
        '/decisions/:id/sign-offs',
        {
          schema: {
            tags: ['board'],
            summary: 'Sign a decision off for a partner (only its representative)',
            params: {
              type: 'object',
              properties: { slug: { type: 'string' }, id },
              required: ['slug', 'id'],
            },
            body: closedObject({ partner_id: id }),
            response: { 200: decision },
          },
        },
        async (request) => {
          const place = need(request, 'decision.sign_off');
          return signOffFor(request, place, request.params.id, request.body.partner_id);
        },
      );

      scoped.get<{ Querystring: { page?: number } }>(
        '/audit',
        {
          schema: {
            tags: ['audit'],
            summary: 'The place’s audit trail, newest first (admin)',
            params: slugParam,
            querystring: pageQuery(100000),
          },
        },
        async (request) => {
          const place = need(request, 'audit.read');
          return inRequestPlace(request, place, (tx) =>
            listPlaceAudit(tx, place.id, request.query.page ?? 1),
          );
        },
      );
    }),
  );
}

/**
 * Signs a decision off for a partner. A partner's representative signs only for their own
 * partner; nobody else (an admin included) signs for a partner. The store checks the partner_rep
 * membership itself (representedPartners).
 */
export function signOffFor(
  request: FastifyRequest,
  place: PlaceContext,
  decisionId: number,
  partnerId: number,
) {
  if (!place.roles.includes('partner_rep') || !place.partnerIds.includes(partnerId))
    throw new Forbidden('You can only sign off for the partner you represent');
  return inRequestPlace(request, place, (tx) =>
    signOffDecision(tx, place.id, decisionId, partnerId, { personId: place.person.id }),
  );
}

/** Takes a role away; a person left with no role in any place is signed out at once. */
export async function takeRoleAway(
  request: FastifyRequest,
  place: PlaceContext,
  personId: number,
  role: Role,
) {
  await inRequestPlace(request, place, (tx) =>
    removeRole(tx, place.id, personId, role, { personId: place.person.id }),
  );
  await endSessionsIfNoRoles(request.server.deps.db, personId);
}

/**
 * The link a person opens to set their password (or, with an account already, to sign in); the
 * admin passes it on. Built from the configured public address (PLACEBUDGET_PUBLIC_URL), never from
 * the request's Host header, which the client chooses.
 */
export function invitationUrl(request: FastifyRequest, token: string): string {
  return `${request.server.deps.config.publicUrl}/invitations/${token}`;
}
