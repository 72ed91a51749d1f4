/**
 * What the cost-benefit capability needs from modules built elsewhere, as small explicit
 * interfaces: the ledger posts an approved investment agreement, and the families module reports
 * what its costed events show for a cohort. src/wiring/ implements both and src/app.ts passes
 * them to the cba plugins as `CbaPorts`.
 */
import type { Tx } from '../core/db.ts';
import type { InvestmentAgreement } from './domain.ts';
import type { RealisedEvents } from './forecast.ts';

export interface AgreementPosting {
  placeId: number;
  personId: number | null;
  decisionId: number;
  businessCaseId: number;
  agreementId: number;
  agreement: InvestmentAgreement;
  /** The effective date of the postings, YYYY-MM-DD. */
  date: string;
  /** The ledger contribution account of each partner the agreement names. */
  contributionAccounts: Record<string, string>;
  /** The pot's savings reinvestment account. */
  reinvestmentAccount: string;
}

/** The ledger's side: turn an agreement a board decision approved into one transaction. */
export interface InvestmentAgreementPoster {
  postAgreement(tx: Tx, input: AgreementPosting): Promise<{ transactionId: number }>;
}

/** The families module's side: events of the families taken on in a window, before and after. */
export interface RealisedOutcomesSource {
  realisedEvents(
    tx: Tx,
    input: { placeId: number; takenOnFrom: string; takenOnTo: string; today: string },
  ): Promise<{ families: number; tooRecent: number; events: RealisedEvents[] }>;
}

/** What the cba plugins are given by src/app.ts (built in src/wiring/). */
export interface CbaPorts {
  agreementPoster: InvestmentAgreementPoster;
  realisedOutcomes: RealisedOutcomesSource;
}
