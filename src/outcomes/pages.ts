import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { renderSvg, type ChartFigure } from '../core/chart.ts';
import { Invalid } from '../core/errors.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  INDICATOR_FIELDS,
  LINK_KIND_LABELS,
  LINK_KINDS,
  parseActualsCsv,
  STATUS_LABELS,
  STATUS_RULE,
  validateActual,
  validateLink,
  validateNewIndicator,
  type ActualValue,
  type IndicatorShape,
} from './domain.ts';
import {
  addLink,
  createIndicator,
  findIndicator,
  listIndicators,
  recordActuals,
  type IndicatorDetail,
} from './store.ts';
import { formatValue, STATUS_TAG_CLASSES } from './public.ts';

export { formatValue, STATUS_TAG_CLASSES };

/** Expected and actual values per period, drawn as lines, with the same numbers in its table. */
function trajectoryChart(indicator: IndicatorDetail): ChartFigure {
  const actualBy = new Map(indicator.actuals.map((a) => [a.period_end, a.value]));
  const periods = [
    ...new Set([
      indicator.baseline.date,
      ...indicator.trajectory.map((t) => t.period_end),
      ...actualBy.keys(),
    ]),
  ].sort();
  const expected = periods.map((p) =>
    p === indicator.baseline.date
      ? indicator.baseline.value
      : (indicator.trajectory.find((t) => t.period_end === p)?.expected ?? null),
  );
  const actual = periods.map((p) =>
    p === indicator.baseline.date ? indicator.baseline.value : (actualBy.get(p) ?? null),
  );
  const caption = `${indicator.title}: trajectory and actual values (${indicator.unit})`;
  const svg = renderSvg(
    {
      aria: { enabled: true, label: { description: caption } },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      xAxis: { type: 'category', data: periods },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => formatValue(v) } },
      series: [
        {
          type: 'line',
          name: 'Trajectory',
          data: expected,
          connectNulls: true,
          lineStyle: { type: 'dashed' },
        },
        { type: 'line', name: 'Actual', data: actual, connectNulls: true },
      ],
    },
    { width: 640, height: 300 },
  );
  const cell = (v: number | null) => (v === null ? '' : formatValue(v));
  return {
    caption,
    svg,
    table: {
      head: ['Period ending', 'Trajectory', 'Actual'],
      rows: periods.map((p, i) => [p, cell(expected[i]!), cell(actual[i]!)]),
    },
  };
}

function can(place: PlaceContext) {
  return { manage: allows(place.roles, 'outcomes.manage') };
}

const betterItems = (selected?: unknown) => [
  {
    value: 'higher',
    text: 'A higher value is better',
    hint: { text: 'For example, jobs supported or pupils achieving five good GCSEs' },
    checked: selected === 'higher',
  },
  {
    value: 'lower',
    text: 'A lower value is better',
    hint: { text: 'For example, young people not in education, employment or training' },
    checked: selected === 'lower',
  },
];
const frequencyItems = (selected?: unknown) => [
  {
    value: 'annual',
    text: 'Each financial year (to 31 March)',
    checked: (selected ?? 'annual') === 'annual',
  },
  { value: 'quarterly', text: 'Each quarter', checked: selected === 'quarterly' },
];
const linkKindItems = (selected?: unknown) =>
  LINK_KINDS.map((value) => ({ value, text: LINK_KIND_LABELS[value], checked: value === selected }));

const FORM_ORDER = [...INDICATOR_FIELDS, 'trajectory'];

/** What one of the forms on an indicator's page does with what was posted. */
type IndicatorForm = (
  request: FastifyRequest,
  place: PlaceContext,
  indicator: IndicatorShape & { id: number },
  body: Record<string, string>,
) => Promise<unknown>;

export async function outcomePages(app: FastifyInstance) {
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      scoped.get('/indicators', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'outcomes.read');
        const indicators = await inRequestPlace(request, place, (tx) => listIndicators(tx, place.id));
        return reply.page('outcomes/views/indicators.njk', {
          title: `Indicators – ${place.name}`,
          place,
          can: can(place),
          indicators,
          statusLabels: STATUS_LABELS,
          statusClasses: STATUS_TAG_CLASSES,
          statusRule: STATUS_RULE,
          fmt: formatValue,
          added: (request.query as { added?: string }).added,
        });
      });

      const newContext = (place: PlaceContext, values: Record<string, unknown>) => ({
        title: 'Add an indicator',
        place,
        values,
        betterItems: betterItems(values.better),
        frequencyItems: frequencyItems(values.frequency),
      });

      scoped.get('/indicators/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'outcomes.manage');
        return reply.page('outcomes/views/indicator-new.njk', newContext(place, {}));
      });

      scoped.post<{ Body: Record<string, string> }>(
        '/indicators',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'outcomes.manage');
          const body = request.body ?? {};
          let createdId = 0;
          const shown = await formOr(
            reply,
            'outcomes/views/indicator-new.njk',
            newContext(place, body),
            FORM_ORDER,
            async () => {
              const created = await inRequestPlace(request, place, (tx) =>
                createIndicator(tx, place.id, validateNewIndicator(body), { personId: place.person.id }),
              );
              createdId = created.id;
            },
          );
          return (
            shown ?? reply.redirect(`/places/${place.slug}/indicators/${createdId}?added=indicator`, 303)
          );
        },
      );

      const detailContext = async (
        request: Parameters<typeof need>[0],
        place: PlaceContext,
        id: number,
        extra: Record<string, unknown> = {},
      ) => {
        const indicator = await inRequestPlace(request, place, (tx) => findIndicator(tx, place.id, id));
        return {
          title: indicator.title,
          place,
          can: can(place),
          indicator,
          chart: trajectoryChart(indicator),
          statusLabels: STATUS_LABELS,
          statusClasses: STATUS_TAG_CLASSES,
          statusRule: STATUS_RULE,
          linkKindLabels: LINK_KIND_LABELS,
          fmt: formatValue,
          linkKindItems: linkKindItems((extra.values as Record<string, unknown> | undefined)?.kind),
          values: {},
          ...extra,
        };
      };
      const indicatorId = (raw: string) => {
        const id = Number(raw);
        if (!Number.isSafeInteger(id) || id < 1) throw new Invalid('No such indicator');
        return id;
      };

      scoped.get<{ Params: { slug: string; id: string }; Querystring: { added?: string } }>(
        '/indicators/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'outcomes.read');
          return reply.page(
            'outcomes/views/indicator.njk',
            await detailContext(request, place, indicatorId(request.params.id), {
              added: request.query.added,
            }),
          );
        },
      );

      /** The three forms on the indicator's page post here, each re-showing the page with its errors. */
      const onIndicatorPage = (path: string, order: string[], act: IndicatorForm, done: string) =>
        scoped.post<{ Params: { slug: string; id: string }; Body: Record<string, string> }>(
          `/indicators/:id/${path}`,
          { schema: { hide: true } },
          async (request, reply) => {
            const place = need(request, 'outcomes.manage');
            const id = indicatorId(request.params.id);
            const body = request.body ?? {};
            const context = await detailContext(request, place, id, { values: body });
            const shown = await formOr(reply, 'outcomes/views/indicator.njk', context, order, () =>
              act(request, place, context.indicator, body),
            );
            return shown ?? reply.redirect(`/places/${place.slug}/indicators/${id}?added=${done}`, 303);
          },
        );

      /** Actual values, typed in one at a time or imported as CSV; none may predate the baseline. */
      const recordFrom =
        (
          how: 'entered' | 'imported',
          read: (body: Record<string, string>, baselineDate: string) => ActualValue[],
        ): IndicatorForm =>
        (request, place, indicator, body) =>
          inRequestPlace(request, place, (tx) =>
            recordActuals(
              tx,
              place.id,
              indicator.id,
              read(body, indicator.baseline.date),
              { personId: place.person.id },
              how,
            ),
          );
      onIndicatorPage(
        'actuals',
        ['period_end', 'value', 'note'],
        recordFrom('entered', (body, baselineDate) => [validateActual(body, baselineDate)]),
        'actual',
      );
      onIndicatorPage(
        'actuals/import',
        ['csv'],
        recordFrom('imported', (body, baselineDate) => parseActualsCsv(body.csv ?? '', baselineDate)),
        'import',
      );
      onIndicatorPage(
        'links',
        ['kind', 'ref_id', 'label'],
        (request, place, indicator, body) =>
          inRequestPlace(request, place, (tx) =>
            addLink(tx, place.id, indicator.id, validateLink(body), { personId: place.person.id }),
          ),
        'link',
      );
    }),
  );
}
