/**
 * What other capabilities may use of the ledger: its accounts and balances, posting a balanced
 * transaction, and commitments raised, spent and listed, each in the caller's transaction so the
 * caller's change and the postings commit together. Anything else in the ledger's
 * store files is its own.
 */
export { createAccounts, listAccounts, type AccountRow } from './accounts.ts';
export { postTransactions } from './postings.ts';
export { listCommitments, raiseCommitment, spendCommitment, type CommitmentRow } from './commitments.ts';
export { type Actor } from './domain.ts';
export { listBudgets } from './agreements.ts';
export { budgetReport } from './reports.ts';
export { postedYears, type PostedYears } from './reports.ts';
