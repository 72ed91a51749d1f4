/** What a place may record as its own unit cost, checked before it reaches the database. */
import { Invalid, type FieldErrors } from '../core/errors.ts';
import {
  CODE_PATTERN,
  EARLIEST_PRICE_YEAR,
  hasDeflator,
  LATEST_PRICE_YEAR,
  VALUE_TYPES,
  type ValueType,
} from '../reference/figures.ts';
import type { CbaLocalUnitCostsTable } from './tables.ts';

/** The columns a person supplies; the store adds the version and who recorded it. */
export type LocalUnitCostInput = Omit<
  CbaLocalUnitCostsTable,
  'place_id' | 'version' | 'withdrawn' | 'recorded_by' | 'recorded_at'
>;

function text(fields: FieldErrors, name: string, value: unknown, max: number, what: string): string {
  const s = typeof value === 'string' ? value.trim() : '';
  if (!s) fields[name] = `Enter ${what}`;
  else if (s.length > max)
    fields[name] = `${what[0]!.toUpperCase()}${what.slice(1)} must be ${max} characters or fewer`;
  return s;
}

export function validateLocalUnitCost(input: Record<string, unknown>): LocalUnitCostInput {
  const fields: FieldErrors = {};
  const code = typeof input.code === 'string' ? input.code.trim() : '';
  if (!CODE_PATTERN.test(code))
    fields.code = 'Enter a code of lower-case letters, digits and underscores, like police_callout';
  const outcome = text(fields, 'outcome', input.outcome, 200, 'the outcome or event');
  const unit = text(fields, 'unit', input.unit, 100, 'the unit, like "per incident"');
  const agency = text(fields, 'agency', input.agency, 100, 'the agency that bears the cost');
  const source = text(fields, 'source', input.source, 1000, 'the source of the figure');
  const confidence = text(
    fields,
    'confidence',
    input.confidence,
    1000,
    'a note on how far the figure can be trusted',
  );
  const cost = input.cost_pence;
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 0)
    fields.cost_pence = 'Enter the cost in whole pence, 0 or more';
  const year = input.price_year;
  if (typeof year !== 'number' || !Number.isInteger(year) || !hasDeflator(year)) {
    fields.price_year = `Enter a price year from ${EARLIEST_PRICE_YEAR} to ${LATEST_PRICE_YEAR}`;
  }
  if (!VALUE_TYPES.includes(input.value_type as ValueType))
    fields.value_type = 'Choose fiscal, economic or social';
  if (typeof input.cashable !== 'boolean') fields.cashable = 'Say whether the cost is cashable';
  if (Object.keys(fields).length) throw new Invalid('The unit cost has problems', fields);
  return {
    code,
    outcome,
    unit,
    cost_pence: cost as number,
    price_year: year as number,
    value_type: input.value_type as ValueType,
    agency,
    cashable: input.cashable as boolean,
    source,
    confidence,
  };
}
