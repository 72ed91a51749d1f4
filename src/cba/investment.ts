/**
 * Who invests, who benefits, carried through: the agreement a business case proposes is stored
 * with the revision it came from, approved by an agreed programme-board decision (as ledger
 * agreements are), and posted through the ledger as one transaction carrying that decision.
 */
import type { Tx } from '../core/db.ts';
import { Conflict } from '../core/errors.ts';
import type { Pence } from '../core/money.ts';
import type { InvestmentAgreement } from './domain.ts';
import type { AgreementPosting, InvestmentAgreementPoster } from './ports.ts';
import { getAgreement, recordPosting } from './store.ts';

/** Every partner the agreement moves money from or to: each needs a contribution account. */
export function agreementPartners(agreement: InvestmentAgreement): string[] {
  const names = [
    ...agreement.repayments.flatMap((t) => [t.from, t.to]),
    ...Object.keys(agreement.to_reinvestment_pence),
  ];
  return [...new Set(names)].sort();
}

/**
 * The agreement as ledger postings (positive is a debit): a repayment credits the paying
 * partner's contribution (it puts more in) and debits the investor's (it gets back what it put
 * in); savings moved to reinvestment credit the partner's contribution and debit the pot's
 * savings reinvestment account. Postings to one account are netted.
 */
export function agreementPostings(
  agreement: InvestmentAgreement,
  contributionAccounts: Record<string, string>,
  reinvestmentAccount: string,
): { account: string; amount_pence: Pence }[] {
  const net = new Map<string, number>();
  const add = (account: string, amount: number) => net.set(account, (net.get(account) ?? 0) + amount);
  for (const t of agreement.repayments) {
    add(contributionAccounts[t.from]!, -t.amount_pence);
    add(contributionAccounts[t.to]!, t.amount_pence);
  }
  for (const [partner, amount] of Object.entries(agreement.to_reinvestment_pence)) {
    add(contributionAccounts[partner]!, -amount);
    add(reinvestmentAccount, amount);
  }
  return [...net]
    .filter(([, amount]) => amount !== 0)
    .map(([account, amount_pence]) => ({ account, amount_pence }));
}

/** Posts an approved agreement through the ledger (once: its key makes a repeat a no-op). */
export async function postInvestment(
  tx: Tx,
  placeId: number,
  personId: number | null,
  caseId: number,
  agreementId: number,
  choice: Pick<AgreementPosting, 'date' | 'contributionAccounts' | 'reinvestmentAccount'>,
  poster: InvestmentAgreementPoster,
) {
  const row = await getAgreement(tx, placeId, caseId, agreementId);
  if (row.decision_id === null)
    throw new Conflict('A programme-board decision must approve the agreement before it is posted');
  if (row.transaction_id !== null) throw new Conflict('This agreement is already posted');
  const { transactionId } = await poster.postAgreement(tx, {
    placeId,
    personId,
    businessCaseId: caseId,
    agreementId,
    decisionId: row.decision_id,
    agreement: row.agreement,
    ...choice,
  });
  await recordPosting(tx, placeId, personId, agreementId, transactionId);
  return { transactionId };
}
