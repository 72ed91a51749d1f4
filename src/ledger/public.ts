/**
 * What other capabilities may use of the ledger: its accounts and balances, posting a balanced
 * transaction, and commitments raised, spent and listed, each in the caller's transaction so the
 * caller's change and the postings commit together. Anything else in the ledger's
 * store files is its own.
 */
export {
  createAccounts,
  listAccounts,
  listCommitments,
  postTransactions,
  raiseCommitment,
  spendCommitment,
  type AccountRow,
  type Actor,
  type CommitmentRow,
} from './store.ts';
export { listBudgets } from './agreements.ts';
export { budgetReport } from './reports.ts';
export { postedYears, type PostedYears } from './reports.ts';
