/**
 * The cost-benefit pages: business cases (list, a task-list editor, results with charts) and the
 * unit cost database. Forms post back to the page and call the same store functions as the API;
 * every save is a new revision, guarded by the revision the form was opened at.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { parsePounds } from '../core/money.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { benefitsByAgencyChart, paybackChart } from './charts.ts';
import { runModel, SENSITIVITY_CHANGES, type BusinessCase, type ModelResults } from './domain.ts';
import {
  addCost,
  applySettings,
  BENEFIT_ORDER,
  benefitValues,
  COST_ORDER,
  costRows,
  INLINE_UNIT_COST,
  newBenefitValues,
  newCaseValues,
  removeLine,
  saveBenefit,
  SETTINGS_ORDER,
  settingsValues,
  type Body,
} from './forms.ts';
import {
  DEFLATOR_SOURCE,
  DEFLATORS,
  EVENT_CODES,
  LATEST_PRICE_YEAR,
  OPTIMISM_BIAS_GRADES,
  OPTIMISM_BIAS_SOURCE,
  VALUE_TYPES,
} from '../reference/figures.ts';
import {
  caseOnUnitCosts,
  createBusinessCase,
  getBusinessCase,
  listCaseAgreements,
  listUnitCosts,
  recordLocalUnitCost,
  updateBusinessCase,
  type BusinessCaseRow,
  type EffectiveUnitCost,
} from './store.ts';
import { listCaseStandings } from './standing.ts';
import { validateLocalUnitCost } from './unit-costs.ts';
import { agreementPages } from './agreement-pages.ts';
import type { CbaPorts } from './ports.ts';
import { cohortPages, forecastSection } from './cohort-pages.ts';

import { caseId, casesUrl, caseUrl, type CaseParams } from './web.ts';
import { financialYearLabel } from '../core/dates.ts';

type LineParams = { Params: { slug: string; id: string; n: string }; Body: Body };

function lineNumber(raw: string, count: number): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > count)
    throw new NotFound('No such line in this business case');
  return n;
}

const loadCase = (request: FastifyRequest, place: PlaceContext, id: number) =>
  inRequestPlace(request, place, (tx) => getBusinessCase(tx, place.id, id));

/** Saves an edited case at the revision the form was opened at; a clash shows on the form. */
async function saveCase(
  request: FastifyRequest,
  place: PlaceContext,
  id: number,
  body: Body,
  model: BusinessCase,
) {
  try {
    await inRequestPlace(request, place, (tx) =>
      updateBusinessCase(tx, place.id, place.person.id, id, Number(body.revision), model),
    );
  } catch (err) {
    if (err instanceof Conflict) throw new Invalid(err.message, { revision: err.message });
    throw err;
  }
}

type ChangeRequest = FastifyRequest<{ Params: { slug: string; id: string; n?: string }; Body: Body }>;

/** One change to a business case's section, posted from its page. */
interface CaseChange {
  template: string;
  /** The form's fields in page order, after the revision every form carries. */
  order: string[];
  /** What the page shows again when the change is refused. */
  context(
    request: ChangeRequest,
    place: PlaceContext,
    row: BusinessCaseRow,
    body: Body,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The case as changed; throws Invalid to show the form again with its errors. */
  change(request: ChangeRequest, row: BusinessCaseRow, body: Body): BusinessCase;
  /** Where to go once saved, after the case's own address: "/costs". */
  next: string;
}

/**
 * Every section's POST works alike: analysts only, the case as it is now, the change saved as a new
 * revision (refused if someone saved first), or the page again with the error summary.
 */
function postCaseChange(scoped: FastifyInstance, path: string, spec: CaseChange) {
  scoped.post<{ Params: { slug: string; id: string; n?: string }; Body: Body }>(
    path,
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const row = await loadCase(request, place, caseId(request.params.id));
      const body = request.body ?? {};
      const shown = await formOr(
        reply,
        spec.template,
        await spec.context(request, place, row, body),
        ['revision', ...spec.order],
        () => saveCase(request, place, row.id, body, spec.change(request, row, body)),
      );
      return shown ?? reply.redirect(`${caseUrl(place, row.id)}${spec.next}`, 303);
    },
  );
}

const priceYearItems = (selected: string | undefined) =>
  [...DEFLATORS.keys()]
    .sort((a, b) => b - a)
    .map((y) => ({
      value: String(y),
      text: financialYearLabel(y),
      selected: String(y) === selected,
    }));

/** What the case's sections hold, for the task list's statuses. */
function taskList(place: PlaceContext, row: BusinessCaseRow, canEdit: boolean) {
  const base = caseUrl(place, row.id);
  const status = (done: boolean, hint: string) =>
    done ? { text: hint } : { tag: { text: 'Not started', classes: 'govuk-tag--blue' } };
  const m = row.model;
  return [
    {
      title: 'Intervention, price base and discount rate',
      href: `${base}/settings`,
      status: status(
        true,
        `${financialYearLabel(m.priceYear)} prices, ${m.years} years, ${Math.round(m.discountRate * 1e4) / 100}%`,
      ),
    },
    {
      title: 'Costs by year and paying partner',
      href: `${base}/costs`,
      status: status(m.costs.length > 0, `${m.costs.length} cost line${m.costs.length === 1 ? '' : 's'}`),
    },
    {
      title: 'Benefit lines',
      href: `${base}/benefits`,
      status: status(
        m.benefits.length > 0,
        `${m.benefits.length} benefit line${m.benefits.length === 1 ? '' : 's'}`,
      ),
    },
  ].map((t) => ({ title: { text: t.title }, ...(canEdit ? { href: t.href } : {}), status: t.status }));
}

function unitCostItems(
  costs: EffectiveUnitCost[],
  line: BusinessCase['benefits'][number] | undefined,
  selected: string | undefined,
) {
  const inline = line && typeof line.unitCost !== 'string' ? line.unitCost : null;
  return [
    { value: '', text: 'Choose a unit cost' },
    ...(inline
      ? [
          {
            value: INLINE_UNIT_COST,
            text: `The figure written in this case (${inline.agency}, ${inline.priceYear} prices)`,
            selected: selected === INLINE_UNIT_COST,
          },
        ]
      : []),
    ...costs.map((c) => ({
      value: c.code,
      text: `${c.outcome} (${c.unit}) – ${c.agency}, ${c.value_type}${c.origin === 'local' ? ', local figure' : ''}`,
      selected: c.code === selected,
    })),
  ];
}

async function benefitContext(
  request: FastifyRequest,
  place: PlaceContext,
  row: BusinessCaseRow,
  n: number,
  values: Body,
) {
  const costs = await inRequestPlace(request, place, (tx) =>
    listUnitCosts(tx, place.id, row.model.priceYear),
  );
  const isNew = n > row.model.benefits.length;
  return {
    title: isNew ? 'Add a benefit line' : `Benefit line ${n}`,
    place,
    row,
    n,
    isNew,
    values: { revision: String(row.revision), ...values },
    unitCostItems: unitCostItems(costs, row.model.benefits[n - 1], values.unit_cost),
    grades: OPTIMISM_BIAS_GRADES.map((g) => ({
      value: String(g.grade),
      text: `Grade ${g.grade}: ${Math.round(g.correction * 100)}% optimism bias`,
      hint: { text: g.evidence },
      checked: String(g.grade) === values.confidence_grade,
    })),
    optimismBiasSource: OPTIMISM_BIAS_SOURCE,
  };
}

/** The results' sensitivity rows as one table: each input at −20%, −10%, +10%, +20%. */
function sensitivityTable(r: ModelResults) {
  const labels: Record<string, string> = {
    cohort: 'Cohort size',
    engagement: 'Engagement rate',
    success: 'Success rate',
    deadweight: 'Deadweight',
    optimismBias: 'Optimism bias',
    unitCost: 'Unit costs',
    costs: 'Intervention costs',
  };
  return Object.entries(labels).map(([input, label]) => ({
    label,
    cells: SENSITIVITY_CHANGES.map((change) =>
      r.sensitivity.find((s) => s.input === input && s.change === change)!,
    ),
  }));
}

export async function cbaPages(app: FastifyInstance, ports: CbaPorts) {
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      scoped.get('/cba', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'cba.read');
        const cases = await inRequestPlace(request, place, (tx) => listCaseStandings(tx, place.id));
        return reply.page('cba/views/cases.njk', {
          title: `Business cases – ${place.name}`,
          place,
          cases,
          canEdit: allows(place.roles, 'cba.edit'),
        });
      });

      // ---- A new case starts from its settings; the task list takes it from there.
      const newCaseContext = (place: PlaceContext, values: Body) => ({
        title: 'Start a business case',
        place,
        values,
        action: `${casesUrl(place)}/business-cases`,
        priceYearItems: priceYearItems(values.price_year),
      });

      scoped.get('/cba/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'cba.edit');
        return reply.page(
          'cba/views/settings.njk',
          newCaseContext(place, newCaseValues(LATEST_PRICE_YEAR, new Date().getFullYear())),
        );
      });

      scoped.post<{ Body: Body }>(
        '/cba/business-cases',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.edit');
          const body = request.body ?? {};
          let id = 0;
          const shown = await formOr(
            reply,
            'cba/views/settings.njk',
            newCaseContext(place, body),
            SETTINGS_ORDER,
            async () => {
              const model = applySettings(null, body);
              id = (
                await inRequestPlace(request, place, (tx) =>
                  createBusinessCase(tx, place.id, place.person.id, model),
                )
              ).id;
            },
          );
          return shown ?? reply.redirect(caseUrl(place, id), 303);
        },
      );

      scoped.get<CaseParams>(
        '/cba/business-cases/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.read');
          const id = caseId(request.params.id);
          const { row, problems } = await inRequestPlace(request, place, (tx) =>
            caseOnUnitCosts(tx, place.id, id),
          );
          const canEdit = allows(place.roles, 'cba.edit');
          return reply.page('cba/views/case.njk', {
            title: row.title,
            place,
            row,
            problems,
            canEdit,
            tasks: taskList(place, row, canEdit),
          });
        },
      );

      // ---- Settings
      const settingsContext = (place: PlaceContext, row: BusinessCaseRow, values: Body) => ({
        title: `Settings – ${row.title}`,
        place,
        row,
        values: { revision: String(row.revision), ...values },
        action: `${caseUrl(place, row.id)}/settings`,
        priceYearItems: priceYearItems(values.price_year),
      });

      scoped.get<CaseParams>(
        '/cba/business-cases/:id/settings',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.edit');
          const row = await loadCase(request, place, caseId(request.params.id));
          return reply.page('cba/views/settings.njk', settingsContext(place, row, settingsValues(row.model)));
        },
      );

      postCaseChange(scoped, '/cba/business-cases/:id/settings', {
        template: 'cba/views/settings.njk',
        order: SETTINGS_ORDER,
        context: (_request, place, row, body) => settingsContext(place, row, body),
        change: (_request, row, body) => applySettings(row.model, body),
        next: '',
      });

      // ---- Costs
      const costsContext = (place: PlaceContext, row: BusinessCaseRow, values: Body) => ({
        title: `Costs – ${row.title}`,
        place,
        row,
        costs: costRows(row.model.costs),
        values: { revision: String(row.revision), ...values },
      });

      scoped.get<CaseParams>(
        '/cba/business-cases/:id/costs',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.edit');
          const row = await loadCase(request, place, caseId(request.params.id));
          return reply.page('cba/views/costs.njk', costsContext(place, row, {}));
        },
      );

      postCaseChange(scoped, '/cba/business-cases/:id/costs', {
        template: 'cba/views/costs.njk',
        order: COST_ORDER,
        context: (_request, place, row, body) => costsContext(place, row, body),
        change: (_request, row, body) => addCost(row.model, body),
        next: '/costs',
      });

      postCaseChange(scoped, '/cba/business-cases/:id/costs/:n/remove', {
        template: 'cba/views/costs.njk',
        order: [],
        context: (_request, place, row) => costsContext(place, row, {}),
        change: (request, row) =>
          removeLine(row.model, 'costs', lineNumber(request.params.n!, row.model.costs.length)),
        next: '/costs',
      });

      // ---- Benefit lines
      scoped.get<CaseParams>(
        '/cba/business-cases/:id/benefits',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.edit');
          const row = await loadCase(request, place, caseId(request.params.id));
          return reply.page('cba/views/benefits.njk', {
            title: `Benefit lines – ${row.title}`,
            place,
            row,
            values: { revision: String(row.revision) },
          });
        },
      );

      scoped.get<LineParams>(
        '/cba/business-cases/:id/benefits/:n',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.edit');
          const row = await loadCase(request, place, caseId(request.params.id));
          const n = lineNumber(request.params.n, row.model.benefits.length + 1);
          const line = row.model.benefits[n - 1];
          return reply.page(
            'cba/views/benefit.njk',
            await benefitContext(request, place, row, n, line ? benefitValues(line) : newBenefitValues()),
          );
        },
      );

      postCaseChange(scoped, '/cba/business-cases/:id/benefits/:n', {
        template: 'cba/views/benefit.njk',
        order: BENEFIT_ORDER,
        context: (request, place, row, body) =>
          benefitContext(
            request,
            place,
            row,
            lineNumber(request.params.n!, row.model.benefits.length + 1),
            body,
          ),
        change: (request, row, body) =>
          saveBenefit(row.model, lineNumber(request.params.n!, row.model.benefits.length + 1) - 1, body),
        next: '/benefits',
      });

      postCaseChange(scoped, '/cba/business-cases/:id/benefits/:n/remove', {
        template: 'cba/views/benefits.njk',
        order: [],
        context: (_request, place, row) => ({
          title: `Benefit lines – ${row.title}`,
          place,
          row,
          values: { revision: String(row.revision) },
        }),
        change: (request, row) =>
          removeLine(row.model, 'benefits', lineNumber(request.params.n!, row.model.benefits.length)),
        next: '/benefits',
      });

      // ---- Results
      scoped.get<CaseParams>(
        '/cba/business-cases/:id/results',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'cba.read');
          const id = caseId(request.params.id);
          const { row, lookup, problems, agreements } = await inRequestPlace(request, place, async (tx) => ({
            ...(await caseOnUnitCosts(tx, place.id, id)),
            agreements: await listCaseAgreements(tx, place.id, id),
          }));
          const results = problems.length ? null : runModel(row.model, lookup);
          return reply.page('cba/views/results.njk', {
            title: `Results – ${row.title}`,
            place,
            row,
            results,
            problems: problems.map((text) => ({ text })),
            charts: results && { agencies: benefitsByAgencyChart(results), payback: paybackChart(results) },
            sensitivity: results && sensitivityTable(results),
            changes: SENSITIVITY_CHANGES,
            agreements,
            forecast:
              results &&
              (await forecastSection(request, place, id, row.model, results, ports.realisedOutcomes)),
            canEdit: allows(place.roles, 'cba.edit'),
          });
        },
      );

      agreementPages(scoped, ports);
      cohortPages(scoped);

      // ---- The unit cost database
      const unitCostsContext = async (request: FastifyRequest, place: PlaceContext, values: Body) => {
        const query = request.query as { q?: string; price_year?: string };
        const asked = Number(query.price_year);
        const priceYear = DEFLATORS.has(asked) ? asked : LATEST_PRICE_YEAR;
        const q = (query.q ?? '').trim().toLowerCase().slice(0, 100);
        const all = await inRequestPlace(request, place, (tx) => listUnitCosts(tx, place.id, priceYear));
        const matches = (c: EffectiveUnitCost) =>
          [c.code, c.outcome, c.agency, c.source, c.value_type].some((s) => s.toLowerCase().includes(q));
        return {
          title: `Unit cost database – ${place.name}`,
          place,
          q,
          priceYear,
          priceYearItems: priceYearItems(String(priceYear)),
          costs: q ? all.filter(matches) : all,
          total: all.length,
          // Events families record that nothing here costs yet: the place must add its own figure.
          uncosted: EVENT_CODES.filter((e) => !all.some((c) => c.code === e.code)),
          canEdit: allows(place.roles, 'cba.edit'),
          values: { price_year: String(LATEST_PRICE_YEAR), ...values },
          valueTypes: VALUE_TYPES,
          deflatorSource: DEFLATOR_SOURCE,
          optimismBiasSource: OPTIMISM_BIAS_SOURCE,
          grades: OPTIMISM_BIAS_GRADES,
        };
      };

      scoped.get('/cba/unit-costs', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'cba.read');
        return reply.page('cba/views/unit-costs.njk', await unitCostsContext(request, place, {}));
      });

      scoped.post<{ Body: Body }>('/cba/unit-costs', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'cba.edit');
        const body = request.body ?? {};
        const order = [
          'code',
          'outcome',
          'unit',
          'cost',
          'price_year',
          'value_type',
          'agency',
          'cashable',
          'source',
          'confidence',
        ];
        const shown = await formOr(
          reply,
          'cba/views/unit-costs.njk',
          await unitCostsContext(request, place, body),
          order,
          async () => {
            const input = localUnitCostFromForm(body);
            await inRequestPlace(request, place, (tx) =>
              recordLocalUnitCost(tx, place.id, place.person.id, input),
            );
          },
        );
        return (
          shown ??
          reply.redirect(
            `${casesUrl(place)}/unit-costs?q=${encodeURIComponent((body.code ?? '').trim())}`,
            303,
          )
        );
      });
    }),
  );
}

/** The local cost form in pounds and yes/no, checked by the same rules as the API. */
function localUnitCostFromForm(body: Body) {
  const fields: FieldErrors = {};
  let cost_pence: number | undefined;
  try {
    cost_pence = parsePounds((body.cost ?? '').trim(), 'cost');
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    Object.assign(fields, err.fields);
  }
  const cashable = body.cashable === 'yes' ? true : body.cashable === 'no' ? false : undefined;
  try {
    return validateLocalUnitCost({ ...body, cost_pence, price_year: Number(body.price_year), cashable });
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    const { cost_pence: costProblem, ...rest } = err.fields ?? {};
    throw new Invalid(err.message, {
      ...rest,
      ...(costProblem && !fields.cost ? { cost: 'Enter the cost in pounds and pence, 0 or more' } : {}),
      ...fields,
    });
  }
}
