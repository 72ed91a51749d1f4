import { parse } from 'csv-parse/sync';
import { assert, Invalid, type FieldErrors } from '../core/errors.ts';
import { isIsoDate } from '../core/dates.ts';

export const BETTER = ['higher', 'lower'] as const;
export type Better = (typeof BETTER)[number];
export const FREQUENCIES = ['annual', 'quarterly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export const LINK_KINDS = ['service', 'spend', 'business_case'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

export const LINK_KIND_LABELS: Record<LinkKind, string> = {
  service: 'Service',
  spend: 'Spend from the pot (ledger account)',
  business_case: 'Business case',
};

export const STATUSES = ['on_track', 'at_risk', 'off_track', 'no_data'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<Status, string> = {
  on_track: 'On track',
  at_risk: 'At risk',
  off_track: 'Off track',
  no_data: 'No actual yet',
};

/** How far short of the trajectory an indicator may fall, as a share of it, before its status drops. */
export const ON_TRACK_TOLERANCE = 0.05;
export const AT_RISK_TOLERANCE = 0.15;

/** The status rule in words, shown on every page that shows a status. */
export const STATUS_RULE =
  'On track: at or better than the trajectory, or no more than 5% short of it. ' +
  'At risk: more than 5% and up to 15% short. Off track: more than 15% short. ' +
  '“Short” means below the trajectory where a higher value is better, and above it where a lower value is better; ' +
  'it is measured as a share of the trajectory’s value for that period (of the baseline when the trajectory is zero).';

export interface Point {
  value: number;
  date: string;
}

export interface IndicatorShape {
  better: Better;
  frequency: Frequency;
  baseline: Point;
  target: Point;
}

/** Days since 1970-01-01 for a 'YYYY-MM-DD' date, in UTC so no clock change shifts it. */
function dayNumber(isoDate: string): number {
  assert(isIsoDate(isoDate), `a date is YYYY-MM-DD, got ${isoDate}`);
  return Date.parse(`${isoDate}T00:00:00Z`) / 86_400_000;
}

/**
 * The value the straight line from baseline to target expects on a date: before the baseline
 * it is the baseline, after the target date the target (a target met should stay met).
 */
export function linearExpected(shape: Pick<IndicatorShape, 'baseline' | 'target'>, date: string): number {
  const start = dayNumber(shape.baseline.date);
  const end = dayNumber(shape.target.date);
  const at = Math.min(Math.max(dayNumber(date), start), end);
  const share = (at - start) / (end - start);
  return shape.baseline.value + (shape.target.value - shape.baseline.value) * share;
}

/**
 * The period ends from the baseline to the target date: financial year ends (31 March) for
 * annual indicators, quarter ends (30 June, 30 September, 31 December, 31 March) for quarterly.
 * The target date is always the last period, even when it is not a period end.
 */
export function periodEnds(shape: Pick<IndicatorShape, 'frequency' | 'baseline' | 'target'>): string[] {
  const ends = shape.frequency === 'annual' ? ['03-31'] : ['03-31', '06-30', '09-30', '12-31'];
  const startYear = Number(shape.baseline.date.slice(0, 4));
  const endYear = Number(shape.target.date.slice(0, 4));
  assert(endYear - startYear <= 50, 'an indicator runs for at most 50 years');
  const out: string[] = [];
  for (let year = startYear; year <= endYear; year++) {
    for (const monthDay of ends) {
      const date = `${year}-${monthDay}`;
      if (date > shape.baseline.date && date < shape.target.date) out.push(date);
    }
  }
  out.push(shape.target.date);
  return out;
}

export interface TrajectoryPoint {
  period_end: string;
  expected: number;
  /** Whether someone entered it, or it is on the straight line. */
  entered: boolean;
}

/** Expected value per period: the entered points where there are some, the straight line elsewhere. */
export function trajectory(
  shape: IndicatorShape,
  entered: { period_end: string; expected: number }[],
): TrajectoryPoint[] {
  const byPeriod = new Map(entered.map((p) => [p.period_end, p.expected]));
  const periods = [...new Set([...periodEnds(shape), ...byPeriod.keys()])].sort();
  return periods.map((period_end) => {
    const value = byPeriod.get(period_end);
    return value === undefined
      ? { period_end, expected: linearExpected(shape, period_end), entered: false }
      : { period_end, expected: value, entered: true };
  });
}

/** The expected value for a period: an entered point if there is one for it, else the line. */
export function expectedFor(
  shape: IndicatorShape,
  entered: { period_end: string; expected: number }[],
  period: string,
): number {
  const point = entered.find((p) => p.period_end === period);
  return point ? point.expected : linearExpected(shape, period);
}

/**
 * How far the actual value falls short of the expected one, as a share of the expected value
 * (of the baseline when the expected value is zero, and in absolute terms when both are).
 * Zero or negative means at or better than the trajectory.
 */
export function shortfall(better: Better, actual: number, expected: number, baseline: number): number {
  const gap = better === 'higher' ? expected - actual : actual - expected;
  const scale = Math.abs(expected) || Math.abs(baseline) || 1;
  return gap / scale;
}

export function statusOf(
  better: Better,
  actual: number,
  expected: number,
  baseline: number,
): Exclude<Status, 'no_data'> {
  const short = shortfall(better, actual, expected, baseline);
  // A hair of float error must not turn exactly 5% short into "at risk".
  const epsilon = 1e-9;
  if (short <= ON_TRACK_TOLERANCE + epsilon) return 'on_track';
  if (short <= AT_RISK_TOLERANCE + epsilon) return 'at_risk';
  return 'off_track';
}

/**
 * Progress from baseline to target, 0 at the baseline and 1 at the target, direction-aware
 * because the target lies on the better side of the baseline. Not capped: 1.2 means beyond it.
 */
export function progressToTarget(shape: Pick<IndicatorShape, 'baseline' | 'target'>, actual: number): number {
  const span = shape.target.value - shape.baseline.value;
  if (span === 0) return 1;
  return (actual - shape.baseline.value) / span;
}

/** An indicator's own fields, as stored, asked for by the API and laid out on the form, in that order. */
export const INDICATOR_FIELDS = [
  'title',
  'definition',
  'unit',
  'source',
  'better',
  'frequency',
  'baseline_value',
  'baseline_date',
  'target_value',
  'target_date',
] as const;

export interface NewIndicator {
  title: string;
  definition: string;
  unit: string;
  source: string;
  better: Better;
  frequency: Frequency;
  baseline: Point;
  target: Point;
  trajectory: { period_end: string; expected: number }[];
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** A number as a person types it: "1,250", "62.5", "-3"; not "", not "12%". */
export function parseNumber(value: unknown): number | null {
  const t = typeof value === 'number' ? value : text(value).replaceAll(',', '');
  if (typeof t === 'string' && !/^-?\d+(\.\d+)?$/.test(t)) return null;
  const n = Number(t);
  // Beyond a thousand million million no indicator is meaningful, and arithmetic on it stops being exact.
  return Number.isFinite(n) && Math.abs(n) < 1e15 ? n : null;
}

function requireText(fields: FieldErrors, name: string, value: unknown, label: string, max: number): string {
  const t = text(value);
  if (!t) fields[name] = `Enter the ${label}`;
  else if (t.length > max)
    fields[name] = `The ${label} must be ${max.toLocaleString('en-GB')} characters or fewer`;
  return t;
}

/**
 * Trajectory points as typed in the form, one "period end, expected value" per line
 * (e.g. "2014-03-31, 65"), or as the API's array.
 */
export function parseTrajectory(
  input: unknown,
  fields: FieldErrors,
): { period_end: string; expected: number }[] {
  const rows: { period_end: unknown; expected: unknown; line: number }[] = Array.isArray(input)
    ? input.map((p: { period_end?: unknown; expected?: unknown }, i) => ({
        period_end: p?.period_end,
        expected: p?.expected,
        line: i + 1,
      }))
    : text(input)
        .split(/\r?\n/)
        .map((line, i) => ({ parts: line.split(','), line: i + 1 }))
        .filter((r) => r.parts.join('').trim() !== '')
        .map((r) => ({
          period_end: r.parts[0]?.trim(),
          expected: r.parts.slice(1).join(',').trim(),
          line: r.line,
        }));
  const out: { period_end: string; expected: number }[] = [];
  for (const row of rows) {
    const date = text(row.period_end);
    const expected = parseNumber(row.expected);
    if (!isIsoDate(date) || expected === null) {
      fields.trajectory = `Line ${row.line}: enter a period end as YYYY-MM-DD and an expected value, like 2014-03-31, 65`;
      return [];
    }
    if (out.some((p) => p.period_end === date)) {
      fields.trajectory = `Line ${row.line}: ${date} is already in the trajectory`;
      return [];
    }
    out.push({ period_end: date, expected });
  }
  return out.sort((a, b) => a.period_end.localeCompare(b.period_end));
}

/** Validates a new indicator from the form or the API; GOV.UK style messages per field. */
export function validateNewIndicator(input: Record<string, unknown>): NewIndicator {
  const fields: FieldErrors = {};
  const title = requireText(fields, 'title', input.title, 'indicator’s name', 200);
  const definition = requireText(fields, 'definition', input.definition, 'definition', 2000);
  const unit = requireText(fields, 'unit', input.unit, 'unit', 60);
  const source = requireText(fields, 'source', input.source, 'source of the data', 500);
  const better = input.better as Better;
  if (!BETTER.includes(better)) fields.better = 'Select whether a higher or a lower value is better';
  const frequency = input.frequency as Frequency;
  if (!FREQUENCIES.includes(frequency)) fields.frequency = 'Select how often the indicator is measured';
  const baselineValue = parseNumber(input.baseline_value);
  if (baselineValue === null) fields.baseline_value = 'Enter the baseline as a number, like 62.5';
  const baselineDate = text(input.baseline_date);
  if (!isIsoDate(baselineDate))
    fields.baseline_date = 'Enter the baseline date as YYYY-MM-DD, like 2012-03-31';
  const targetValue = parseNumber(input.target_value);
  if (targetValue === null) fields.target_value = 'Enter the target as a number, like 80';
  const targetDate = text(input.target_date);
  if (!isIsoDate(targetDate)) fields.target_date = 'Enter the target date as YYYY-MM-DD, like 2016-03-31';
  else if (isIsoDate(baselineDate) && targetDate <= baselineDate)
    fields.target_date = 'The target date must be after the baseline date';
  else if (
    isIsoDate(baselineDate) &&
    Number(targetDate.slice(0, 4)) - Number(baselineDate.slice(0, 4)) > 50
  ) {
    fields.target_date = 'The target date must be within 50 years of the baseline';
  }
  if (baselineValue !== null && targetValue !== null && BETTER.includes(better)) {
    const wrongWay = better === 'higher' ? targetValue < baselineValue : targetValue > baselineValue;
    if (wrongWay)
      fields.target_value = `The target must be ${better === 'higher' ? 'at least' : 'at most'} the baseline when a ${better} value is better`;
  }
  const points = parseTrajectory(input.trajectory ?? '', fields);
  if (!fields.trajectory && !fields.baseline_date && !fields.target_date) {
    const outside = points.find((p) => p.period_end <= baselineDate || p.period_end > targetDate);
    if (outside) fields.trajectory = `${outside.period_end} is outside the baseline date to the target date`;
  }
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the indicator', fields);
  return {
    title,
    definition,
    unit,
    source,
    better,
    frequency,
    baseline: { value: baselineValue!, date: baselineDate },
    target: { value: targetValue!, date: targetDate },
    trajectory: points,
  };
}

export interface ActualValue {
  period_end: string;
  value: number;
  note: string;
}

/** One actual value typed into the form or sent to the API. */
export function validateActual(input: Record<string, unknown>, baselineDate: string): ActualValue {
  const fields: FieldErrors = {};
  const period = text(input.period_end);
  if (!isIsoDate(period)) fields.period_end = 'Enter the period end as YYYY-MM-DD, like 2014-03-31';
  else if (period <= baselineDate)
    fields.period_end = `The period must end after the baseline date (${baselineDate})`;
  const value = parseNumber(input.value);
  if (value === null) fields.value = 'Enter the value as a number, like 64.2';
  const note = text(input.note);
  if (note.length > 500) fields.note = 'The note must be 500 characters or fewer';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the value', fields);
  return { period_end: period, value: value!, note };
}

/** At most this many lines in one import: a decade of monthly values is far below it. */
export const MAX_IMPORT_LINES = 5_000;

/**
 * Parses a CSV of actual values with the header `period_end,value` and an optional `note`
 * column. All or nothing: any bad line makes the whole file fail, each reason with its line.
 */
export function parseActualsCsv(csv: string, baselineDate: string): ActualValue[] {
  let records: string[][];
  try {
    records = parse(csv, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true });
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new Invalid('The file could not be read as CSV', {
      csv: `Line ${line ?? 1}: ${(err as Error).message}`,
    });
  }
  if (records.length === 0)
    throw new Invalid('The file is empty', {
      csv: 'The file is empty: add a header line and at least one value',
    });
  const header = records[0]!.map((h) => h.toLowerCase());
  const periodAt = header.indexOf('period_end');
  const valueAt = header.indexOf('value');
  const noteAt = header.indexOf('note');
  if (periodAt < 0 || valueAt < 0) {
    throw new Invalid('The file needs a header line', {
      csv: 'Line 1: the header must name the columns period_end and value (and optionally note)',
    });
  }
  if (records.length - 1 > MAX_IMPORT_LINES) {
    throw new Invalid('The file is too long', {
      csv: `The file has ${records.length - 1} values; import at most ${MAX_IMPORT_LINES} at a time`,
    });
  }
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const values: ActualValue[] = [];
  records.slice(1).forEach((record, i) => {
    const line = i + 2;
    try {
      const value = validateActual(
        { period_end: record[periodAt], value: record[valueAt], note: noteAt >= 0 ? record[noteAt] : '' },
        baselineDate,
      );
      const earlier = seen.get(value.period_end);
      if (earlier)
        throw new Invalid('duplicate', { period_end: `${value.period_end} is also on line ${earlier}` });
      seen.set(value.period_end, line);
      values.push(value);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      problems.push(`Line ${line}: ${Object.values(err.fields ?? {}).join('; ')}`);
    }
  });
  if (problems.length) {
    const shown =
      problems.slice(0, 20).join('\n') + (problems.length > 20 ? `\n…and ${problems.length - 20} more` : '');
    throw new Invalid(
      `Nothing was imported: ${problems.length} line${problems.length === 1 ? '' : 's'} need fixing`,
      { csv: shown },
    );
  }
  return values;
}

export interface NewLink {
  kind: LinkKind;
  ref_id: number;
  label: string;
}

export function validateLink(input: Record<string, unknown>): NewLink {
  const fields: FieldErrors = {};
  const kind = input.kind as LinkKind;
  if (!LINK_KINDS.includes(kind)) fields.kind = 'Select what the indicator is linked to';
  const ref = Number(input.ref_id);
  if (!Number.isSafeInteger(ref) || ref < 1)
    fields.ref_id = 'Enter the reference number, a whole number like 12';
  const label = text(input.label);
  if (label.length > 200) fields.label = 'The description must be 200 characters or fewer';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the link', fields);
  return { kind, ref_id: ref, label };
}

export interface IndicatorAssessment {
  status: Status;
  latest: { period_end: string; value: number; expected: number; shortfall: number } | null;
  progress: number | null;
}

/** The status of an indicator on its latest actual value, against the trajectory for that period. */
export function assess(
  shape: IndicatorShape,
  entered: { period_end: string; expected: number }[],
  actuals: { period_end: string; value: number }[],
): IndicatorAssessment {
  const latest = [...actuals].sort((a, b) => a.period_end.localeCompare(b.period_end)).at(-1);
  if (!latest) return { status: 'no_data', latest: null, progress: null };
  const expected = expectedFor(shape, entered, latest.period_end);
  return {
    status: statusOf(shape.better, latest.value, expected, shape.baseline.value),
    latest: {
      ...latest,
      expected,
      shortfall: shortfall(shape.better, latest.value, expected, shape.baseline.value),
    },
    progress: progressToTarget(shape, latest.value),
  };
}
