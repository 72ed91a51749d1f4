import type { FastifyInstance, FastifyRequest } from 'fastify';
import { spendBudget, startExport } from '../auth/public.ts';
import { requirePerson } from '../auth/plugin.ts';
import { STATUS_RULE } from '../outcomes/domain.ts';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import { validatePracticeNote } from './domain.ts';
import { ROLLUP_CSV, rollupCsv, rollupDataPackage } from './export.ts';
import { placeDashboard } from './dashboard.ts';
import type { PlaceFigures } from './figures.ts';
import { MEASURES, publish, type Measure } from './publish.ts';
import {
  listPracticeNotes,
  loadNetworkFigures,
  publishPracticeNote,
  setBenchmarkSharing,
  withdrawPracticeNote,
} from './store.ts';
import {
  closedObject,
  financialYear,
  id,
  pageQuery,
  slugParam,
  text as str,
  yearQuery,
} from '../core/json-schema.ts';
import { todayIso } from '../core/dates.ts';

const MEASURE_KEYS = Object.keys(MEASURES) as Measure[];

const published = {
  type: 'object',
  description:
    'A published figure: `value` only when shown; otherwise `reason` (small, secondary, not_shared, derived, not_available)',
  properties: {
    shown: { type: 'boolean' },
    value: { type: 'number' },
    text: { type: 'string' },
    reason: { type: 'string' },
  },
  required: ['shown', 'text'],
} as const;

const benchmarksResponse = {
  type: 'object',
  properties: {
    rank_by: { type: 'string', enum: MEASURE_KEYS },
    year: {
      type: ['integer', 'null'],
      description: 'The financial year of the ledger figures (2012 is 2012/13)',
    },
    benchmarks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          slug: { type: 'string' },
          name: { type: 'string' },
          kind: { type: 'string' },
          rank: { type: ['integer', 'null'] },
          measures: {
            type: 'object',
            properties: Object.fromEntries(MEASURE_KEYS.map((k) => [k, published])),
          },
        },
      },
    },
  },
} as const;

const rollupRow = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    places: { type: 'integer' },
    partners: { type: 'integer' },
    moneyReporting: { type: 'integer' },
    pot: published,
    committed: published,
    spent: published,
    familiesReporting: { type: 'integer' },
    families: published,
    savingsReporting: { type: 'integer' },
    savingsForecast: published,
    savingsRealised: published,
  },
} as const;

const note = {
  type: 'object',
  properties: {
    id,
    place_slug: { type: 'string' },
    place_name: { type: 'string' },
    title: { type: 'string' },
    what_they_did: { type: 'string' },
    cost_pence: { type: ['integer', 'null'] },
    cost_note: { type: 'string' },
    what_changed: { type: 'string' },
    contact: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
    published_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** The day a publication describes, for the roll-up's Fiscal Data Package. */
const today = () => todayIso();

export function networkRoutes(figures: PlaceFigures) {
  return async (app: FastifyInstance) => {
    type YearRequest = FastifyRequest<{ Querystring: { year?: number } }>;
    const publication = async (request: YearRequest, rankBy: Measure = 'indicator_progress') => {
      const network = await loadNetworkFigures(app.deps.db, figures, {
        year: request.query.year,
        log: request.log,
      });
      return { year: network.year, ...publish(network.places, rankBy) };
    };
    const ofTheYear = ' in one financial year: `year`, else the latest with postings in any place';

    app.get<{ Querystring: { rank_by?: Measure; year?: number } }>(
      '/api/v1/network/benchmarks',
      {
        schema: {
          tags: ['network'],
          summary: `Published benchmarks of the places that share them, ranked by a measure, with small-number suppression,${ofTheYear}`,
          querystring: {
            type: 'object',
            properties: { rank_by: { type: 'string', enum: MEASURE_KEYS }, year: financialYear },
          },
          response: { 200: benchmarksResponse },
        },
      },
      async (request) => {
        spendBudget(request, 'network');
        const rankBy = request.query.rank_by ?? 'indicator_progress';
        const { year, benchmarks } = await publication(request, rankBy);
        return { rank_by: rankBy, year, benchmarks };
      },
    );

    app.get<{ Querystring: { year?: number } }>(
      '/api/v1/network/rollup',
      {
        schema: {
          tags: ['network'],
          summary: `National roll-up: places, partners, pooled money, families, savings (all, and by kind of place),${ofTheYear}`,
          querystring: yearQuery,
          response: { 200: { type: 'array', items: rollupRow } },
        },
      },
      async (request) => {
        spendBudget(request, 'network');
        return (await publication(request)).rollup;
      },
    );

    app.get<{ Querystring: { year?: number } }>(
      '/api/v1/network/rollup/' + ROLLUP_CSV,
      {
        schema: {
          tags: ['network'],
          summary: `The national roll-up as CSV,${ofTheYear}`,
          querystring: yearQuery,
        },
      },
      async (request, reply) => {
        spendBudget(request, 'network');
        startExport(request, reply);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${ROLLUP_CSV}"`)
          .send(rollupCsv((await publication(request)).rollup));
      },
    );

    app.get(
      '/api/v1/network/rollup/datapackage.json',
      {
        schema: {
          tags: ['network'],
          summary: 'Fiscal Data Package descriptor for rollup.csv (in the same folder)',
        },
      },
      async (request) => {
        requirePerson(request);
        return rollupDataPackage(today());
      },
    );

    app.get<{ Querystring: { tag?: string; page?: number } }>(
      '/api/v1/network/practice-notes',
      {
        schema: {
          tags: ['network'],
          summary: 'Practice notes published by places, newest first, 20 a page',
          querystring: pageQuery(10000, { tag: str(40) }),
          response: { 200: { type: 'array', items: note } },
        },
      },
      async (request) => {
        requirePerson(request);
        return (await listPracticeNotes(app.deps.db, request.query)).slice(0, 20);
      },
    );

    await app.register(
      placeScoped('/api/v1/places/:slug', (scoped) => {
        scoped.get<{ Querystring: { year?: number } }>(
          '/dashboard',
          {
            schema: {
              tags: ['network'],
              summary:
                'The place dashboard: money (for `year`, else the latest financial year with postings), families, savings (each available or not, and why) and indicators against targets',
              params: slugParam,
              querystring: yearQuery,
            },
          },
          async (request) => {
            const place = need(request, 'dashboard.read');
            return {
              ...(await placeDashboard(figures, request, place, request.query.year)),
              status_rule: STATUS_RULE,
            };
          },
        );

        scoped.put<{ Body: { shares: boolean } }>(
          '/benchmark-sharing',
          {
            schema: {
              tags: ['network'],
              summary: 'Opt in to (or out of) sharing the place’s benchmarks with the network (admin)',
              params: slugParam,
              body: closedObject({ shares: { type: 'boolean' } }),
              response: { 200: { type: 'object', properties: { shares: { type: 'boolean' } } } },
            },
          },
          async (request) => {
            const place = need(request, 'network.share');
            await inRequestPlace(request, place, (tx) =>
              setBenchmarkSharing(tx, place.id, request.body.shares, { personId: place.person.id }),
            );
            return { shares: request.body.shares };
          },
        );

        scoped.post<{ Body: Record<string, unknown> }>(
          '/practice-notes',
          {
            schema: {
              tags: ['network'],
              summary: 'Publish a practice note to the network',
              params: slugParam,
              body: closedObject(
                {
                  title: str(200),
                  what_they_did: str(5000),
                  cost: str(30),
                  cost_note: str(1000),
                  what_changed: str(5000),
                  contact: str(200),
                  tags: { type: 'array', maxItems: 10, items: str(40) },
                },
                ['title', 'what_they_did', 'what_changed', 'contact'],
              ),
              response: { 201: { type: 'object', properties: { id } } },
            },
          },
          async (request, reply) => {
            const place = need(request, 'network.publish');
            const input = validatePracticeNote(request.body);
            const noteId = await inRequestPlace(request, place, (tx) =>
              publishPracticeNote(tx, place.id, input, { personId: place.person.id }),
            );
            return reply.code(201).send({ id: noteId });
          },
        );

        scoped.post<{ Params: { slug: string; id: number } }>(
          '/practice-notes/:id/withdraw',
          {
            schema: {
              tags: ['network'],
              summary: 'Withdraw a published practice note from the network',
              params: { type: 'object', properties: { slug: str(60), id }, required: ['slug', 'id'] },
            },
          },
          async (request, reply) => {
            const place = need(request, 'network.publish');
            await inRequestPlace(request, place, (tx) =>
              withdrawPracticeNote(tx, place.id, request.params.id, { personId: place.person.id }),
            );
            return reply.code(204).send();
          },
        );
      }),
    );
  };
}
