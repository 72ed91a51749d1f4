/**
 * The business case editor's forms: what a person types (pounds, percentages, text) turned into
 * the documented JSON model and back. The model's own reader (parseBusinessCase) stays the one
 * judge of a whole case; these functions only check what a form adds (pounds, percentages) and
 * name its problems by the form's field names.
 */
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { formatPounds, parsePounds } from '../core/money.ts';
import {
  GREEN_BOOK_DISCOUNT_RATE,
  parseBusinessCase,
  type BenefitLine,
  type BusinessCase,
  type CostLine,
} from './domain.ts';
import { textField } from '../core/form-fields.ts';

export type Body = Record<string, string | undefined>;

const trimmed = textField;

/** A percentage typed as "15" or "15%" as a rate of 0.15; NaN (and a field error) otherwise. */
function percentField(body: Body, field: string, fields: FieldErrors, label: string): number {
  const typed = trimmed(body, field).replace(/%$/, '').trim();
  const value = Number(typed);
  if (!typed || !Number.isFinite(value) || value < 0 || value > 100) {
    fields[field] = `Enter ${label} as a percentage from 0 to 100`;
    return NaN;
  }
  // Rounded so that 3.5% is stored as 0.035, not 0.035000000000000003.
  return Math.round(value * 1e4) / 1e6;
}

/** Whole numbers and decimals go to the model as typed; its reader judges the range. */
function numberField(body: Body, field: string): number | string {
  const typed = trimmed(body, field).replaceAll(',', '');
  return typed && Number.isFinite(Number(typed)) ? Number(typed) : typed;
}

const asPercent = (rate: number) => String(Math.round(rate * 1e6) / 1e4);

/**
 * Re-reads the edited model, naming its problems by form field; `toField` maps the model paths
 * the form edits, and anything else (a cost line left outside a shortened period) is described.
 */
function judged(
  model: unknown,
  formFields: FieldErrors,
  toField: (path: string) => string | undefined,
): BusinessCase {
  try {
    const parsed = parseBusinessCase(model);
    if (Object.keys(formFields).length) throw new Invalid('Check the form', {});
    return parsed;
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    const fields: FieldErrors = { ...formFields };
    for (const [path, message] of Object.entries(err.fields ?? {})) {
      const field = toField(path);
      // A number the form could not read is already named; the model's "Enter a number" adds nothing.
      if (field) fields[field] ??= message;
      else fields[path] ??= `${describePath(path)}: ${message}`;
    }
    throw new Invalid('The business case has problems', fields);
  }
}

/** "costs[2].year" as "Cost line 3, year" for problems outside the form being saved. */
function describePath(path: string): string {
  const m = /^(costs|benefits)\[(\d+)\]\.?(.*)$/.exec(path);
  if (!m) return path;
  return `${m[1] === 'costs' ? 'Cost line' : 'Benefit line'} ${Number(m[2]) + 1}${m[3] ? `, ${m[3]}` : ''}`;
}

// ---- Settings: the intervention, the price base, the discount rate -------------------------------

const SETTINGS_FIELDS: Record<string, string> = {
  title: 'title',
  intervention: 'intervention',
  priceYear: 'price_year',
  firstYear: 'first_year',
  years: 'years',
  discountRate: 'discount_rate',
};
export const SETTINGS_ORDER = Object.values(SETTINGS_FIELDS);

export function settingsValues(model: BusinessCase): Body {
  return {
    title: model.title,
    intervention: model.intervention,
    price_year: String(model.priceYear),
    first_year: String(model.firstYear),
    years: String(model.years),
    discount_rate: asPercent(model.discountRate),
  };
}

export const newCaseValues = (priceYear: number, firstYear: number): Body => ({
  price_year: String(priceYear),
  first_year: String(firstYear),
  years: '5',
  discount_rate: asPercent(GREEN_BOOK_DISCOUNT_RATE),
});

/** The settings form applied to a case (an empty one for a new case). */
export function applySettings(model: BusinessCase | null, body: Body): BusinessCase {
  const fields: FieldErrors = {};
  const discountRate = percentField(body, 'discount_rate', fields, 'the discount rate');
  if (discountRate > 0.2) fields.discount_rate = 'Enter a discount rate of 20% or less';
  const edited = {
    ...(model ?? { costs: [], benefits: [] }),
    title: trimmed(body, 'title'),
    intervention: trimmed(body, 'intervention'),
    priceYear: numberField(body, 'price_year'),
    firstYear: numberField(body, 'first_year'),
    years: numberField(body, 'years'),
    discountRate: Number.isNaN(discountRate) ? GREEN_BOOK_DISCOUNT_RATE : discountRate,
  };
  return judged(edited, fields, (path) => SETTINGS_FIELDS[path]);
}

// ---- Costs by year and paying partner ------------------------------------------------------------

export const COST_ORDER = ['partner', 'year', 'amount', 'description'];

export function addCost(model: BusinessCase, body: Body): BusinessCase {
  const fields: FieldErrors = {};
  let amountPence = 0;
  try {
    amountPence = parsePounds(trimmed(body, 'amount'), 'amount');
    if (amountPence <= 0) fields.amount = 'Enter a cost of more than £0.00';
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    Object.assign(fields, err.fields);
  }
  const description = trimmed(body, 'description');
  if (description.length > 200) fields.description = 'Enter at most 200 characters';
  const line = {
    partner: trimmed(body, 'partner'),
    year: numberField(body, 'year'),
    amountPence,
    ...(description ? { description } : {}),
  };
  const at = model.costs.length;
  const names: Record<string, string> = { partner: 'partner', year: 'year', amountPence: 'amount' };
  return judged({ ...model, costs: [...model.costs, line] }, fields, (path) => {
    const m = new RegExp(`^costs\\[${at}\\]\\.(\\w+)$`).exec(path);
    return m ? names[m[1]!] : undefined;
  });
}

export const costRows = (costs: CostLine[]) =>
  costs.map((c, i) => ({
    n: i + 1,
    partner: c.partner,
    year: c.year,
    amount: formatPounds(c.amountPence),
    description: c.description ?? '',
  }));

// ---- Benefit lines -------------------------------------------------------------------------------

const BENEFIT_FIELDS: Record<string, string> = {
  outcome: 'outcome',
  unitCost: 'unit_cost',
  cohort: 'cohort',
  engagement: 'engagement',
  success: 'success',
  deadweight: 'deadweight',
  confidenceGrade: 'confidence_grade',
  optimismBias: 'optimism_bias',
  optimismBiasReason: 'optimism_bias_reason',
  startYear: 'start_year',
  durationYears: 'duration_years',
  dropOff: 'drop_off',
  beneficiary: 'beneficiary',
};
export const BENEFIT_ORDER = Object.values(BENEFIT_FIELDS);

/** The option that keeps a unit cost written into the case itself (from the JSON format). */
export const INLINE_UNIT_COST = '_in_case';

export function benefitValues(line: BenefitLine): Body {
  return {
    outcome: line.outcome,
    unit_cost: typeof line.unitCost === 'string' ? line.unitCost : INLINE_UNIT_COST,
    cohort: String(line.cohort),
    engagement: asPercent(line.engagement),
    success: asPercent(line.success),
    deadweight: asPercent(line.deadweight),
    confidence_grade: String(line.confidenceGrade),
    optimism_bias: line.optimismBias === undefined ? '' : asPercent(line.optimismBias),
    optimism_bias_reason: line.optimismBiasReason ?? '',
    start_year: String(line.startYear),
    duration_years: String(line.durationYears),
    drop_off: asPercent(line.dropOff),
    beneficiary: line.beneficiary ?? '',
  };
}

export const newBenefitValues = (): Body => ({
  confidence_grade: '3',
  start_year: '1',
  duration_years: '1',
  drop_off: '0',
  deadweight: '0',
});

/** Puts the form's line at index `at` (a new line when `at` is the number of lines). */
export function saveBenefit(model: BusinessCase, at: number, body: Body): BusinessCase {
  const fields: FieldErrors = {};
  const rate = (field: string, label: string) => percentField(body, field, fields, label);
  const chosen = trimmed(body, 'unit_cost');
  const previous = model.benefits[at]?.unitCost;
  const unitCost =
    chosen === INLINE_UNIT_COST && previous !== undefined && typeof previous !== 'string' ? previous : chosen;
  if (!chosen) fields.unit_cost = 'Choose the unit cost the outcome is valued at';
  const line: Record<string, unknown> = {
    outcome: trimmed(body, 'outcome'),
    unitCost,
    cohort: numberField(body, 'cohort'),
    engagement: rate('engagement', 'the engagement rate'),
    success: rate('success', 'the success rate'),
    deadweight: rate('deadweight', 'the deadweight'),
    confidenceGrade: numberField(body, 'confidence_grade'),
    startYear: numberField(body, 'start_year'),
    durationYears: numberField(body, 'duration_years'),
    dropOff: rate('drop_off', 'the drop-off'),
  };
  if (trimmed(body, 'optimism_bias')) {
    line.optimismBias = rate('optimism_bias', 'the optimism bias');
    line.optimismBiasReason = trimmed(body, 'optimism_bias_reason');
  }
  if (trimmed(body, 'beneficiary')) line.beneficiary = trimmed(body, 'beneficiary');
  const benefits = [...model.benefits];
  benefits[at] = line as unknown as BenefitLine;
  return judged({ ...model, benefits }, fields, (path) => {
    const m = new RegExp(`^benefits\\[${at}\\]\\.(\\w+)`).exec(path);
    return m ? BENEFIT_FIELDS[m[1]!] : undefined;
  });
}

export function removeLine(model: BusinessCase, kind: 'costs' | 'benefits', n: number): BusinessCase {
  return { ...model, [kind]: model[kind].filter((_, i) => i !== n - 1) };
}
