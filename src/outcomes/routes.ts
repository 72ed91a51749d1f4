import type { FastifyInstance } from 'fastify';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import {
  BETTER,
  FREQUENCIES,
  INDICATOR_FIELDS,
  LINK_KINDS,
  parseActualsCsv,
  STATUS_RULE,
  STATUSES,
  validateActual,
  validateLink,
  validateNewIndicator,
  type LinkKind,
} from './domain.ts';
import {
  addLink,
  findIndicator,
  listIndicators,
  recordActuals,
  removeLink,
  createIndicator,
} from './store.ts';
import { closedObject, id, isoDate as date, slugParam, text as str } from '../core/json-schema.ts';

const indicatorParams = {
  type: 'object',
  properties: { slug: str(60), id },
  required: ['slug', 'id'],
} as const;

const point = {
  type: 'object',
  properties: { value: { type: 'number' }, date },
  required: ['value', 'date'],
} as const;

export const indicatorSummary = {
  type: 'object',
  properties: {
    id,
    title: { type: 'string' },
    definition: { type: 'string' },
    unit: { type: 'string' },
    source: { type: 'string' },
    better: { type: 'string', enum: BETTER },
    frequency: { type: 'string', enum: FREQUENCIES },
    baseline: point,
    target: point,
    status: { type: 'string', enum: STATUSES },
    latest: {
      type: ['object', 'null'],
      properties: {
        period_end: date,
        value: { type: 'number' },
        expected: { type: 'number' },
        shortfall: { type: 'number' },
      },
    },
    progress: { type: ['number', 'null'] },
  },
  required: ['id', 'title', 'status', 'baseline', 'target'],
} as const;

const indicatorDetail = {
  type: 'object',
  properties: {
    ...indicatorSummary.properties,
    status_rule: { type: 'string' },
    trajectory: {
      type: 'array',
      items: {
        type: 'object',
        properties: { period_end: date, expected: { type: 'number' }, entered: { type: 'boolean' } },
      },
    },
    actuals: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          period_end: date,
          value: { type: 'number' },
          note: { type: 'string' },
          revision: { type: 'integer' },
        },
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kind: { type: 'string', enum: LINK_KINDS }, ref_id: id, label: { type: 'string' } },
      },
    },
  },
} as const;

const newIndicatorBody = closedObject(
  {
    title: str(200),
    definition: str(2000),
    unit: str(60),
    source: str(500),
    better: { type: 'string', enum: BETTER },
    frequency: { type: 'string', enum: FREQUENCIES },
    baseline_value: { type: 'number' },
    baseline_date: date,
    target_value: { type: 'number' },
    target_date: date,
    trajectory: {
      type: 'array',
      maxItems: 500,
      items: closedObject({ period_end: date, expected: { type: 'number' } }),
    },
  },
  INDICATOR_FIELDS,
);

export async function outcomeRoutes(app: FastifyInstance) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      scoped.get(
        '/indicators',
        {
          schema: {
            tags: ['outcomes'],
            summary: 'The place’s indicators with their status against trajectory',
            params: slugParam,
            response: {
              200: {
                type: 'object',
                properties: {
                  status_rule: { type: 'string' },
                  indicators: { type: 'array', items: indicatorSummary },
                },
              },
            },
          },
        },
        async (request) => {
          const place = need(request, 'outcomes.read');
          return {
            status_rule: STATUS_RULE,
            indicators: await inRequestPlace(request, place, (tx) => listIndicators(tx, place.id)),
          };
        },
      );

      scoped.post<{ Body: Record<string, unknown> }>(
        '/indicators',
        {
          schema: {
            tags: ['outcomes'],
            summary: 'Add an indicator with its baseline, target and (optionally) an entered trajectory',
            params: slugParam,
            body: newIndicatorBody,
            response: { 201: indicatorDetail },
          },
        },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          const input = validateNewIndicator(request.body);
          const created = await inRequestPlace(request, place, (tx) =>
            createIndicator(tx, place.id, input, { personId: place.person.id }),
          );
          return reply.code(201).send({ ...created, status_rule: STATUS_RULE });
        },
      );

      scoped.get<{ Params: { slug: string; id: number } }>(
        '/indicators/:id',
        {
          schema: {
            tags: ['outcomes'],
            summary: 'One indicator: trajectory, actual values, links and status',
            params: indicatorParams,
            response: { 200: indicatorDetail },
          },
        },
        async (request) => {
          const place = need(request, 'outcomes.read');
          const detail = await inRequestPlace(request, place, (tx) =>
            findIndicator(tx, place.id, request.params.id),
          );
          return { ...detail, status_rule: STATUS_RULE };
        },
      );

      scoped.post<{
        Params: { slug: string; id: number };
        Body: { period_end: string; value: number; note?: string };
      }>(
        '/indicators/:id/actuals',
        {
          schema: {
            tags: ['outcomes'],
            summary:
              'Record an actual value for a period; a second value for the same period is a correction',
            params: indicatorParams,
            body: closedObject({ period_end: date, value: { type: 'number' }, note: str(500) }, [
              'period_end',
              'value',
            ]),
            response: { 201: indicatorDetail },
          },
        },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          const detail = await inRequestPlace(request, place, async (tx) => {
            const indicator = await findIndicator(tx, place.id, request.params.id);
            const value = validateActual(request.body, indicator.baseline.date);
            await recordActuals(
              tx,
              place.id,
              indicator.id,
              [value],
              { personId: place.person.id },
              'entered',
            );
            return findIndicator(tx, place.id, indicator.id);
          });
          return reply.code(201).send({ ...detail, status_rule: STATUS_RULE });
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: { csv: string } }>(
        '/indicators/:id/actuals/import',
        {
          schema: {
            tags: ['outcomes'],
            summary:
              'Import actual values from CSV (period_end,value[,note]); all or nothing, with line-numbered errors',
            params: indicatorParams,
            body: closedObject({ csv: str(1_000_000) }),
            response: {
              201: {
                type: 'object',
                properties: { recorded: { type: 'integer' }, corrected: { type: 'integer' } },
              },
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          const result = await inRequestPlace(request, place, async (tx) => {
            const indicator = await findIndicator(tx, place.id, request.params.id);
            const values = parseActualsCsv(request.body.csv, indicator.baseline.date);
            return recordActuals(
              tx,
              place.id,
              indicator.id,
              values,
              { personId: place.person.id },
              'imported',
            );
          });
          return reply.code(201).send(result);
        },
      );

      scoped.post<{
        Params: { slug: string; id: number };
        Body: { kind: LinkKind; ref_id: number; label?: string };
      }>(
        '/indicators/:id/links',
        {
          schema: {
            tags: ['outcomes'],
            summary: 'Link the indicator to a service, a spend line or a business case, by its id',
            params: indicatorParams,
            body: closedObject({ kind: { type: 'string', enum: LINK_KINDS }, ref_id: id, label: str(200) }, [
              'kind',
              'ref_id',
            ]),
            response: { 201: indicatorDetail },
          },
        },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          const link = validateLink(request.body);
          const detail = await inRequestPlace(request, place, async (tx) => {
            await addLink(tx, place.id, request.params.id, link, { personId: place.person.id });
            return findIndicator(tx, place.id, request.params.id);
          });
          return reply.code(201).send({ ...detail, status_rule: STATUS_RULE });
        },
      );

      scoped.delete<{ Params: { slug: string; id: number; kind: LinkKind; ref: number } }>(
        '/indicators/:id/links/:kind/:ref',
        {
          schema: {
            tags: ['outcomes'],
            summary: 'Remove a link (kept in the audit trail)',
            params: {
              type: 'object',
              properties: { slug: str(60), id, kind: { type: 'string', enum: LINK_KINDS }, ref: id },
              required: ['slug', 'id', 'kind', 'ref'],
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          await inRequestPlace(request, place, (tx) =>
            removeLink(tx, place.id, request.params.id, request.params.kind, request.params.ref, {
              personId: place.person.id,
            }),
          );
          return reply.code(204).send();
        },
      );
    }),
  );
}
