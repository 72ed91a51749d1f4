import type { FastifyInstance } from 'fastify';
import { spendBudget } from '../auth/public.ts';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import { formatPounds, formatPoundsShort } from '../core/money.ts';
import { STATUS_LABELS, STATUS_RULE } from '../outcomes/domain.ts';
import { formatValue, STATUS_TAG_CLASSES } from '../outcomes/public.ts';
import type { IndicatorSummary } from '../outcomes/public.ts';
import { formOr } from '../core/forms.ts';
import { financialYearLabel } from '../core/dates.ts';
import { yearQuery } from '../core/json-schema.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { validatePracticeNote } from './domain.ts';
import { ROLLUP_CSV } from './export.ts';
import {
  type FamilyFigures,
  type Figure,
  type MoneyFigures,
  type PlaceFigures,
  type SavingsFigures,
  type YearRange,
} from './figures.ts';
import { placeDashboard } from './dashboard.ts';
import { MEASURES, publish, type Measure } from './publish.ts';
import {
  listPracticeNotes,
  loadNetworkFigures,
  NOTES_PAGE,
  publishPracticeNote,
  setBenchmarkSharing,
  sharesBenchmarks,
  withdrawPracticeNote,
} from './store.ts';

const MEASURE_KEYS = Object.keys(MEASURES) as Measure[];

function moneyChart(money: Figure<MoneyFigures>) {
  if (!money.available || !money.value.byPartner.length) return null;
  const partners = money.value.byPartner;
  return barChart({
    caption: 'Money by partner: put into the pot, committed and spent',
    categories: partners.map((p) => p.name),
    series: [
      { name: 'Pot', values: partners.map((p) => p.pot) },
      { name: 'Committed', values: partners.map((p) => p.committed) },
      { name: 'Spent', values: partners.map((p) => p.spent) },
    ],
    format: formatPounds,
    axisFormat: formatPoundsShort,
  });
}

function familiesChart(families: Figure<FamilyFigures>) {
  if (!families.available) return null;
  return barChart({
    caption: `What the ${families.value.cohort} families in the cohort cost all agencies, the year before and the year after`,
    categories: ['Year before', 'Year after'],
    series: [{ name: 'Cost', values: [families.value.costBefore, families.value.costAfter] }],
    format: formatPounds,
    axisFormat: formatPoundsShort,
  });
}

function savingsChart(savings: Figure<SavingsFigures>) {
  if (!savings.available) return null;
  return barChart({
    caption: 'Savings: forecast in the approved business cases, and realised',
    categories: ['Forecast (approved business cases)', 'Realised'],
    series: [{ name: 'Savings', values: [savings.value.forecast, savings.value.realised] }],
    format: formatPounds,
    axisFormat: formatPoundsShort,
  });
}

function indicatorsChart(indicators: IndicatorSummary[]) {
  const measured = indicators.filter((i) => i.progress !== null);
  if (!measured.length) return null;
  return barChart({
    caption: 'Progress from baseline to target on the latest actual value (100% is the target met)',
    categories: measured.map((i) => i.title),
    series: [{ name: 'Progress', values: measured.map((i) => Math.round(i.progress! * 1000) / 10) }],
    format: (v) => `${v}%`,
  });
}

/** The years a page's year picker offers, latest first: those with postings, and the one shown. */
function yearItems(years: YearRange | null, shown: number | null) {
  const items = years
    ? Array.from({ length: years.latest - years.earliest + 1 }, (_, i) => years.latest - i)
    : [];
  if (shown !== null && !items.includes(shown)) items.push(shown);
  return items
    .sort((a, b) => b - a)
    .map((y) => ({ value: String(y), text: financialYearLabel(y), selected: y === shown }));
}

type YearQuery = { Querystring: { year?: number } };
const withYear = { schema: { hide: true, querystring: yearQuery } };

export function networkPages(figures: PlaceFigures) {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: { rank_by?: string; tag?: string; page?: string; year?: number } }>(
      '/network',
      withYear,
      async (request, reply) => {
        spendBudget(request, 'network');
        const rankBy = MEASURE_KEYS.includes(request.query.rank_by as Measure)
          ? (request.query.rank_by as Measure)
          : 'indicator_progress';
        const page = Math.max(1, Math.min(10_000, Number(request.query.page) || 1));
        const tag = (request.query.tag ?? '').slice(0, 40).trim() || undefined;
        const [network, notes] = await Promise.all([
          loadNetworkFigures(app.deps.db, figures, { year: request.query.year, log: request.log }),
          listPracticeNotes(app.deps.db, { page, ...(tag ? { tag } : {}) }),
        ]);
        return reply.page('network/views/network.njk', {
          title: 'Learning network',
          benchmarks: publish(network.places, rankBy).benchmarks,
          year: network.year,
          yearItems: yearItems(network.years, network.year),
          measures: MEASURES,
          measureKeys: MEASURE_KEYS,
          rankBy,
          notes: notes.slice(0, NOTES_PAGE),
          page,
          hasNext: notes.length > NOTES_PAGE,
          tag,
          pounds: formatPounds,
        });
      },
    );

    app.get<YearQuery>('/network/rollup', withYear, async (request, reply) => {
      spendBudget(request, 'network');
      const network = await loadNetworkFigures(app.deps.db, figures, {
        year: request.query.year,
        log: request.log,
      });
      return reply.page('network/views/rollup.njk', {
        title: 'National roll-up',
        rollup: publish(network.places).rollup,
        year: network.year,
        yearItems: yearItems(network.years, network.year),
        csvHref: `/api/v1/network/rollup/${ROLLUP_CSV}${network.year === null ? '' : `?year=${network.year}`}`,
      });
    });

    await app.register(
      placeScoped('/places/:slug', (scoped) => {
        scoped.get<YearQuery>('/dashboard', withYear, async (request, reply) => {
          const place = need(request, 'dashboard.read');
          const data = await placeDashboard(figures, request, place, request.query.year);
          return reply.page('network/views/dashboard.njk', {
            title: `Dashboard – ${place.name}`,
            place,
            ...data,
            yearItems: yearItems(data.years, data.year),
            charts: {
              money: moneyChart(data.money),
              families: familiesChart(data.families),
              savings: savingsChart(data.savings),
              indicators: indicatorsChart(data.indicators),
            },
            statusLabels: STATUS_LABELS,
            statusClasses: STATUS_TAG_CLASSES,
            statusRule: STATUS_RULE,
            fmt: formatValue,
            pounds: formatPounds,
          });
        });

        const networkContext = async (
          request: Parameters<typeof need>[0],
          place: PlaceContext,
          values: Record<string, unknown> = {},
        ) => ({
          title: `Learning network – ${place.name}`,
          place,
          can: {
            share: allows(place.roles, 'network.share'),
            publish: allows(place.roles, 'network.publish'),
          },
          shares: await inRequestPlace(request, place, (tx) => sharesBenchmarks(tx, place.id)),
          notes: await listPracticeNotes(request.server.deps.db, { placeId: place.id, page: 1 }),
          values,
          pounds: formatPounds,
        });

        scoped.get<{ Querystring: { done?: string } }>(
          '/network',
          { schema: { hide: true } },
          async (request, reply) => {
            const place = need(request, 'place.read');
            return reply.page('network/views/place-network.njk', {
              ...(await networkContext(request, place)),
              done: request.query.done,
            });
          },
        );

        scoped.post<{ Body: { shares?: string } }>(
          '/network/sharing',
          { schema: { hide: true } },
          async (request, reply) => {
            const place = need(request, 'network.share');
            const shares = request.body?.shares === 'yes';
            await inRequestPlace(request, place, (tx) =>
              setBenchmarkSharing(tx, place.id, shares, { personId: place.person.id }),
            );
            return reply.redirect(
              `/places/${place.slug}/network?done=${shares ? 'shared' : 'unshared'}`,
              303,
            );
          },
        );

        scoped.post<{ Body: Record<string, string> }>(
          '/network/notes',
          { schema: { hide: true } },
          async (request, reply) => {
            const place = need(request, 'network.publish');
            const body = request.body ?? {};
            const shown = await formOr(
              reply,
              'network/views/place-network.njk',
              await networkContext(request, place, body),
              ['title', 'what_they_did', 'cost', 'cost_note', 'what_changed', 'contact', 'tags'],
              () =>
                inRequestPlace(request, place, (tx) =>
                  publishPracticeNote(tx, place.id, validatePracticeNote(body), {
                    personId: place.person.id,
                  }),
                ),
            );
            return shown ?? reply.redirect(`/places/${place.slug}/network?done=published`, 303);
          },
        );

        scoped.post<{ Params: { slug: string; id: string } }>(
          '/network/notes/:id/withdraw',
          { schema: { hide: true } },
          async (request, reply) => {
            const place = need(request, 'network.publish');
            const id = Number(request.params.id);
            await inRequestPlace(request, place, (tx) =>
              withdrawPracticeNote(tx, place.id, Number.isSafeInteger(id) ? id : 0, {
                personId: place.person.id,
              }),
            );
            return reply.redirect(`/places/${place.slug}/network?done=withdrawn`, 303);
          },
        );
      }),
    );
  };
}
