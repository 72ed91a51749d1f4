import type { Tx } from '../core/db.ts';
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { modeOn, type BudgetMode, type NewAgreement } from './domain.ts';
import { type Actor } from './domain.ts';
import { decisionOfPlace, partnersOfPlace } from '../places/public.ts';
import { financialYearBounds, financialYearLabel, financialYearOf, todayIso } from '../core/dates.ts';

// Pooled budgets: each year's budget mode and the partners' contribution agreements.

export interface ModeChange {
  financial_year: number;
  mode: BudgetMode;
  effective_from: string;
  decision_id: number | null;
  host_partner_id?: number | null;
}

/** Starts a year's pooled budget or switches its mode from a date; earlier modes stay as history. */
export async function setBudgetMode(tx: Tx, placeId: number, input: ModeChange, actor: Actor) {
  if (financialYearOf(input.effective_from) !== input.financial_year) {
    throw new Invalid('The date must fall in the financial year', {
      effective_from: `Enter a date in ${financialYearLabel(input.financial_year)}`,
    });
  }
  await tx
    .insertInto('ledger_budgets')
    .values({
      place_id: placeId,
      financial_year: input.financial_year,
      host_partner_id: input.host_partner_id ?? null,
    })
    .onConflict((oc) => oc.columns(['place_id', 'financial_year']).doNothing())
    .execute();
  if (input.host_partner_id) {
    await tx
      .updateTable('ledger_budgets')
      .set({ host_partner_id: input.host_partner_id })
      .where('place_id', '=', placeId)
      .where('financial_year', '=', input.financial_year)
      .execute();
  }
  const clash = await tx
    .selectFrom('ledger_budget_modes')
    .select('id')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .where('effective_from', '=', input.effective_from)
    .executeTakeFirst();
  if (clash)
    throw new Invalid('The budget already changes mode on that date', {
      effective_from: 'Choose another date',
    });
  await tx
    .insertInto('ledger_budget_modes')
    .values({
      place_id: placeId,
      financial_year: input.financial_year,
      mode: input.mode,
      effective_from: input.effective_from,
      decision_id: input.decision_id,
      recorded_by: actor.personId,
    })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.budget.mode',
    subject: `ledger_budget:${input.financial_year}`,
    detail: { ...input },
  });
}

export interface BudgetView {
  financial_year: number;
  host_partner: string | null;
  mode_today: BudgetMode | null;
  history: { mode: BudgetMode; effective_from: string; decision_id: number | null; recorded_at: Date }[];
}

export async function listBudgets(tx: Tx, placeId: number, today = todayIso()): Promise<BudgetView[]> {
  const budgets = await tx
    .selectFrom('ledger_budgets as b')
    .leftJoin('partners as p', (j) =>
      j.onRef('p.place_id', '=', 'b.place_id').onRef('p.id', '=', 'b.host_partner_id'),
    )
    .select(['b.financial_year', 'p.name as host_partner'])
    .where('b.place_id', '=', placeId)
    .orderBy('b.financial_year', 'desc')
    .execute();
  const modes = await tx
    .selectFrom('ledger_budget_modes')
    .select(['financial_year', 'mode', 'effective_from', 'decision_id', 'recorded_at'])
    .where('place_id', '=', placeId)
    .orderBy('effective_from')
    .execute();
  return budgets.map((b) => {
    const history = modes
      .filter((m) => m.financial_year === b.financial_year)
      .map(({ mode, effective_from, decision_id, recorded_at }) => ({
        mode,
        effective_from,
        decision_id,
        recorded_at,
      }));
    const { end } = financialYearBounds(b.financial_year);
    return { ...b, mode_today: modeOn(history, today < end ? today : end), history };
  });
}

export interface AgreementRow {
  id: number;
  financial_year: number;
  partner_id: number;
  partner: string;
  funding_stream: string;
  amount_pence: Pence;
  form: 'cash' | 'in_kind';
  ring_fence: string | null;
  host_partner: string | null;
  overspend_share_bp: number;
  underspend_share_bp: number;
  exit_terms: string;
  decision_id: number;
  decision_title: string;
  contribution_account: string;
}

export async function listAgreements(tx: Tx, placeId: number, year?: number): Promise<AgreementRow[]> {
  let query = tx
    .selectFrom('ledger_agreements as g')
    .innerJoin('partners as p', (j) =>
      j.onRef('p.place_id', '=', 'g.place_id').onRef('p.id', '=', 'g.partner_id'),
    )
    .leftJoin('partners as h', (j) =>
      j.onRef('h.place_id', '=', 'g.place_id').onRef('h.id', '=', 'g.host_partner_id'),
    )
    .innerJoin('decisions as d', (j) =>
      j.onRef('d.place_id', '=', 'g.place_id').onRef('d.id', '=', 'g.decision_id'),
    )
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'g.place_id').onRef('a.id', '=', 'g.contribution_account_id'),
    )
    .select([
      'g.id',
      'g.financial_year',
      'g.partner_id',
      'p.name as partner',
      'g.funding_stream',
      'g.amount_pence',
      'g.form',
      'g.ring_fence',
      'h.name as host_partner',
      'g.overspend_share_bp',
      'g.underspend_share_bp',
      'g.exit_terms',
      'g.decision_id',
      'd.title as decision_title',
      'a.code as contribution_account',
    ])
    .where('g.place_id', '=', placeId);
  if (year !== undefined) query = query.where('g.financial_year', '=', year);
  return query.orderBy('g.financial_year', 'desc').orderBy('p.name').orderBy('g.funding_stream').execute();
}

/** Records an agreement the board signed off; shares across a year's agreements stay within 100%. */
export async function addAgreement(
  tx: Tx,
  placeId: number,
  input: NewAgreement,
  actor: Actor,
): Promise<AgreementRow> {
  const fields: FieldErrors = {};
  const budget = await tx
    .selectFrom('ledger_budgets')
    .select('financial_year')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .executeTakeFirst();
  if (!budget)
    fields.financial_year = `Start the pooled budget for ${financialYearLabel(input.financial_year)} first`;
  const partnerIds = [input.partner_id, input.host_partner_id].filter((x): x is number => x !== null);
  const partners = await partnersOfPlace(tx, placeId, partnerIds);
  if (!partners.has(input.partner_id)) fields.partner_id = 'Select a partner of this place';
  if (input.host_partner_id && !partners.has(input.host_partner_id))
    fields.host_partner_id = 'Select a partner of this place';
  const decision = await decisionOfPlace(tx, placeId, input.decision_id);
  if (!decision) fields.decision_id = 'Select a board decision of this place';
  else if (!decision.agreed_at) fields.decision_id = 'The decision has not been agreed by the board yet';
  const account = await tx
    .selectFrom('ledger_accounts')
    .select(['id', 'kind', 'partner_id'])
    .where('place_id', '=', placeId)
    .where('code', '=', input.contribution_account)
    .executeTakeFirst();
  if (!account || account.kind !== 'contribution' || account.partner_id !== input.partner_id) {
    fields.contribution_account = 'Enter the code of this partner’s contribution account';
  }
  const totals = await tx
    .selectFrom('ledger_agreements')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('overspend_share_bp'), eb.lit(0)).as('over'),
      eb.fn.coalesce(eb.fn.sum<number>('underspend_share_bp'), eb.lit(0)).as('under'),
    ])
    .where('place_id', '=', placeId)
    .where('financial_year', '=', input.financial_year)
    .executeTakeFirstOrThrow();
  if (Number(totals.over) + input.overspend_share_bp > 10_000)
    fields.overspend_share_bp = `Overspend shares would total more than 100%: ${Number(totals.over) / 100}% is already agreed`;
  if (Number(totals.under) + input.underspend_share_bp > 10_000)
    fields.underspend_share_bp = `Underspend shares would total more than 100%: ${Number(totals.under) / 100}% is already agreed`;
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the agreement', fields);
  const { contribution_account: _code, ...rest } = input;
  const row = await tx
    .insertInto('ledger_agreements')
    .values({ place_id: placeId, ...rest, contribution_account_id: account!.id })
    .onConflict((oc) =>
      oc.columns(['place_id', 'financial_year', 'partner_id', 'funding_stream']).doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  if (!row)
    throw new Invalid('There is a problem with the agreement', {
      funding_stream: 'This partner already has an agreement for that funding stream this year',
    });
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.agreement.add',
    subject: `ledger_agreement:${row.id}`,
    detail: { ...input },
  });
  return (await listAgreements(tx, placeId, input.financial_year)).find((a) => a.id === row.id)!;
}
