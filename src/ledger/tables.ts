import type { Generated } from 'kysely';
import type { AccountKind, BudgetMode, ContributionForm, TransactionKind } from './domain.ts';

export interface LedgerAccountsTable {
  place_id: number;
  id: Generated<number>;
  code: string;
  name: string;
  kind: AccountKind;
  partner_id: number | null;
  service: string | null;
  created_at: Generated<Date>;
}

export interface LedgerPartnerCodesTable {
  place_id: number;
  account_id: number;
  partner_id: number;
  partner_code: string;
}

export interface LedgerBalancesTable {
  place_id: number;
  account_id: number;
  balance_pence: Generated<number>;
}

export interface LedgerBudgetsTable {
  place_id: number;
  financial_year: number;
  host_partner_id: number | null;
  created_at: Generated<Date>;
}

export interface LedgerBudgetModesTable {
  place_id: number;
  id: Generated<number>;
  financial_year: number;
  mode: BudgetMode;
  effective_from: string;
  decision_id: number | null;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
}

export interface LedgerAgreementsTable {
  place_id: number;
  id: Generated<number>;
  financial_year: number;
  partner_id: number;
  funding_stream: string;
  amount_pence: number;
  form: ContributionForm;
  ring_fence: string | null;
  host_partner_id: number | null;
  overspend_share_bp: number;
  underspend_share_bp: number;
  exit_terms: Generated<string>;
  decision_id: number;
  contribution_account_id: number;
  created_at: Generated<Date>;
}

export interface LedgerTransactionsTable {
  place_id: number;
  id: Generated<number>;
  idempotency_key: string;
  fingerprint: string;
  kind: TransactionKind;
  effective_date: string;
  recorded_at: Generated<Date>;
  memo: Generated<string>;
  decision_id: number | null;
  reverses_id: number | null;
  commitment_id: number | null;
  recorded_by: number | null;
}

export interface LedgerPostingsTable {
  place_id: number;
  transaction_id: number;
  leg: number;
  account_id: number;
  amount_pence: number;
  effective_date: string;
}

export interface LedgerCommitmentsTable {
  place_id: number;
  id: Generated<number>;
  source_account_id: number;
  commitment_account_id: number;
  description: string;
  amount_pence: number;
  spent_pence: Generated<number>;
  released_pence: Generated<number>;
  raised_on: string;
  decision_id: number | null;
}

export interface LedgerPeriodsTable {
  place_id: number;
  financial_year: number;
  closed: Generated<boolean>;
}

export interface LedgerPeriodEventsTable {
  place_id: number;
  id: Generated<number>;
  financial_year: number;
  action: 'close' | 'reopen';
  decision_id: number | null;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
}

export interface LedgerTables {
  ledger_accounts: LedgerAccountsTable;
  ledger_partner_codes: LedgerPartnerCodesTable;
  ledger_balances: LedgerBalancesTable;
  ledger_budgets: LedgerBudgetsTable;
  ledger_budget_modes: LedgerBudgetModesTable;
  ledger_agreements: LedgerAgreementsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_postings: LedgerPostingsTable;
  ledger_commitments: LedgerCommitmentsTable;
  ledger_periods: LedgerPeriodsTable;
  ledger_period_events: LedgerPeriodEventsTable;
}
