/**
 * What the cost-benefit capability needs from modules built elsewhere, as small explicit
 * interfaces: the ledger posts an approved investment agreement, and the families module reports
 * what its costed events show for a cohort. Neither is wired yet (see src/cba/README.md).
 */
import type { Pence } from '../core/money.ts';
import type { Tx } from '../core/db.ts';
import type { InvestmentAgreement } from './domain.ts';

/** The ledger's side: turn an agreement a board decision approved into postings. */
export interface InvestmentAgreementPoster {
  postAgreement(tx: Tx, input: { placeId: number; decisionId: number; businessCaseId: number; agreement: InvestmentAgreement }): Promise<{ postingIds: number[] }>;
}

/** The families module's side: costed events for a cohort after the date the case took it on. */
export interface RealisedOutcomesSource {
  realisedCosts(
    tx: Tx,
    input: { placeId: number; cohortId: number; since: string; priceYear: number },
  ): Promise<{ code: string; events: number; cost_pence: Pence; agency: string }[]>;
}
