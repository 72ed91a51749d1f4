import type { Tx } from '../core/db.ts';
import { Conflict, Invalid } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { balancedTransaction, riskSharePostings, type BalancedTransaction } from './domain.ts';
import { listAgreements } from './agreements.ts';
import { listAccounts } from './accounts.ts';
import { listBalances, postTransactions } from './postings.ts';
import { type Actor } from './domain.ts';
import { decisionOfPlace } from '../places/public.ts';
import { financialYearBounds, financialYearLabel } from '../core/dates.ts';

// Period close: closing and reopening a financial year, and the risk share drafted at the close.

export interface PeriodView {
  financial_year: number;
  closed: boolean;
  events: { action: 'close' | 'reopen'; decision_id: number | null; recorded_at: Date }[];
}

export async function listPeriods(tx: Tx, placeId: number): Promise<PeriodView[]> {
  const periods = await tx
    .selectFrom('ledger_periods')
    .select(['financial_year', 'closed'])
    .where('place_id', '=', placeId)
    .orderBy('financial_year', 'desc')
    .execute();
  const events = await tx
    .selectFrom('ledger_period_events')
    .select(['financial_year', 'action', 'decision_id', 'recorded_at'])
    .where('place_id', '=', placeId)
    .orderBy('id')
    .execute();
  return periods.map((p) => ({
    ...p,
    events: events
      .filter((e) => e.financial_year === p.financial_year)
      .map(({ action, decision_id, recorded_at }) => ({ action, decision_id, recorded_at })),
  }));
}

async function lockPeriod(tx: Tx, placeId: number, year: number) {
  await tx
    .insertInto('ledger_periods')
    .values({ place_id: placeId, financial_year: year })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return tx
    .selectFrom('ledger_periods')
    .select('closed')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export interface CloseResult {
  financial_year: number;
  risk_share: { allocation: string; balance_pence: Pence; transaction_id: number }[];
}

/**
 * The risk-share transactions closing the year would post now: each allocation's balance at
 * 31 March split by the agreements. Read-only, so the close page can show them before the close.
 */
export async function riskShareDrafts(tx: Tx, placeId: number, year: number): Promise<BalancedTransaction[]> {
  const { end } = financialYearBounds(year);
  const accounts = await listAccounts(tx, placeId);
  const balances = new Map((await listBalances(tx, placeId, end)).map((b) => [b.account, b.balance_pence]));
  const reinvestment = accounts.find((a) => a.kind === 'reinvestment');
  const agreements = (await listAgreements(tx, placeId, year)).map((a) => ({
    partnerId: a.partner_id,
    contributionAccount: a.contribution_account,
    overspendBp: a.overspend_share_bp,
    underspendBp: a.underspend_share_bp,
  }));
  const closes = await tx
    .selectFrom('ledger_period_events')
    .select('id')
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .where('action', '=', 'close')
    .execute();
  return accounts
    .filter((a) => a.kind === 'allocation' && balances.get(a.code))
    .map((a) => {
      if (!reinvestment)
        throw new Invalid(
          'Add a savings reinvestment account before closing the year: it receives what partners do not take',
        );
      const postings = riskSharePostings(
        { account: a.code, balance: balances.get(a.code)! },
        agreements,
        reinvestment.code,
      )!;
      return balancedTransaction({
        key: `close-${year}-${closes.length + 1}-${a.code}`,
        date: end,
        memo: `Risk share of ${a.name} ${balances.get(a.code)! > 0 ? 'underspend' : 'overspend'}, ${financialYearLabel(year)}`,
        postings,
      });
    });
}

/**
 * Closes a financial year: each allocation's over- or underspend at 31 March is split between
 * partners by their agreements' risk shares (the rest to the savings reinvestment account),
 * posted on 31 March, and the year then takes no more postings.
 */
export async function closePeriod(tx: Tx, placeId: number, year: number, actor: Actor): Promise<CloseResult> {
  const period = await lockPeriod(tx, placeId, year);
  if (period.closed) throw new Conflict(`${financialYearLabel(year)} is already closed`);
  const drafts = await riskShareDrafts(tx, placeId, year);
  const posted = drafts.length
    ? await postTransactions(tx, placeId, drafts, { kind: 'risk_share', actor })
    : [];
  await tx
    .updateTable('ledger_periods')
    .set({ closed: true })
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .execute();
  await tx
    .insertInto('ledger_period_events')
    .values({ place_id: placeId, financial_year: year, action: 'close', recorded_by: actor.personId })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.period.close',
    subject: `ledger_period:${year}`,
    detail: { risk_share_transactions: posted.length },
  });
  return {
    financial_year: year,
    risk_share: drafts.map((d, i) => ({
      allocation: d.postings[0]!.account,
      balance_pence: pence(-d.postings[0]!.amount_pence),
      transaction_id: posted[i]!.id,
    })),
  };
}

/**
 * Re-opens a closed year. Only an agreed board decision made to re-open this very year
 * (kind `period_reopen`, naming the year) can, and each such decision re-opens it once (a unique
 * index on the re-open events backs this). The decision is recorded.
 */
export async function reopenPeriod(tx: Tx, placeId: number, year: number, decisionId: number, actor: Actor) {
  const period = await lockPeriod(tx, placeId, year);
  if (!period.closed) throw new Conflict(`${financialYearLabel(year)} is not closed`);
  const decision = await decisionOfPlace(tx, placeId, decisionId);
  if (!decision)
    throw new Invalid('Select the board decision that re-opens the year', {
      decision_id: 'Select a board decision of this place',
    });
  if (decision.kind !== 'period_reopen' || decision.financial_year !== year)
    throw new Invalid(`The decision was not made to re-open ${financialYearLabel(year)}`, {
      decision_id: `Select a board decision to re-open ${financialYearLabel(year)}`,
    });
  if (!decision.agreed_at)
    throw new Invalid('The decision has not been agreed by the board yet', {
      decision_id: 'The decision has not been agreed by the board yet',
    });
  const used = await tx
    .selectFrom('ledger_period_events')
    .select('id')
    .where('place_id', '=', placeId)
    .where('decision_id', '=', decisionId)
    .where('action', '=', 'reopen')
    .executeTakeFirst();
  if (used)
    throw new Invalid('That decision has already re-opened the year once', {
      decision_id: 'A decision re-opens a year once: the board must decide again',
    });
  await tx
    .updateTable('ledger_periods')
    .set({ closed: false })
    .where('place_id', '=', placeId)
    .where('financial_year', '=', year)
    .execute();
  await tx
    .insertInto('ledger_period_events')
    .values({
      place_id: placeId,
      financial_year: year,
      action: 'reopen',
      decision_id: decisionId,
      recorded_by: actor.personId,
    })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.period.reopen',
    subject: `ledger_period:${year}`,
    detail: { decision_id: decisionId },
  });
}
