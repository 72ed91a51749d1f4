import type { Generated, JSONColumnType } from 'kysely';
import type { ValueType } from './reference.ts';

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

export interface CbaTables {
  cba_local_unit_costs: CbaLocalUnitCostsTable;
  cba_business_cases: CbaBusinessCasesTable;
}
