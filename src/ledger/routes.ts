/** The ledger API, registered by concern: accounts, transactions, commitments, budgets, periods, reports. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tx } from '../core/db.ts';
import { Forbidden, Invalid } from '../core/errors.ts';
import { allows, type Permission } from '../auth/domain.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  ACCOUNT_KINDS,
  balancedBatch,
  BUDGET_MODES,
  CONTRIBUTION_FORMS,
  validateNewAccount,
  validateNewAgreement,
  type Actor,
} from './domain.ts';
import { budgetReport, partnerStatement } from './reports.ts';
import { createAccount, listAccounts } from './accounts.ts';
import { listBalances, postTransactions, reverseTransaction } from './postings.ts';
import { listCommitments, raiseCommitment, releaseCommitment, spendCommitment } from './commitments.ts';
import { journalPage } from './journal.ts';
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

/** A request body: these properties, those of them required, and nothing else. */
const body = (properties: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const tags = ['ledger'];

/**
 * The ledger of the request's place, once the person is checked for `permission` there: `work`
 * runs behind the place's row-level security, with the signed-in person as the actor.
 */
function ledgerOf(request: FastifyRequest, permission: Permission) {
  const place = need(request, permission);
  return <T>(work: (tx: Tx, placeId: number, actor: Actor) => Promise<T>) =>
    inRequestPlace(request, place, (tx) => work(tx, place.id, { personId: place.person.id }));
}

/** The chart of accounts and the balances. */
function registerAccountRoutes(s: FastifyInstance) {
  s.get(
    '/ledger/accounts',
    { schema: { tags, summary: 'The chart of accounts', params: slugParam } },
    async (request) => ledgerOf(request, 'ledger.read')((tx, placeId) => listAccounts(tx, placeId)),
  );

  s.post<{ Body: Record<string, unknown> }>(
    '/ledger/accounts',
    {
      schema: {
        tags,
        summary: 'Open an account (finance)',
        params: slugParam,
        body: body(
          {
            code: { type: 'string', maxLength: 40 },
            name: { type: 'string', maxLength: 200 },
            kind: { type: 'string', enum: ACCOUNT_KINDS },
            partner_id: { ...id, type: ['integer', 'null'] },
            service: { type: ['string', 'null'], maxLength: 200 },
          },
          ['code', 'name', 'kind'],
        ),
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      const input = validateNewAccount(request.body);
      return reply
        .code(201)
        .send(await ledger((tx, placeId, actor) => createAccount(tx, placeId, input, actor)));
    },
  );

  s.get<{ Querystring: { as_of?: string } }>(
    '/ledger/balances',
    {
      schema: {
        tags,
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
      const ledger = ledgerOf(request, 'ledger.read');
      if (request.query.as_of) checkDate(request.query.as_of, 'as_of');
      return ledger((tx, placeId) => listBalances(tx, placeId, request.query.as_of));
    },
  );
}

/** The journal, posting balanced transactions, and reversing one. */
function registerTransactionRoutes(s: FastifyInstance) {
  s.get<{ Querystring: { page?: number } }>(
    '/ledger/transactions',
    {
      schema: {
        tags,
        summary: 'The journal, newest first, 50 a page',
        params: slugParam,
        querystring: pageQuery(100000),
      },
    },
    async (request) =>
      ledgerOf(
        request,
        'ledger.read',
      )((tx, placeId) =>
        journalPage(tx, placeId, {
          limit: 50,
          offset: ((request.query.page ?? 1) - 1) * 50,
          newestFirst: true,
        }),
      ),
  );

  s.post<{ Body: { transactions: unknown[] } }>(
    '/ledger/transactions',
    {
      schema: {
        tags,
        summary:
          'Post balanced transactions, all or none; a key posted before answers with the first result (finance)',
        params: slugParam,
        body: body({ transactions: { type: 'array', items: transaction, minItems: 1, maxItems: 10000 } }, [
          'transactions',
        ]),
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      const batch = balancedBatch(request.body.transactions);
      const results = await ledger((tx, placeId, actor) => postTransactions(tx, placeId, batch, { actor }));
      return reply.code(results.some((r) => r.status === 'posted') ? 201 : 200).send(results);
    },
  );

  s.post<{ Params: { slug: string; id: number }; Body: { key: string; date: string; memo?: string } }>(
    '/ledger/transactions/:id/reversal',
    {
      schema: {
        tags,
        summary: 'Reverse a transaction: the correction, never an edit (finance)',
        params: withId,
        body: body({ key, date, memo: { type: 'string', maxLength: 500 } }, ['key', 'date']),
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      checkDate(request.body.date, 'date');
      return reply
        .code(201)
        .send(
          await ledger((tx, placeId, actor) =>
            reverseTransaction(tx, placeId, request.params.id, request.body, actor),
          ),
        );
    },
  );
}

/** Commitments raised, spent and released. */
function registerCommitmentRoutes(s: FastifyInstance) {
  s.get(
    '/ledger/commitments',
    {
      schema: {
        tags,
        summary: 'Commitments, newest first',
        params: slugParam,
        response: { 200: { type: 'array', items: commitment } },
      },
    },
    async (request) => ledgerOf(request, 'ledger.read')((tx, placeId) => listCommitments(tx, placeId)),
  );

  s.post<{
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
        tags,
        summary:
          'Raise a commitment against a pot or allocation; refused (409) if more than is available (finance)',
        params: slugParam,
        body: body(
          {
            key,
            date,
            source: { type: 'string' },
            commitment_account: { type: 'string' },
            amount_pence: pence,
            description: { type: 'string', minLength: 1, maxLength: 500 },
            decision_id: id,
          },
          ['key', 'date', 'source', 'commitment_account', 'amount_pence', 'description'],
        ),
        response: { 201: commitment },
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      checkDate(request.body.date, 'date');
      return reply
        .code(201)
        .send(await ledger((tx, placeId, actor) => raiseCommitment(tx, placeId, request.body, actor)));
    },
  );

  s.post<{
    Params: { slug: string; id: number };
    Body: { key: string; date: string; spend_account: string; amount_pence: number; memo?: string };
  }>(
    '/ledger/commitments/:id/spend',
    {
      schema: {
        tags,
        summary: 'Spend part or all of a commitment (finance)',
        params: withId,
        body: body(
          {
            key,
            date,
            spend_account: { type: 'string' },
            amount_pence: pence,
            memo: { type: 'string', maxLength: 500 },
          },
          ['key', 'date', 'spend_account', 'amount_pence'],
        ),
        response: { 200: commitment },
      },
    },
    async (request) => {
      const ledger = ledgerOf(request, 'ledger.post');
      checkDate(request.body.date, 'date');
      const spend = { ...request.body, memo: request.body.memo ?? '' };
      return ledger((tx, placeId, actor) => spendCommitment(tx, placeId, request.params.id, spend, actor));
    },
  );

  s.post<{
    Params: { slug: string; id: number };
    Body: { key: string; date: string; amount_pence?: number; memo?: string };
  }>(
    '/ledger/commitments/:id/release',
    {
      schema: {
        tags,
        summary: 'Release what is left of a commitment, or part of it (finance)',
        params: withId,
        body: body({ key, date, amount_pence: pence, memo: { type: 'string', maxLength: 500 } }, [
          'key',
          'date',
        ]),
        response: { 200: commitment },
      },
    },
    async (request) => {
      const ledger = ledgerOf(request, 'ledger.post');
      checkDate(request.body.date, 'date');
      return ledger((tx, placeId, actor) =>
        releaseCommitment(tx, placeId, request.params.id, request.body, actor),
      );
    },
  );
}

/** Each year's pooled budget and its mode, and the partners' contribution agreements. */
function registerBudgetRoutes(s: FastifyInstance) {
  s.get(
    '/ledger/budgets',
    {
      schema: { tags, summary: 'Pooled budgets by year with their shadow/pooled history', params: slugParam },
    },
    async (request) => ledgerOf(request, 'ledger.read')((tx, placeId) => listBudgets(tx, placeId)),
  );

  s.post<{
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
        tags,
        summary: 'Start a year’s pooled budget or switch it between shadow and pooled from a date (finance)',
        params: slugParam,
        body: body(
          {
            financial_year: year,
            mode: { type: 'string', enum: BUDGET_MODES },
            effective_from: date,
            decision_id: id,
            host_partner_id: id,
          },
          ['financial_year', 'mode', 'effective_from'],
        ),
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      checkDate(request.body.effective_from, 'effective_from');
      const change = { ...request.body, decision_id: request.body.decision_id ?? null };
      await ledger((tx, placeId, actor) => setBudgetMode(tx, placeId, change, actor));
      return reply.code(201).send(await ledger((tx, placeId) => listBudgets(tx, placeId)));
    },
  );

  s.get(
    '/ledger/agreements',
    {
      schema: { tags, summary: 'Partner contribution agreements', params: slugParam, querystring: yearQuery },
    },
    async (request) =>
      ledgerOf(
        request,
        'ledger.read',
      )((tx, placeId) => listAgreements(tx, placeId, (request.query as { year?: number }).year)),
  );

  s.post<{ Body: Record<string, unknown> }>(
    '/ledger/agreements',
    {
      schema: {
        tags,
        summary: 'Record a contribution agreement signed off by a board decision (finance)',
        params: slugParam,
        body: body(
          {
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
          [
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
        ),
      },
    },
    async (request, reply) => {
      const ledger = ledgerOf(request, 'ledger.post');
      const input = validateNewAgreement(request.body);
      return reply
        .code(201)
        .send(await ledger((tx, placeId, actor) => addAgreement(tx, placeId, input, actor)));
    },
  );
}

/** Closing and re-opening financial years. */
function registerPeriodRoutes(s: FastifyInstance) {
  s.get(
    '/ledger/periods',
    { schema: { tags, summary: 'Financial years closed and re-opened', params: slugParam } },
    async (request) => ledgerOf(request, 'ledger.read')((tx, placeId) => listPeriods(tx, placeId)),
  );

  s.post<{ Params: { slug: string; year: number } }>(
    '/ledger/periods/:year/close',
    {
      schema: {
        tags,
        summary:
          'Close a financial year, posting the risk share of each allocation’s over- or underspend (finance)',
        params: withYear,
      },
    },
    async (request) =>
      ledgerOf(
        request,
        'ledger.post',
      )((tx, placeId, actor) => closePeriod(tx, placeId, request.params.year, actor)),
  );

  s.post<{ Params: { slug: string; year: number }; Body: { decision_id: number } }>(
    '/ledger/periods/:year/reopen',
    {
      schema: {
        tags,
        summary: 'Re-open a closed year by an agreed board decision (finance)',
        params: withYear,
        body: body({ decision_id: id }, ['decision_id']),
      },
    },
    async (request) => {
      const ledger = ledgerOf(request, 'ledger.post');
      await ledger((tx, placeId, actor) =>
        reopenPeriod(tx, placeId, request.params.year, request.body.decision_id, actor),
      );
      return ledger((tx, placeId) => listPeriods(tx, placeId));
    },
  );
}

/** The budget report and the partners' statements. */
function registerReportRoutes(s: FastifyInstance) {
  s.get(
    '/ledger/report',
    {
      schema: {
        tags,
        summary: 'Budget vs actual vs forecast by service and by partner',
        params: slugParam,
        querystring: yearQuery,
      },
    },
    async (request) =>
      ledgerOf(request, 'ledger.read')((tx, placeId) => budgetReport(tx, placeId, yearOf(request))),
  );

  s.get<{ Params: { slug: string; id: number } }>(
    '/ledger/partners/:id/statement',
    {
      schema: {
        tags,
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
}

export async function ledgerRoutes(app: FastifyInstance) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (s) => {
      registerAccountRoutes(s);
      registerTransactionRoutes(s);
      registerCommitmentRoutes(s);
      registerBudgetRoutes(s);
      registerPeriodRoutes(s);
      registerReportRoutes(s);
    }),
  );
}
