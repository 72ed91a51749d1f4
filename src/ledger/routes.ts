import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Forbidden, Invalid } from '../core/errors.ts';
import { allows } from '../auth/domain.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  ACCOUNT_KINDS,
  balancedBatch,
  BUDGET_MODES,
  CONTRIBUTION_FORMS,
  validateNewAccount,
  validateNewAgreement,
} from './domain.ts';
import { budgetReport, partnerStatement } from './reports.ts';
import { createAccount, listAccounts } from './accounts.ts';
import { journalPage } from './journal.ts';
import { listBalances, postTransactions, reverseTransaction } from './postings.ts';
import { listCommitments, raiseCommitment, releaseCommitment, spendCommitment } from './commitments.ts';
import { addAgreement, listAgreements, listBudgets, setBudgetMode } from './agreements.ts';
import { closePeriod, listPeriods, reopenPeriod } from './periods.ts';
import { financialYearOf, isIsoDate, todayIso } from '../core/dates.ts';
import {
  id,
  isoDate as date,
  pageQuery,
  penceAmount,
  placeParams,
  placeParamsOf,
  slugParam,
} from '../core/json-schema.ts';

const pence = penceAmount();
const key = { type: 'string', minLength: 1, maxLength: 200 } as const;
const year = { type: 'integer', minimum: 2000, maximum: 2100 } as const;
const withId = placeParams('id');
const withYear = placeParamsOf({ year });
const yearQuery = { type: 'object', properties: { year } } as const;
const posting = {
  type: 'object',
  properties: { account: { type: 'string' }, amount_pence: { type: 'integer' } },
  required: ['account', 'amount_pence'],
} as const;
const transaction = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    date: { type: 'string' },
    memo: { type: 'string' },
    decision_id: { type: ['integer', 'null'] },
    postings: { type: 'array', items: posting, maxItems: 100 },
  },
  required: ['key', 'date', 'postings'],
  additionalProperties: false,
} as const;
const commitment = {
  type: 'object',
  properties: {
    id,
    source: { type: 'string' },
    commitment_account: { type: 'string' },
    description: { type: 'string' },
    amount_pence: { type: 'integer' },
    spent_pence: { type: 'integer' },
    released_pence: { type: 'integer' },
    outstanding_pence: { type: 'integer' },
    raised_on: { type: 'string' },
    decision_id: { type: ['integer', 'null'] },
  },
} as const;

function checkDate(value: string, field: string) {
  if (!isIsoDate(value))
    throw new Invalid('Enter a real date', { [field]: 'Enter a real date written YYYY-MM-DD' });
}

/** The financial year asked for, or the one today falls in. */
function yearOf(request: FastifyRequest): number {
  return (request.query as { year?: number }).year ?? financialYearOf(todayIso());
}

/** Staff who read the ledger see every statement; a partner rep only their own partner's. */
export function assertMayReadStatement(place: PlaceContext, partnerId: number) {
  if (allows(place.roles, 'ledger.read') || place.partnerIds.includes(partnerId)) return;
  throw new Forbidden('You can only read the statement of the partner you represent');
}

export async function ledgerRoutes(app: FastifyInstance) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      const actor = (place: PlaceContext) => ({ personId: place.person.id });

      scoped.get(
        '/ledger/accounts',
        { schema: { tags: ['ledger'], summary: 'The chart of accounts', params: slugParam } },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) => listAccounts(tx, place.id));
        },
      );

      scoped.post<{ Body: Record<string, unknown> }>(
        '/ledger/accounts',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Open an account (finance)',
            params: slugParam,
            body: {
              type: 'object',
              properties: {
                code: { type: 'string', maxLength: 40 },
                name: { type: 'string', maxLength: 200 },
                kind: { type: 'string', enum: ACCOUNT_KINDS },
                partner_id: { ...id, type: ['integer', 'null'] },
                service: { type: ['string', 'null'], maxLength: 200 },
              },
              required: ['code', 'name', 'kind'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          const input = validateNewAccount(request.body);
          return reply
            .code(201)
            .send(
              await inRequestPlace(request, place, (tx) => createAccount(tx, place.id, input, actor(place))),
            );
        },
      );

      scoped.get<{ Querystring: { as_of?: string } }>(
        '/ledger/balances',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Every account’s balance, today (maintained) or at the end of a day',
            params: slugParam,
            querystring: { type: 'object', properties: { as_of: date } },
            response: {
              200: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { account: { type: 'string' }, balance_pence: { type: 'integer' } },
                },
              },
            },
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          if (request.query.as_of) checkDate(request.query.as_of, 'as_of');
          return inRequestPlace(request, place, (tx) => listBalances(tx, place.id, request.query.as_of));
        },
      );

      scoped.get<{ Querystring: { page?: number } }>(
        '/ledger/transactions',
        {
          schema: {
            tags: ['ledger'],
            summary: 'The journal, newest first, 50 a page',
            params: slugParam,
            querystring: pageQuery(100000),
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) =>
            journalPage(tx, place.id, {
              limit: 50,
              offset: ((request.query.page ?? 1) - 1) * 50,
              newestFirst: true,
            }),
          );
        },
      );

      scoped.post<{ Body: { transactions: unknown[] } }>(
        '/ledger/transactions',
        {
          schema: {
            tags: ['ledger'],
            summary:
              'Post balanced transactions, all or none; a key posted before answers with the first result (finance)',
            params: slugParam,
            body: {
              type: 'object',
              properties: {
                transactions: { type: 'array', items: transaction, minItems: 1, maxItems: 10000 },
              },
              required: ['transactions'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          const batch = balancedBatch(request.body.transactions);
          const results = await inRequestPlace(request, place, (tx) =>
            postTransactions(tx, place.id, batch, { actor: actor(place) }),
          );
          return reply.code(results.some((r) => r.status === 'posted') ? 201 : 200).send(results);
        },
      );

      scoped.post<{
        Params: { slug: string; id: number };
        Body: { key: string; date: string; memo?: string };
      }>(
        '/ledger/transactions/:id/reversal',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Reverse a transaction: the correction, never an edit (finance)',
            params: withId,
            body: {
              type: 'object',
              properties: { key, date, memo: { type: 'string', maxLength: 500 } },
              required: ['key', 'date'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          checkDate(request.body.date, 'date');
          return reply
            .code(201)
            .send(
              await inRequestPlace(request, place, (tx) =>
                reverseTransaction(tx, place.id, request.params.id, request.body, actor(place)),
              ),
            );
        },
      );

      scoped.get(
        '/ledger/commitments',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Commitments, newest first',
            params: slugParam,
            response: { 200: { type: 'array', items: commitment } },
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) => listCommitments(tx, place.id));
        },
      );

      scoped.post<{
        Body: {
          key: string;
          date: string;
          source: string;
          commitment_account: string;
          amount_pence: number;
          description: string;
          decision_id?: number;
        };
      }>(
        '/ledger/commitments',
        {
          schema: {
            tags: ['ledger'],
            summary:
              'Raise a commitment against a pot or allocation; refused (409) if more than is available (finance)',
            params: slugParam,
            body: {
              type: 'object',
              properties: {
                key,
                date,
                source: { type: 'string' },
                commitment_account: { type: 'string' },
                amount_pence: pence,
                description: { type: 'string', minLength: 1, maxLength: 500 },
                decision_id: id,
              },
              required: ['key', 'date', 'source', 'commitment_account', 'amount_pence', 'description'],
              additionalProperties: false,
            },
            response: { 201: commitment },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          checkDate(request.body.date, 'date');
          return reply
            .code(201)
            .send(
              await inRequestPlace(request, place, (tx) =>
                raiseCommitment(tx, place.id, request.body, actor(place)),
              ),
            );
        },
      );

      scoped.post<{
        Params: { slug: string; id: number };
        Body: { key: string; date: string; spend_account: string; amount_pence: number; memo?: string };
      }>(
        '/ledger/commitments/:id/spend',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Spend part or all of a commitment (finance)',
            params: withId,
            body: {
              type: 'object',
              properties: {
                key,
                date,
                spend_account: { type: 'string' },
                amount_pence: pence,
                memo: { type: 'string', maxLength: 500 },
              },
              required: ['key', 'date', 'spend_account', 'amount_pence'],
              additionalProperties: false,
            },
            response: { 200: commitment },
          },
        },
        async (request) => {
          const place = need(request, 'ledger.post');
          checkDate(request.body.date, 'date');
          return inRequestPlace(request, place, (tx) =>
            spendCommitment(
              tx,
              place.id,
              request.params.id,
              { ...request.body, memo: request.body.memo ?? '' },
              actor(place),
            ),
          );
        },
      );

      scoped.post<{
        Params: { slug: string; id: number };
        Body: { key: string; date: string; amount_pence?: number; memo?: string };
      }>(
        '/ledger/commitments/:id/release',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Release what is left of a commitment, or part of it (finance)',
            params: withId,
            body: {
              type: 'object',
              properties: { key, date, amount_pence: pence, memo: { type: 'string', maxLength: 500 } },
              required: ['key', 'date'],
              additionalProperties: false,
            },
            response: { 200: commitment },
          },
        },
        async (request) => {
          const place = need(request, 'ledger.post');
          checkDate(request.body.date, 'date');
          return inRequestPlace(request, place, (tx) =>
            releaseCommitment(tx, place.id, request.params.id, request.body, actor(place)),
          );
        },
      );

      scoped.get(
        '/ledger/budgets',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Pooled budgets by year with their shadow/pooled history',
            params: slugParam,
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) => listBudgets(tx, place.id));
        },
      );

      scoped.post<{
        Body: {
          financial_year: number;
          mode: 'shadow' | 'pooled';
          effective_from: string;
          decision_id?: number;
          host_partner_id?: number;
        };
      }>(
        '/ledger/budgets',
        {
          schema: {
            tags: ['ledger'],
            summary:
              'Start a year’s pooled budget or switch it between shadow and pooled from a date (finance)',
            params: slugParam,
            body: {
              type: 'object',
              properties: {
                financial_year: year,
                mode: { type: 'string', enum: BUDGET_MODES },
                effective_from: date,
                decision_id: id,
                host_partner_id: id,
              },
              required: ['financial_year', 'mode', 'effective_from'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          checkDate(request.body.effective_from, 'effective_from');
          await inRequestPlace(request, place, (tx) =>
            setBudgetMode(
              tx,
              place.id,
              { ...request.body, decision_id: request.body.decision_id ?? null },
              actor(place),
            ),
          );
          return reply
            .code(201)
            .send(await inRequestPlace(request, place, (tx) => listBudgets(tx, place.id)));
        },
      );

      scoped.get(
        '/ledger/agreements',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Partner contribution agreements',
            params: slugParam,
            querystring: yearQuery,
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) =>
            listAgreements(tx, place.id, (request.query as { year?: number }).year),
          );
        },
      );

      scoped.post<{ Body: Record<string, unknown> }>(
        '/ledger/agreements',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Record a contribution agreement signed off by a board decision (finance)',
            params: slugParam,
            body: {
              type: 'object',
              properties: {
                financial_year: year,
                partner_id: id,
                funding_stream: { type: 'string', maxLength: 200 },
                amount_pence: pence,
                form: { type: 'string', enum: CONTRIBUTION_FORMS },
                ring_fence: { type: ['string', 'null'], maxLength: 500 },
                host_partner_id: { ...id, type: ['integer', 'null'] },
                overspend_share_bp: { type: 'integer', minimum: 0, maximum: 10000 },
                underspend_share_bp: { type: 'integer', minimum: 0, maximum: 10000 },
                exit_terms: { type: 'string', maxLength: 5000 },
                decision_id: id,
                contribution_account: { type: 'string', maxLength: 40 },
              },
              required: [
                'financial_year',
                'partner_id',
                'funding_stream',
                'amount_pence',
                'form',
                'overspend_share_bp',
                'underspend_share_bp',
                'decision_id',
                'contribution_account',
              ],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'ledger.post');
          const input = validateNewAgreement(request.body);
          return reply
            .code(201)
            .send(
              await inRequestPlace(request, place, (tx) => addAgreement(tx, place.id, input, actor(place))),
            );
        },
      );

      scoped.get(
        '/ledger/periods',
        { schema: { tags: ['ledger'], summary: 'Financial years closed and re-opened', params: slugParam } },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) => listPeriods(tx, place.id));
        },
      );

      scoped.post<{ Params: { slug: string; year: number } }>(
        '/ledger/periods/:year/close',
        {
          schema: {
            tags: ['ledger'],
            summary:
              'Close a financial year, posting the risk share of each allocation’s over- or underspend (finance)',
            params: withYear,
          },
        },
        async (request) => {
          const place = need(request, 'ledger.post');
          return inRequestPlace(request, place, (tx) =>
            closePeriod(tx, place.id, request.params.year, actor(place)),
          );
        },
      );

      scoped.post<{ Params: { slug: string; year: number }; Body: { decision_id: number } }>(
        '/ledger/periods/:year/reopen',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Re-open a closed year by an agreed board decision (finance)',
            params: withYear,
            body: {
              type: 'object',
              properties: { decision_id: id },
              required: ['decision_id'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const place = need(request, 'ledger.post');
          await inRequestPlace(request, place, (tx) =>
            reopenPeriod(tx, place.id, request.params.year, request.body.decision_id, actor(place)),
          );
          return inRequestPlace(request, place, (tx) => listPeriods(tx, place.id));
        },
      );

      scoped.get(
        '/ledger/report',
        {
          schema: {
            tags: ['ledger'],
            summary: 'Budget vs actual vs forecast by service and by partner',
            params: slugParam,
            querystring: yearQuery,
          },
        },
        async (request) => {
          const place = need(request, 'ledger.read');
          return inRequestPlace(request, place, (tx) => budgetReport(tx, place.id, yearOf(request)));
        },
      );

      scoped.get<{ Params: { slug: string; id: number } }>(
        '/ledger/partners/:id/statement',
        {
          schema: {
            tags: ['ledger'],
            summary: 'A partner’s statement: what it put in, what was spent on what, its risk share',
            params: withId,
            querystring: yearQuery,
          },
        },
        async (request) => {
          const place = need(request, 'ledger.statement');
          assertMayReadStatement(place, request.params.id);
          return inRequestPlace(request, place, (tx) =>
            partnerStatement(tx, place.id, request.params.id, yearOf(request)),
          );
        },
      );
    }),
  );
}
