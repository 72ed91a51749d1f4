import type { FastifyInstance } from 'fastify';
import { startExport } from '../auth/public.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import { cohortLinkInput, forecastSection } from './cohort-pages.ts';
import { parseBusinessCase } from './domain.ts';
import { postInvestment } from './investment.ts';
import type { CbaPorts } from './ports.ts';
import { resultsCsv, resultsWorkbook } from './export.ts';
import { hasDeflator, LATEST_PRICE_YEAR } from '../reference/figures.ts';
import {
  approveInvestment,
  createBusinessCase,
  getAgreement,
  getBusinessCase,
  linkCohort,
  listCaseAgreements,
  proposeInvestment,
  listUnitCosts,
  recordLocalUnitCost,
  runBusinessCase,
  updateBusinessCase,
  withdrawLocalUnitCost,
} from './store.ts';
import { listCaseStandings } from './standing.ts';
import { validateLocalUnitCost } from './unit-costs.ts';
import { isIsoDate } from '../core/dates.ts';
import { closedObject, id, placeParams } from '../core/json-schema.ts';

const caseParams = placeParams('id');
const anyObject = { type: 'object', additionalProperties: true } as const;

function priceYearOf(query: { price_year?: number }): number {
  const year = query.price_year ?? LATEST_PRICE_YEAR;
  if (!hasDeflator(year))
    throw new Invalid('No GDP deflator for that price year', {
      price_year: `Choose a year up to ${LATEST_PRICE_YEAR}`,
    });
  return year;
}

/** The cost-benefit API: the place's unit cost database and its business cases with results. */
export const cbaRoutes = placeScoped('/api/v1/places/:slug', (app: FastifyInstance, ports: CbaPorts) => {
  app.get<{ Querystring: { price_year?: number } }>(
    '/cba/unit-costs',
    {
      schema: {
        tags: ['cba'],
        summary:
          'The unit cost database as the place sees it: its own costs, then national ones, in a price year',
        querystring: { type: 'object', properties: { price_year: { type: 'integer' } } },
      },
    },
    async (request) => {
      const place = need(request, 'cba.read');
      return inRequestPlace(request, place, (tx) => listUnitCosts(tx, place.id, priceYearOf(request.query)));
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/cba/unit-costs',
    {
      schema: { tags: ['cba'], summary: "Record the place's own unit cost (a new version)", body: anyObject },
    },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const input = validateLocalUnitCost(request.body);
      const saved = await inRequestPlace(request, place, (tx) =>
        recordLocalUnitCost(tx, place.id, place.person.id, input),
      );
      return reply.code(201).send(saved);
    },
  );

  app.post<{ Params: { code: string } }>(
    '/cba/unit-costs/:code/withdraw',
    {
      schema: {
        tags: ['cba'],
        summary: "Withdraw the place's own unit cost (a withdrawn version; the national one applies again)",
      },
    },
    async (request) => {
      const place = need(request, 'cba.edit');
      return inRequestPlace(request, place, (tx) =>
        withdrawLocalUnitCost(tx, place.id, place.person.id, request.params.code),
      );
    },
  );

  app.get(
    '/cba/business-cases',
    {
      schema: {
        tags: ['cba'],
        summary:
          'Business cases of the place: each approved or a draft, and computable or not (then `reason` says why)',
      },
    },
    async (request) => {
      const place = need(request, 'cba.read');
      return inRequestPlace(request, place, (tx) => listCaseStandings(tx, place.id));
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    '/cba/business-cases',
    {
      schema: {
        tags: ['cba'],
        summary: 'Create a business case (the JSON format of src/cba/README.md)',
        body: anyObject,
      },
    },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const model = parseBusinessCase(request.body);
      return reply
        .code(201)
        .send(
          await inRequestPlace(request, place, (tx) =>
            createBusinessCase(tx, place.id, place.person.id, model),
          ),
        );
    },
  );

  app.get<{ Params: { id: number } }>(
    '/cba/business-cases/:id',
    { schema: { tags: ['cba'], summary: 'A business case and its results', params: caseParams } },
    async (request) => {
      const place = need(request, 'cba.read');
      return inRequestPlace(request, place, (tx) => runBusinessCase(tx, place.id, request.params.id));
    },
  );

  app.put<{ Params: { id: number }; Body: { revision: number; model: unknown } }>(
    '/cba/business-cases/:id',
    {
      schema: {
        tags: ['cba'],
        summary: 'Save a new revision of a business case',
        params: caseParams,
        body: closedObject({ revision: { type: 'integer', minimum: 1 }, model: anyObject }),
      },
    },
    async (request) => {
      const place = need(request, 'cba.edit');
      const model = parseBusinessCase(request.body.model);
      return inRequestPlace(request, place, (tx) =>
        updateBusinessCase(tx, place.id, place.person.id, request.params.id, request.body.revision, model),
      );
    },
  );

  app.get<{ Params: { id: number } }>(
    '/cba/business-cases/:id/results.csv',
    { schema: { tags: ['cba'], summary: 'The results by year as CSV', params: caseParams } },
    async (request, reply) => {
      const place = need(request, 'cba.read');
      startExport(request, reply);
      const { results } = await inRequestPlace(request, place, (tx) =>
        runBusinessCase(tx, place.id, request.params.id),
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="business-case-${request.params.id}.csv"`)
        .send(resultsCsv(results));
    },
  );

  app.get<{ Params: { id: number } }>(
    '/cba/business-cases/:id/results.xlsx',
    {
      schema: {
        tags: ['cba'],
        summary: 'The business case and its results as a spreadsheet (xlsx), a sheet per section',
        params: caseParams,
      },
    },
    async (request, reply) => {
      const place = need(request, 'cba.read');
      startExport(request, reply);
      const run = await inRequestPlace(request, place, (tx) =>
        runBusinessCase(tx, place.id, request.params.id),
      );
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="business-case-${request.params.id}.xlsx"`)
        .send(await resultsWorkbook(run.case.model, run.results));
    },
  );

  // ---- Who invests, who benefits: the agreement from proposal to ledger (README, "Who invests").
  const agreementParams = placeParams('id', 'aid');

  app.get<{ Params: { id: number } }>(
    '/cba/business-cases/:id/agreements',
    {
      schema: { tags: ['cba'], summary: 'Investment agreements proposed from the case', params: caseParams },
    },
    async (request) => {
      const place = need(request, 'cba.read');
      return inRequestPlace(request, place, async (tx) => {
        await getBusinessCase(tx, place.id, request.params.id);
        return listCaseAgreements(tx, place.id, request.params.id);
      });
    },
  );

  app.post<{ Params: { id: number } }>(
    '/cba/business-cases/:id/agreements',
    {
      schema: {
        tags: ['cba'],
        summary: "Propose the agreement the case's current revision computes",
        params: caseParams,
      },
    },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const saved = await inRequestPlace(request, place, (tx) =>
        proposeInvestment(tx, place.id, place.person.id, request.params.id),
      );
      return reply.code(201).send(saved);
    },
  );

  app.post<{ Params: { id: number; aid: number }; Body: { decision_id: number } }>(
    '/cba/business-cases/:id/agreements/:aid/approve',
    {
      schema: {
        tags: ['cba'],
        summary: 'Approve the agreement by an agreed programme-board decision',
        params: agreementParams,
        body: closedObject({ decision_id: id }),
      },
    },
    async (request) => {
      const place = need(request, 'cba.edit');
      const { id, aid } = request.params;
      await inRequestPlace(request, place, (tx) =>
        approveInvestment(tx, place.id, place.person.id, id, aid, request.body.decision_id),
      );
      return inRequestPlace(request, place, (tx) => getAgreement(tx, place.id, id, aid));
    },
  );

  app.post<{
    Params: { id: number; aid: number };
    Body: { date: string; contribution_accounts: Record<string, string>; reinvestment_account?: string };
  }>(
    '/cba/business-cases/:id/agreements/:aid/post',
    {
      schema: {
        tags: ['cba'],
        summary: 'Post an approved agreement through the ledger (one transaction carrying the decision)',
        params: agreementParams,
        body: closedObject(
          {
            date: { type: 'string', maxLength: 10 },
            contribution_accounts: {
              type: 'object',
              maxProperties: 100,
              additionalProperties: { type: 'string', maxLength: 40 },
            },
            reinvestment_account: { type: 'string', maxLength: 40 },
          },
          ['date', 'contribution_accounts'],
        ),
      },
    },
    async (request) => {
      const place = need(request, 'ledger.post');
      const { id, aid } = request.params;
      const { date, contribution_accounts, reinvestment_account } = request.body;
      if (!isIsoDate(date))
        throw new Invalid('Enter a real date written YYYY-MM-DD', {
          date: 'Enter a real date written YYYY-MM-DD',
        });
      return inRequestPlace(request, place, (tx) =>
        postInvestment(
          tx,
          place.id,
          place.person.id,
          id,
          aid,
          {
            date,
            contributionAccounts: contribution_accounts,
            reinvestmentAccount: reinvestment_account ?? '',
          },
          ports.agreementPoster,
        ),
      );
    },
  );

  // ---- Forecast against realised (README, "Forecast against realised").
  app.put<{ Params: { id: number }; Body: { taken_on_from: string; taken_on_to: string } }>(
    '/cba/business-cases/:id/cohort',
    {
      schema: {
        tags: ['cba'],
        summary: 'Link the case to the families taken on between two dates',
        params: caseParams,
        body: closedObject({
          taken_on_from: { type: 'string', maxLength: 10 },
          taken_on_to: { type: 'string', maxLength: 10 },
        }),
      },
    },
    async (request) => {
      const place = need(request, 'cba.edit');
      const link = cohortLinkInput(request.body);
      await inRequestPlace(request, place, async (tx) => {
        await getBusinessCase(tx, place.id, request.params.id);
        await linkCohort(tx, place.id, place.person.id, request.params.id, link);
      });
      return link;
    },
  );

  app.get<{ Params: { id: number } }>(
    '/cba/business-cases/:id/forecast',
    {
      schema: {
        tags: ['cba'],
        summary: "The case's forecast against what its linked families' events show",
        params: caseParams,
      },
    },
    async (request) => {
      const place = need(request, 'cba.read');
      const run = await inRequestPlace(request, place, (tx) =>
        runBusinessCase(tx, place.id, request.params.id),
      );
      const forecast = await forecastSection(
        request,
        place,
        request.params.id,
        run.case.model,
        run.results,
        ports.realisedOutcomes,
      );
      if (!forecast) throw new NotFound('No families are linked to this business case');
      return forecast;
    },
  );
});
