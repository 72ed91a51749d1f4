import type { FastifyInstance } from 'fastify';
import { pence } from '../core/money.ts';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import { REVIEW_DECISIONS, SERVICE_STATUSES, validateNewService } from './domain.ts';
import { grantsPackage } from './open-data.ts';
import { startExport } from '../auth/public.ts';
import {
  addService,
  exportServices,
  findService,
  importOruk,
  listOverlaps,
  listServices,
  removeService,
  setServiceCost,
  updateService,
} from './store.ts';
import { ORUK_LIMIT } from './upload.ts';
import { closedObject, id, placeParams, slugParam } from '../core/json-schema.ts';

const withId = placeParams('id');
const ids = { type: 'array', items: id, maxItems: 100 } as const;
const service = closedObject(
  {
    name: { type: 'string', maxLength: 300 },
    description: { type: 'string', maxLength: 5000 },
    client_group: { type: 'string', maxLength: 100 },
    outcome_area: { type: 'string', maxLength: 100 },
    status: { type: 'string', enum: SERVICE_STATUSES },
    review: { type: ['string', 'null'], enum: [...REVIEW_DECISIONS, null] },
    decision_id: { ...id, type: ['integer', 'null'] },
    funded_by: ids,
    delivered_by: ids,
  },
  ['name'],
);
export async function serviceRoutes(app: FastifyInstance) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      const tags = ['services'];

      scoped.get(
        '/services',
        {
          schema: {
            tags,
            summary: 'The service map: every service with its partners, annual costs and review decision',
            params: slugParam,
          },
        },
        async (request) => {
          const place = need(request, 'services.read');
          return inRequestPlace(request, place, (tx) => listServices(tx, place.id));
        },
      );

      scoped.post<{ Body: Record<string, unknown> }>(
        '/services',
        { schema: { tags, summary: 'Add a service (admin, analyst)', params: slugParam, body: service } },
        async (request, reply) => {
          const place = need(request, 'services.manage');
          const input = validateNewService(request.body);
          const serviceId = await inRequestPlace(request, place, (tx) =>
            addService(tx, place.id, input, place.person.id),
          );
          return reply.code(201).send({ id: serviceId });
        },
      );

      scoped.get<{ Querystring: { format?: 'oruk' | 'csv' } }>(
        '/services/export',
        {
          schema: {
            tags,
            summary: 'The service map as Open Referral UK JSON (default) or CSV',
            params: slugParam,
            querystring: {
              type: 'object',
              properties: { format: { type: 'string', enum: ['oruk', 'csv'] } },
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'services.read');
          startExport(request, reply);
          const format = request.query.format ?? 'oruk';
          const text = await inRequestPlace(request, place, (tx) => exportServices(tx, place, format));
          const [type, file] =
            format === 'oruk' ? ['application/json', 'services-oruk.json'] : ['text/csv', 'services.csv'];
          return reply
            .type(`${type}; charset=utf-8`)
            .header('content-disposition', `attachment; filename="${place.slug}-${file}"`)
            .send(text);
        },
      );

      scoped.post<{ Body: unknown }>(
        '/services/import',
        {
          // A council's whole service directory is a few MB of JSON (North Lincolnshire's 738 services: 1.8 MB).
          bodyLimit: ORUK_LIMIT,
          schema: {
            tags,
            summary:
              'Import an Open Referral UK service list (v1 list or page, or v3 services) into the map; all or nothing, a service already imported (same id) is updated',
            params: slugParam,
            body: { type: ['array', 'object'] },
          },
        },
        async (request) => {
          const place = need(request, 'services.manage');
          return inRequestPlace(request, place, (tx) =>
            importOruk(tx, place.id, request.body, place.person.id),
          );
        },
      );

      scoped.get(
        '/services/overlaps',
        {
          schema: {
            tags,
            summary:
              'Services of different partners for the same client group and outcome area, with their combined cost',
            params: slugParam,
          },
        },
        async (request) => {
          const place = need(request, 'services.read');
          return inRequestPlace(request, place, (tx) => listOverlaps(tx, place.id));
        },
      );

      scoped.get<{ Params: { id: number } }>(
        '/services/:id',
        { schema: { tags, summary: 'One service', params: withId } },
        async (request) => {
          const place = need(request, 'services.read');
          return inRequestPlace(request, place, (tx) => findService(tx, place.id, request.params.id));
        },
      );

      scoped.put<{ Params: { id: number }; Body: Record<string, unknown> }>(
        '/services/:id',
        {
          schema: {
            tags,
            summary:
              'Change a service, its partners, or its review decision and the board decision behind it (admin, analyst)',
            params: withId,
            body: service,
          },
        },
        async (request) => {
          const place = need(request, 'services.manage');
          const input = validateNewService(request.body);
          return inRequestPlace(request, place, async (tx) => {
            await updateService(tx, place.id, request.params.id, input, place.person.id);
            return findService(tx, place.id, request.params.id);
          });
        },
      );

      scoped.delete<{ Params: { id: number } }>(
        '/services/:id',
        {
          schema: {
            tags,
            summary: 'Remove a service with its costs and rules (admin, analyst)',
            params: withId,
          },
        },
        async (request, reply) => {
          const place = need(request, 'services.manage');
          await inRequestPlace(request, place, (tx) =>
            removeService(tx, place.id, request.params.id, place.person.id),
          );
          return reply.code(204).send();
        },
      );

      scoped.put<{ Params: { id: number }; Body: { partner_id: number; year: number; cost_pence: number } }>(
        '/services/:id/costs',
        {
          schema: {
            tags,
            summary: 'Set the annual cost one partner funds in one financial year (2025 is 2025/26)',
            params: withId,
            body: closedObject({
              partner_id: id,
              year: { type: 'integer', minimum: 2000, maximum: 2100 },
              cost_pence: { type: 'integer', minimum: 0, maximum: 1_000_000_000_000 },
            }),
          },
        },
        async (request) => {
          const place = need(request, 'services.manage');
          const { partner_id, year, cost_pence } = request.body;
          return inRequestPlace(request, place, async (tx) => {
            await setServiceCost(
              tx,
              place.id,
              { serviceId: request.params.id, partnerId: partner_id, year, costPence: pence(cost_pence) },
              place.person.id,
            );
            return findService(tx, place.id, request.params.id);
          });
        },
      );

      scoped.get(
        '/grants/360giving.json',
        {
          schema: {
            tags,
            summary:
              'Grants from the pot to voluntary and community organisations as a 360Giving data package',
            params: slugParam,
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.read');
          startExport(request, reply);
          const data = await inRequestPlace(request, place, (tx) => grantsPackage(tx, place));
          return reply
            .header('content-disposition', `attachment; filename="${place.slug}-grants-360giving.json"`)
            .send(data);
        },
      );
    }),
  );
}
