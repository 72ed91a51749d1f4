import type { Generated, JSONColumnType } from 'kysely';
import type { InvestmentAgreement } from './domain.ts';
import type { ValueType } from '../reference/figures.ts';

export interface CbaLocalUnitCostsTable {
  place_id: number;
  code: string;
  version: number;
  outcome: string;
  unit: string;
  cost_pence: number;
  price_year: number;
  value_type: ValueType;
  agency: string;
  cashable: boolean;
  source: string;
  confidence: string;
  withdrawn: Generated<boolean>;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
}

export interface CbaBusinessCasesTable {
  place_id: number;
  id: Generated<number>;
  title: string;
  model: JSONColumnType<object, string, string>;
  revision: Generated<number>;
  created_by: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CbaInvestmentAgreementsTable {
  place_id: number;
  id: Generated<number>;
  business_case_id: number;
  case_revision: number;
  agreement: JSONColumnType<InvestmentAgreement, string, string>;
  /** The present value of the fiscal benefits of the revision proposed; null if proposed before it was kept. */
  forecast_savings_pence: number | null;
  proposed_by: number | null;
  proposed_at: Generated<Date>;
  decision_id: number | null;
  approved_at: Date | null;
  transaction_id: number | null;
  posted_at: Date | null;
}

export interface CbaCaseCohortsTable {
  place_id: number;
  business_case_id: number;
  taken_on_from: string;
  taken_on_to: string;
  linked_by: number | null;
  linked_at: Generated<Date>;
}

export interface CbaTables {
  cba_local_unit_costs: CbaLocalUnitCostsTable;
  cba_business_cases: CbaBusinessCasesTable;
  cba_investment_agreements: CbaInvestmentAgreementsTable;
  cba_case_cohorts: CbaCaseCohortsTable;
}
