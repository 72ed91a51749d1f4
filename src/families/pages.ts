import type { FastifyInstance } from 'fastify';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import { formatPounds, formatPoundsShort } from '../core/money.ts';
import { AGENCY_LABELS, AGENCY_TYPES } from '../places/domain.ts';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import { defaultCatalogue } from './catalogue.ts';
import {
  CRITERION_LABELS,
  LEGAL_BASIS_LABELS,
  PURPOSE_LABELS,
  lastTwelveMonths,
  validateCostPeriod,
  type CostPeriod,
  type CostSummary,
} from './domain.ts';
import { needFamilyReader, viewerOf } from './routes.ts';
import { listAgreements } from './access.ts';
import { cohortFor, readFamilyCost, type Cohort } from './costing.ts';
import { timeline } from './events.ts';
import { listFamilies, listGoals, readFamily, subjectAccessExport } from './record.ts';
import { addDays, todayIso } from '../core/dates.ts';
import { Invalid } from '../core/errors.ts';
import { errorList, fieldMessages, formatDate } from '../core/web.ts';

/** Cost by bearing agency, the twelve months before against the twelve after. */
function beforeAfterChart(before: CostSummary, after: CostSummary, caption: string) {
  const agencies = AGENCY_TYPES.filter((a) => before.byAgency[a] || after.byAgency[a]);
  return barChart({
    caption,
    categories: agencies.map((a) => AGENCY_LABELS[a]),
    series: [
      { name: '12 months before', values: agencies.map((a) => before.byAgency[a] ?? 0) },
      { name: '12 months after', values: agencies.map((a) => after.byAgency[a] ?? 0) },
    ],
    format: formatPoundsShort,
  });
}

const BANDS: [string, number][] = [
  ['Under £10k', 1_000_000],
  ['£10k to £50k', 5_000_000],
  ['£50k to £100k', 10_000_000],
  ['£100k or more', Number.MAX_SAFE_INTEGER],
];

/** How many families fall in each band of cost in their twelve months before being taken on. */
function distributionChart(c: Cohort) {
  const counts = BANDS.map(
    ([, upper], i) =>
      c.perFamily.filter((f) => f.before < upper && f.before >= (i ? BANDS[i - 1]![1] : 0)).length,
  );
  return barChart({
    caption: 'Families by cost in the 12 months before they were taken on',
    categories: BANDS.map(([label]) => label),
    series: [{ name: 'Families', values: counts }],
  });
}

export async function familyPages(app: FastifyInstance) {
  await app.register(
    placeScoped('/places/:slug', (s) => {
      s.get('/families', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'family.cohort');
        const data = await inRequestPlace(request, place, async (tx) => ({
          families: allows(place.roles, 'family.read')
            ? await listFamilies(tx, place.id, viewerOf(place), todayIso())
            : [],
          agreements: await listAgreements(tx, place.id),
        }));
        const query = request.query as { added?: string; imported?: string };
        return reply.page('families/views/list.njk', {
          title: `Families – ${place.name}`,
          place,
          ...data,
          canRead: allows(place.roles, 'family.read'),
          can: {
            manage: allows(place.roles, 'family.manage'),
            agreements: allows(place.roles, 'family.agreements'),
            match: allows(place.roles, 'family.match'),
          },
          added: query.added,
          imported: /^\d+$/.test(query.imported ?? '') ? Number(query.imported) : null,
          purposeLabels: PURPOSE_LABELS,
          basisLabels: LEGAL_BASIS_LABELS,
        });
      });

      s.get('/families/cohort', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'family.cohort');
        const { view: c, full } = await inRequestPlace(request, place, (tx) =>
          cohortFor(tx, place.id, viewerOf(place), defaultCatalogue, null, todayIso()),
        );
        return reply.page('families/views/cohort.njk', {
          title: `Family cohort costs – ${place.name}`,
          place,
          cohort: c,
          agencyLabels: AGENCY_LABELS,
          beforeAfter: c.families
            ? beforeAfterChart(
                c.before,
                c.after,
                'Cost by agency, 12 months before and after families were taken on',
              )
            : null,
          distribution: c.families ? distributionChart(full) : null,
          pounds: formatPounds,
        });
      });

      s.get<{ Params: { slug: string; id: string } }>(
        '/families/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = needFamilyReader(request);
          const familyId = Number(request.params.id);
          const today = todayIso();
          const query = request.query as { from?: string; to?: string };
          const defaults = lastTwelveMonths(today);
          const asked = { from: query.from ?? defaults.from, to: query.to ?? defaults.to };
          let period: CostPeriod | null = null;
          let problem: Invalid | null = null;
          try {
            period = validateCostPeriod(asked.from, asked.to);
          } catch (err) {
            if (!(err instanceof Invalid)) throw err;
            problem = err;
          }
          const data = await inRequestPlace(request, place, async (tx) => {
            const record = await readFamily(tx, place.id, familyId, viewerOf(place), 'case_work', today);
            return {
              record,
              events: await timeline(tx, place.id, familyId, defaultCatalogue, null),
              goals: await listGoals(tx, place.id, familyId),
              cost: period
                ? await readFamilyCost(
                    tx,
                    place.id,
                    familyId,
                    viewerOf(place),
                    defaultCatalogue,
                    null,
                    period,
                    today,
                  )
                : null,
            };
          });
          return reply.page(
            'families/views/family.njk',
            {
              title: `${data.record.household_name ?? data.record.reference} – family record`,
              place,
              ...data,
              period: asked,
              costCaption: period
                ? `Cost of events from ${formatDate(period.from)} to ${formatDate(addDays(period.to, -1))}, unit costs as published`
                : null,
              errors: errorList(problem?.fields, ['from', 'to']),
              fieldErrors: fieldMessages(problem?.fields),
              agencyLabels: AGENCY_LABELS,
              pounds: formatPounds,
              purposeLabels: PURPOSE_LABELS,
              criterionLabels: CRITERION_LABELS,
            },
            problem ? 400 : 200,
          );
        },
      );

      s.get<{ Params: { slug: string; id: string } }>(
        '/families/:id/export',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = needFamilyReader(request);
          const familyId = Number(request.params.id);
          const data = await inRequestPlace(request, place, (tx) =>
            subjectAccessExport(tx, place.id, familyId, viewerOf(place), todayIso(), defaultCatalogue),
          );
          return reply.page('families/views/export.njk', {
            title: 'Everything held about this family',
            place,
            familyId,
            data,
            json: JSON.stringify(data, null, 2),
            pounds: formatPounds,
          });
        },
      );
    }),
  );
}
