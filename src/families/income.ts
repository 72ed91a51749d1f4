import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';

export interface ClaimIncome {
  placeId: number;
  claimId: number;
  familyReference: string;
  amount: Pence;
  approvedBy: number;
}

/**
 * Posts an approved payment-by-results claim to the place's pot as income, in the caller's
 * transaction, and returns the ledger's reference for the posting (null when it was not posted).
 * The ledger implements it (src/wiring/pot-income.ts), passed in from src/app.ts.
 */
export interface PotIncome {
  postClaim(tx: Tx, claim: ClaimIncome): Promise<string | null>;
}

/** What the families plugins are given by src/app.ts (built in src/wiring/). */
export interface FamilyPorts {
  potIncome: PotIncome;
}
