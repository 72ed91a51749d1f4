import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { formatPounds, inPounds, type Pence } from '../core/money.ts';
import { formOr, formPage } from '../core/forms.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import {
  ACCOUNT_KIND_LABELS,
  balancedTransaction,
  COMMITMENT_SOURCES,
  LIMITS,
  type AccountKind,
} from './domain.ts';
import { listAccounts, type AccountRow } from './accounts.ts';
import { postTransactions } from './postings.ts';
import { listCommitments, raiseCommitment, releaseCommitment, spendCommitment } from './commitments.ts';
import { closePeriod, listPeriods, riskShareDrafts } from './periods.ts';
import { financialYearLabel, todayIso } from '../core/dates.ts';
import { dateField, penceField } from '../core/form-fields.ts';

export type Body = Record<string, string | undefined>;

/** Journal lines the form offers; blank lines beyond the second are ignored. */
const JOURNAL_LINES = 4;

export const today = () => todayIso();
export const freshKey = () => `web-${randomUUID()}`;
const ledgerUrl = (place: PlaceContext, anchor: string) => `/places/${place.slug}/ledger#${anchor}`;
export const actor = (place: PlaceContext) => ({ personId: place.person.id });

/** Every problem with a form is collected before any is thrown, so the summary lists them all. */
export function throwFields(fields: FieldErrors, message: string) {
  if (Object.keys(fields).length) throw new Invalid(message, fields);
}

/** Pounds typed in a form, at most the ledger's limit; see core/form-fields.ts's penceField. */
export const poundsField = (
  body: Body,
  field: string,
  fields: FieldErrors,
  positive: boolean,
  subject?: string,
) => penceField(body, field, fields, { positive, max: LIMITS.amountPence, ...(subject ? { subject } : {}) });

/**
 * Shows the store's refusals against the form's field rather than as an error page: a conflict
 * ("more than is available") or an amount the API calls `amount_pence`.
 */
export async function refusalsAsField<T>(field: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof Conflict) {
      const { message } = inPounds(err);
      throw new Invalid(message, { [field]: message });
    }
    if (err instanceof Invalid && err.fields?.amount_pence) {
      const { message, fields } = inPounds(err);
      throw new Invalid(message, { [field]: fields!.amount_pence! });
    }
    throw err;
  }
}

export function accountItems(
  accounts: AccountRow[],
  kinds: readonly AccountKind[],
  selected: string | undefined,
) {
  return [
    { value: '', text: 'Select an account' },
    ...accounts
      .filter((a) => kinds.includes(a.kind))
      .map((a) => ({
        value: a.code,
        text: `${a.code} – ${a.name} (${ACCOUNT_KIND_LABELS[a.kind]})`,
        selected: a.code === selected,
      })),
  ];
}

// ---- Raise a commitment ------------------------------------------------------------------------

function commitmentContext(place: PlaceContext, accounts: AccountRow[], values: Body) {
  return {
    title: 'Raise a commitment',
    place,
    values,
    sourceItems: accountItems(accounts, COMMITMENT_SOURCES, values.source),
    commitmentItems: accountItems(accounts, ['commitment'], values.commitment_account),
  };
}

function commitmentInput(body: Body) {
  const fields: FieldErrors = {};
  if (!body.source) fields.source = 'Select the pot or allocation the commitment draws on';
  if (!body.commitment_account) fields.commitment_account = 'Select the commitment account that holds it';
  const amount_pence = poundsField(body, 'amount', fields, true);
  const description = (body.description ?? '').trim();
  if (!description) fields.description = 'Enter what the money is promised for';
  else if (description.length > LIMITS.memoLength)
    fields.description = `Enter at most ${LIMITS.memoLength} characters`;
  const date = dateField(body, 'date', fields);
  throwFields(fields, 'The commitment is not complete');
  return {
    key: body.key || freshKey(),
    date,
    source: body.source!,
    commitment_account: body.commitment_account!,
    amount_pence,
    description,
  };
}

// ---- Spend or release a commitment -------------------------------------------------------------

async function commitmentPageContext(request: FastifyRequest, place: PlaceContext, id: number, values: Body) {
  const data = await inRequestPlace(request, place, async (tx) => ({
    commitment: (await listCommitments(tx, place.id, id))[0],
    accounts: await listAccounts(tx, place.id),
  }));
  if (!data.commitment) throw new NotFound('No such commitment in this place');
  return {
    title: `Commitment: ${data.commitment.description}`,
    place,
    commitment: data.commitment,
    values: {
      key: freshKey(),
      release_key: freshKey(),
      spend_amount: formatPounds(data.commitment.outstanding_pence).replace('£', ''),
      spend_date: today(),
      release_date: today(),
      ...values,
    },
    spendItems: accountItems(data.accounts, ['spend'], values.spend_account),
  };
}

function commitmentId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFound('No such commitment in this place');
  return id;
}

// ---- Post a journal transaction ----------------------------------------------------------------

function journalContext(place: PlaceContext, accounts: AccountRow[], values: Body) {
  const lines = Array.from({ length: JOURNAL_LINES }, (_, i) => ({
    n: i + 1,
    items: accountItems(
      accounts,
      Object.keys(ACCOUNT_KIND_LABELS) as AccountKind[],
      values[`account_${i + 1}`],
    ),
  }));
  return { title: 'Post a journal transaction', place, values, lines };
}

/** The form's lines as postings; blank lines are skipped, and they must sum to zero. */
function journalInput(body: Body) {
  const fields: FieldErrors = {};
  const date = dateField(body, 'date', fields);
  const key = (body.key ?? '').trim();
  if (!key || key.length > LIMITS.keyLength)
    fields.key = `Enter a reference of 1 to ${LIMITS.keyLength} characters`;
  const memo = (body.memo ?? '').trim();
  if (memo.length > LIMITS.memoLength) fields.memo = `Enter at most ${LIMITS.memoLength} characters`;
  const postings: { account: string; amount_pence: Pence }[] = [];
  for (let n = 1; n <= JOURNAL_LINES; n++) {
    const account = body[`account_${n}`] ?? '';
    const typed = (body[`amount_${n}`] ?? '').trim();
    if (!account && !typed && n > 2) continue;
    if (!account) fields[`account_${n}`] = `Select the account for line ${n}`;
    const amount_pence = poundsField(body, `amount_${n}`, fields, false, `the amount for line ${n}`);
    postings.push({ account, amount_pence });
  }
  const sum = postings.reduce((s, p) => s + p.amount_pence, 0);
  if (Object.keys(fields).length === 0 && sum !== 0) {
    fields.lines = `The lines do not balance: debits and credits differ by ${formatPounds(sum)}. Debits must equal credits.`;
  }
  throwFields(fields, 'The transaction is not valid');
  return balancedTransaction({ key, date, memo, postings });
}

/** A form whose context offers every account of the place (raising a commitment, a journal). */
function withAccounts(
  build: (place: PlaceContext, accounts: AccountRow[], values: Body) => Record<string, unknown>,
) {
  return async (request: FastifyRequest, values: Body) => {
    const place = need(request, 'ledger.post');
    const accounts = await inRequestPlace(request, place, (tx) => listAccounts(tx, place.id));
    return build(place, accounts, values);
  };
}

/**
 * Spending or releasing a commitment: a form on the commitment's own page, shown again with its
 * errors, or back to the commitments once done.
 */
function commitmentAction(
  scoped: FastifyInstance,
  action: 'spend' | 'release',
  order: string[],
  act: (request: FastifyRequest, place: PlaceContext, id: number, body: Body) => Promise<unknown>,
) {
  scoped.post<{ Params: { slug: string; id: string }; Body: Body }>(
    `/ledger/commitments/:id/${action}`,
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'ledger.post');
      const id = commitmentId(request.params.id);
      const body = request.body ?? {};
      const context = await commitmentPageContext(request, place, id, body);
      const shown = await formOr(reply, 'ledger/views/commitment.njk', context, order, () =>
        act(request, place, id, body),
      );
      return shown ?? reply.redirect(ledgerUrl(place, 'commitments'), 303);
    },
  );
}

// ---- Routes ------------------------------------------------------------------------------------

/** Finance's forms for the ledger, calling the store functions the JSON API calls. */
export function ledgerForms(scoped: FastifyInstance) {
  formPage(scoped, {
    path: '/ledger/commitments/new',
    action: '/ledger/commitments',
    template: 'ledger/views/commitment-new.njk',
    order: ['source', 'commitment_account', 'amount', 'description', 'date'],
    context: withAccounts(commitmentContext),
    initial: () => ({ key: freshKey(), date: today() }),
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      await refusalsAsField('amount', () =>
        inRequestPlace(request, place, (tx) =>
          raiseCommitment(tx, place.id, commitmentInput(body), actor(place)),
        ),
      );
      return ledgerUrl(place, 'commitments');
    },
  });

  scoped.get<{ Params: { slug: string; id: string } }>(
    '/ledger/commitments/:id',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'ledger.post');
      const context = await commitmentPageContext(request, place, commitmentId(request.params.id), {});
      return reply.page('ledger/views/commitment.njk', context);
    },
  );

  commitmentAction(
    scoped,
    'spend',
    ['spend_account', 'spend_amount', 'spend_date'],
    (request, place, id, body) => {
      const fields: FieldErrors = {};
      if (!body.spend_account) fields.spend_account = 'Select the spend account the money goes to';
      const amount_pence = poundsField(body, 'spend_amount', fields, true);
      const date = dateField(body, 'spend_date', fields);
      throwFields(fields, 'The spend is not complete');
      const input = {
        key: body.key || freshKey(),
        date,
        spend_account: body.spend_account!,
        amount_pence,
        memo: (body.memo ?? '').trim().slice(0, LIMITS.memoLength),
      };
      return refusalsAsField('spend_amount', () =>
        inRequestPlace(request, place, (tx) => spendCommitment(tx, place.id, id, input, actor(place))),
      );
    },
  );

  commitmentAction(scoped, 'release', ['release_date'], (request, place, id, body) => {
    const fields: FieldErrors = {};
    const date = dateField(body, 'release_date', fields);
    throwFields(fields, 'Enter the date of the release');
    return refusalsAsField('release_date', () =>
      inRequestPlace(request, place, (tx) =>
        releaseCommitment(tx, place.id, id, { key: body.key || freshKey(), date }, actor(place)),
      ),
    );
  });

  formPage(scoped, {
    path: '/ledger/transactions/new',
    action: '/ledger/transactions',
    template: 'ledger/views/transaction-new.njk',
    order: [
      'date',
      'memo',
      'key',
      'lines',
      ...Array.from({ length: JOURNAL_LINES }, (_, i) => [`account_${i + 1}`, `amount_${i + 1}`]).flat(),
    ],
    context: withAccounts(journalContext),
    initial: () => ({ key: freshKey(), date: today() }),
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      await refusalsAsField('key', () =>
        inRequestPlace(request, place, (tx) =>
          postTransactions(tx, place.id, [journalInput(body)], { actor: actor(place) }),
        ),
      );
      return ledgerUrl(place, 'balances');
    },
  });

  scoped.get<{ Params: { slug: string; year: string } }>(
    '/ledger/periods/:year/close',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'ledger.post');
      const year = yearParam(request.params.year);
      const data = await inRequestPlace(request, place, async (tx) => ({
        period: (await listPeriods(tx, place.id)).find((p) => p.financial_year === year),
        drafts: await riskShareDrafts(tx, place.id, year).catch((err: unknown) => {
          if (err instanceof Invalid) return err;
          throw err;
        }),
      }));
      const drafts = data.drafts instanceof Invalid ? [] : data.drafts;
      return reply.page('ledger/views/period-close.njk', {
        title: `Close ${financialYearLabel(year)}`,
        place,
        year,
        yearLabel: financialYearLabel(year),
        closed: data.period?.closed ?? false,
        blocked: data.drafts instanceof Invalid ? data.drafts.message : null,
        shares: drafts.map((d) => ({
          allocation: d.postings[0]!.account,
          outturn: -d.postings[0]!.amount_pence,
          memo: d.memo,
          postings: d.postings.slice(1),
        })),
      });
    },
  );

  scoped.post<{ Params: { slug: string; year: string } }>(
    '/ledger/periods/:year/close',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'ledger.post');
      const year = yearParam(request.params.year);
      await inRequestPlace(request, place, (tx) => closePeriod(tx, place.id, year, actor(place)));
      return reply.redirect(`/places/${place.slug}/ledger?year=${year}`, 303);
    },
  );
}

export function yearParam(raw: string): number {
  const year = Number(raw);
  if (!Number.isInteger(year) || year < 2000 || year > 2100) throw new NotFound('No such financial year');
  return year;
}
