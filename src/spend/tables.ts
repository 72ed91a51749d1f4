import type { Generated, JSONColumnType } from 'kysely';
import type { RuleField } from './domain.ts';
import type { ColumnRole, Encoding, ExclusionKind } from './parse.ts';

type Columns = JSONColumnType<Partial<Record<ColumnRole, string>>>;

export interface SpendProfilesTable {
  place_id: number;
  name: string;
  partner_id: number | null;
  columns: Columns;
  updated_at: Generated<Date>;
}

export interface SpendImportsTable {
  place_id: number;
  id: Generated<number>;
  file_name: string;
  sha256: string;
  bytes: number;
  encoding: Encoding;
  header_line: number;
  columns: Columns;
  profile_name: string | null;
  partner_id: number | null;
  rows: Generated<number>;
  rejected: Generated<number>;
  total_pence: Generated<number>;
  imported_by: number | null;
  imported_at: Generated<Date>;
}

export interface SpendLinesTable {
  place_id: number;
  import_id: number;
  line: number;
  row_key: string;
  paid_on: string;
  amount_pence: number;
  supplier: string;
  transaction_id: string;
  body: string;
  expense_area: string;
  expense_type: string;
  account_code: string;
}

export interface SpendExclusionsTable {
  place_id: number;
  import_id: number;
  line: number;
  kind: ExclusionKind;
  reason: string;
  raw: string;
}

export interface ClassificationRulesTable {
  place_id: number;
  id: Generated<number>;
  field: RuleField;
  value: string;
  service_id: number;
  priority: Generated<number>;
}

export interface SpendUploadsTable {
  place_id: number;
  id: Generated<number>;
  file_name: string;
  content: Uint8Array;
  partner_id: number | null;
  uploaded_by: number | null;
  uploaded_at: Generated<Date>;
}

export interface SpendTables {
  spend_uploads: SpendUploadsTable;
  spend_profiles: SpendProfilesTable;
  spend_imports: SpendImportsTable;
  spend_lines: SpendLinesTable;
  spend_exclusions: SpendExclusionsTable;
  classification_rules: ClassificationRulesTable;
}
