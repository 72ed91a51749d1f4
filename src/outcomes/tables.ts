import type { ColumnType, Generated } from 'kysely';
import type { LinkKind, NewIndicator } from './domain.ts';

/** numeric columns come back as exact strings; the store turns them into numbers. */
type Numeric = ColumnType<string, number | string, number | string>;

/** An indicator is stored as it was defined (NewIndicator), its baseline and target in columns. */
export interface IndicatorsTable extends Pick<
  NewIndicator,
  'title' | 'definition' | 'unit' | 'source' | 'better' | 'frequency'
> {
  place_id: number;
  id: Generated<number>;
  baseline_value: Numeric;
  baseline_date: string;
  target_value: Numeric;
  target_date: string;
  created_by: number | null;
  created_at: Generated<Date>;
}

export interface IndicatorTrajectoryTable {
  place_id: number;
  indicator_id: number;
  period_end: string;
  expected: Numeric;
}

export interface IndicatorActualsTable {
  place_id: number;
  indicator_id: number;
  period_end: string;
  revision: number;
  value: Numeric;
  note: Generated<string>;
  entered_by: number | null;
  entered_at: Generated<Date>;
}

export interface IndicatorLinksTable {
  place_id: number;
  indicator_id: number;
  kind: LinkKind;
  ref_id: number;
  label: Generated<string>;
  linked_by: number | null;
  linked_at: Generated<Date>;
}

export interface OutcomesTables {
  indicators: IndicatorsTable;
  indicator_trajectory: IndicatorTrajectoryTable;
  indicator_actuals: IndicatorActualsTable;
  indicator_links: IndicatorLinksTable;
}
