import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { formPage } from '../core/forms.ts';
import { Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import { listDecisions, listPartners } from '../places/public.ts';
import {
  ACCOUNT_KIND_LABELS,
  ACCOUNT_KINDS,
  BUDGET_MODES,
  CONTRIBUTION_FORMS,
  validateNewAccount,
  validateNewAgreement,
} from './domain.ts';
import {
  accountItems,
  actor,
  freshKey,
  poundsField,
  refusalsAsField,
  throwFields,
  today,
  yearParam,
  type Body,
} from './forms.ts';
import { createAccount, listAccounts, mapPartnerCode } from './accounts.ts';
import { REVERSIBLE, reverseTransaction } from './postings.ts';
import { journalPage } from './journal.ts';
import { addAgreement, setBudgetMode } from './agreements.ts';
import { listPeriods, reopenPeriod } from './periods.ts';
import { financialYearLabel, financialYearOf } from '../core/dates.ts';
import { dateField, textField } from '../core/form-fields.ts';

const ledgerUrl = (place: PlaceContext, rest: string) => `/places/${place.slug}/ledger${rest}`;
const text = textField;

const choices = (values: readonly string[], labels: Record<string, string>, selected: string | undefined) =>
  values.map((value) => ({ value, text: labels[value] ?? value, checked: value === selected }));

const options = (blank: string, rows: { id: number; name: string }[], selected: string | undefined) => [
  { value: '', text: blank },
  ...rows.map((r) => ({ value: String(r.id), text: r.name, selected: String(r.id) === selected })),
];

/** The place's partners and its board decisions that have been agreed: what the forms below link to. */
async function partnersAndDecisions(request: FastifyRequest, place: PlaceContext) {
  return inRequestPlace(request, place, async (tx) => {
    const partners = await listPartners(tx, place.id);
    const decisions = (await listDecisions(tx, place.id, partners)).filter((d) => d.agreed_at !== null);
    return {
      partners,
      decisions: decisions.map((d) => ({
        id: d.id,
        name: d.title,
        kind: d.kind,
        financial_year: d.financial_year,
      })),
    };
  });
}

/** Years a budget or agreement can be for: last year to two years ahead. */
function yearItems(selected: string | undefined) {
  const now = financialYearOf(today());
  return [now - 1, now, now + 1, now + 2].map((y) => ({
    value: String(y),
    text: financialYearLabel(y),
    selected: String(y) === (selected ?? String(now)),
  }));
}

/** "40", "40.5" or "12.25" per cent as basis points (4000, 4050, 1225), without floating point. */
function percentField(body: Body, field: string, fields: FieldErrors, what: string): number {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?%?$/.exec(text(body, field));
  const bp = m ? Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0')) : NaN;
  if (!(bp >= 0 && bp <= 10_000))
    fields[field] = `Enter the ${what} share as a percentage from 0 to 100, like 40 or 12.5`;
  return bp;
}

/** The API's field names for what the agreement form calls amount and shares. */
const AGREEMENT_FIELDS: Record<string, string> = {
  amount_pence: 'amount',
  overspend_share_bp: 'overspend_share',
  underspend_share_bp: 'underspend_share',
};

function formFieldsOf(err: unknown): FieldErrors {
  if (!(err instanceof Invalid)) throw err;
  return Object.fromEntries(Object.entries(err.fields ?? {}).map(([k, v]) => [AGREEMENT_FIELDS[k] ?? k, v]));
}

function transactionId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFound('No such transaction in this place');
  return id;
}

/** Finance's forms to set up the pooled budget and correct it, on the store functions the JSON API calls. */
export function ledgerSetupForms(scoped: FastifyInstance) {
  // ---- Open an account, with the partner's own code for it -------------------------------------
  formPage(scoped, {
    path: '/ledger/accounts/new',
    template: 'ledger/views/account-new.njk',
    order: ['code', 'name', 'kind', 'partner_id', 'service', 'code_partner_id', 'partner_code'],
    async context(request, values: Body) {
      const place = need(request, 'ledger.post');
      const { partners } = await partnersAndDecisions(request, place);
      return {
        title: 'Open an account',
        place,
        values,
        kindItems: choices(ACCOUNT_KINDS, ACCOUNT_KIND_LABELS, values.kind),
        partnerItems: options('Not a partner’s contribution', partners, values.partner_id),
        codePartnerItems: options('The contribution’s partner', partners, values.code_partner_id),
      };
    },
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      const fields: FieldErrors = {};
      let account;
      try {
        account = validateNewAccount(body);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        Object.assign(fields, err.fields);
      }
      const partnerCode = text(body, 'partner_code');
      const codePartner = Number(text(body, 'code_partner_id') || account?.partner_id || NaN);
      if (partnerCode.length > 60) fields.partner_code = 'Enter the partner’s code in 60 characters or fewer';
      if (partnerCode && !Number.isSafeInteger(codePartner))
        fields.code_partner_id = 'Select the partner whose own code this is';
      if (!partnerCode && text(body, 'code_partner_id'))
        fields.partner_code = 'Enter the partner’s own code for this account, or leave the partner blank';
      throwFields(fields, 'There is a problem with the account');
      await inRequestPlace(request, place, async (tx) => {
        const created = await createAccount(tx, place.id, account!, actor(place));
        if (!partnerCode) return;
        const partners = await listPartners(tx, place.id);
        if (!partners.some((p) => p.id === codePartner))
          throw new Invalid('Select a partner of this place', {
            code_partner_id: 'Select a partner of this place',
          });
        await mapPartnerCode(tx, place.id, created.code, codePartner, partnerCode, actor(place));
      });
      return ledgerUrl(place, '#balances');
    },
  });

  // ---- Start a pooled budget, or switch it between shadow and pooled from a date ---------------
  formPage(scoped, {
    path: '/ledger/budgets/new',
    template: 'ledger/views/budget-mode.njk',
    order: ['financial_year', 'mode', 'effective_from', 'host_partner_id', 'decision_id'],
    async context(request, values: Body) {
      const place = need(request, 'ledger.post');
      const { partners, decisions } = await partnersAndDecisions(request, place);
      return {
        title: 'Start the pooled budget or change its mode',
        place,
        values,
        yearItems: yearItems(values.financial_year),
        modeItems: choices(
          BUDGET_MODES,
          {
            shadow: 'Shadow: partners keep their money; the pot is a virtual bank',
            pooled: 'Pooled: partners transfer money to a host partner',
          },
          values.mode,
        ),
        hostItems: options('No host partner (shadow budget)', partners, values.host_partner_id),
        decisionItems: options('No decision', decisions, values.decision_id),
      };
    },
    initial: () => ({ effective_from: today() }),
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      const fields: FieldErrors = {};
      const mode = text(body, 'mode');
      if (!(BUDGET_MODES as readonly string[]).includes(mode)) fields.mode = 'Select shadow or pooled';
      const effective_from = dateField(body, 'effective_from', fields);
      if (mode === 'pooled' && !text(body, 'host_partner_id'))
        fields.host_partner_id = 'Select the host partner that holds the pooled money';
      throwFields(fields, 'There is a problem with the budget');
      await inRequestPlace(request, place, (tx) =>
        setBudgetMode(
          tx,
          place.id,
          {
            financial_year: Number(text(body, 'financial_year')),
            mode: mode as 'shadow' | 'pooled',
            effective_from,
            decision_id: text(body, 'decision_id') ? Number(text(body, 'decision_id')) : null,
            host_partner_id: text(body, 'host_partner_id') ? Number(text(body, 'host_partner_id')) : null,
          },
          actor(place),
        ),
      );
      return ledgerUrl(place, `?year=${text(body, 'financial_year')}`);
    },
  });

  // ---- A partner's contribution agreement, signed off by a board decision ----------------------
  formPage(scoped, {
    path: '/ledger/agreements/new',
    template: 'ledger/views/agreement-new.njk',
    order: [
      'financial_year',
      'partner_id',
      'funding_stream',
      'contribution_account',
      'amount',
      'form',
      'ring_fence',
      'host_partner_id',
      'overspend_share',
      'underspend_share',
      'exit_terms',
      'decision_id',
    ],
    async context(request, values: Body) {
      const place = need(request, 'ledger.post');
      const { partners, decisions } = await partnersAndDecisions(request, place);
      const accounts = await inRequestPlace(request, place, (tx) => listAccounts(tx, place.id));
      return {
        title: 'Record a contribution agreement',
        place,
        values,
        yearItems: yearItems(values.financial_year),
        partnerItems: options('Select the partner', partners, values.partner_id),
        hostItems: options('No host partner', partners, values.host_partner_id),
        accountItems: accountItems(accounts, ['contribution'], values.contribution_account),
        formItems: choices(
          CONTRIBUTION_FORMS,
          { cash: 'Cash', in_kind: 'In kind (staff time, buildings)' },
          values.form,
        ),
        decisionItems: options('Select the decision', decisions, values.decision_id),
      };
    },
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      const fields: FieldErrors = {};
      const amount = poundsField(body, 'amount', fields, true, 'the amount per year');
      const over = percentField(body, 'overspend_share', fields, 'overspend');
      const under = percentField(body, 'underspend_share', fields, 'underspend');
      const input = (() => {
        try {
          return validateNewAgreement({
            financial_year: Number(text(body, 'financial_year')),
            partner_id: Number(text(body, 'partner_id')),
            funding_stream: body.funding_stream,
            amount_pence: amount,
            form: text(body, 'form'),
            ring_fence: body.ring_fence,
            host_partner_id: text(body, 'host_partner_id') ? Number(text(body, 'host_partner_id')) : null,
            overspend_share_bp: over,
            underspend_share_bp: under,
            exit_terms: body.exit_terms,
            decision_id: Number(text(body, 'decision_id')),
            contribution_account: text(body, 'contribution_account'),
          });
        } catch (err) {
          // The form's own messages (in pounds and per cent) win over the API's (in pence and basis points).
          for (const [name, message] of Object.entries(formFieldsOf(err))) fields[name] ??= message;
          return null;
        }
      })();
      throwFields(fields, 'There is a problem with the agreement');
      await inRequestPlace(request, place, (tx) => addAgreement(tx, place.id, input!, actor(place))).catch(
        (err: unknown) => {
          throw new Invalid((err as Error).message, formFieldsOf(err));
        },
      );
      return ledgerUrl(place, `?year=${input!.financial_year}#partners`);
    },
  });

  // ---- A transaction, and its reversal with a reason -------------------------------------------
  formPage<{ slug: string; id: string }>(scoped, {
    path: '/ledger/transactions/:id',
    action: '/ledger/transactions/:id/reverse',
    template: 'ledger/views/transaction.njk',
    order: ['date', 'reason'],
    async context(request, values: Body) {
      // Anyone who reads the ledger sees the transaction; only finance may post its reversal, and
      // that is decided before the transaction is looked up.
      const place = need(request, request.method === 'POST' ? 'ledger.post' : 'ledger.read');
      const id = transactionId(request.params.id);
      const [transaction] = await inRequestPlace(request, place, (tx) =>
        journalPage(tx, place.id, { id, limit: 1 }),
      );
      if (!transaction) throw new NotFound('No such transaction in this place');
      return {
        title: `Transaction ${transaction.id}: ${transaction.memo}`,
        place,
        transaction,
        canReverse:
          allows(place.roles, 'ledger.post') &&
          REVERSIBLE.includes(transaction.kind) &&
          !transaction.reversed_by,
        values: { key: freshKey(), date: today(), ...values },
      };
    },
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      const id = transactionId(request.params.id);
      const fields: FieldErrors = {};
      const date = dateField(body, 'date', fields);
      const reason = text(body, 'reason');
      if (!reason) fields.reason = 'Enter why the transaction is reversed';
      else if (reason.length > 400) fields.reason = 'Enter the reason in 400 characters or fewer';
      throwFields(fields, 'There is a problem with the reversal');
      const posted = await refusalsAsField('reason', () =>
        inRequestPlace(request, place, (tx) =>
          reverseTransaction(
            tx,
            place.id,
            id,
            { key: body.key || freshKey(), date, memo: `Reversal of ${id}: ${reason}` },
            actor(place),
          ),
        ),
      ).catch((err: unknown) => {
        // A kind that is never reversed (a close, a commitment) is refused as a whole: say why beside the reason.
        throw err instanceof Invalid && !err.fields ? new Invalid(err.message, { reason: err.message }) : err;
      });
      return ledgerUrl(place, `/transactions/${posted.id}`);
    },
  });

  // ---- Re-open a closed year by a documented board decision ------------------------------------
  formPage<{ slug: string; year: string }>(scoped, {
    path: '/ledger/periods/:year/reopen',
    template: 'ledger/views/period-reopen.njk',
    order: ['decision_id'],
    async context(request, values: Body) {
      const place = need(request, 'ledger.post');
      const year = yearParam(request.params.year);
      const { decisions: agreed } = await partnersAndDecisions(request, place);
      const periods = await inRequestPlace(request, place, (tx) => listPeriods(tx, place.id));
      const period = periods.find((p) => p.financial_year === year);
      // Only agreed decisions made to re-open this year and not used yet can re-open it.
      const used = new Set(periods.flatMap((p) => p.events.map((e) => e.decision_id)));
      const decisions = agreed.filter(
        (d) => d.kind === 'period_reopen' && d.financial_year === year && !used.has(d.id),
      );
      return {
        title: `Re-open ${financialYearLabel(year)}`,
        place,
        year,
        yearLabel: financialYearLabel(year),
        closed: period?.closed ?? false,
        values,
        decisionItems: options('Select the decision', decisions, values.decision_id),
      };
    },
    async submit(request, body: Body) {
      const place = need(request, 'ledger.post');
      const year = yearParam(request.params.year);
      const decisionId = Number(text(body, 'decision_id'));
      if (!Number.isSafeInteger(decisionId) || decisionId < 1)
        throw new Invalid('Select the board decision that re-opens the year', {
          decision_id: 'Select the board decision that re-opens the year',
        });
      await refusalsAsField('decision_id', () =>
        inRequestPlace(request, place, (tx) => reopenPeriod(tx, place.id, year, decisionId, actor(place))),
      );
      return ledgerUrl(place, `?year=${year}`);
    },
  });
}
