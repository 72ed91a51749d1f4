/**
 * The published reference figures both the families module and cost-benefit analysis stand on:
 * the national unit cost database, the event unit costs families are costed with, HM Treasury GDP
 * deflators and the optimism bias table. Each figure's source is in its data file (data/), not
 * here, and every file is read through `readReference`, the one loader.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, Invalid } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';

export const VALUE_TYPES = ['fiscal', 'economic', 'social'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** One version of a unit cost: national (placeId null, from the data file) or a place's own. */
export interface UnitCost {
  code: string;
  version: number;
  outcome: string;
  unit: string;
  cost_pence: Pence;
  /** The financial year the cost is priced in, by its first calendar year: 2013 is 2013/14. */
  price_year: number;
  value_type: ValueType;
  agency: string;
  cashable: boolean;
  source: string;
  confidence: string;
  place_id: number | null;
}

export interface EventCode {
  code: string;
  outcome: string;
  unit: string;
}

export interface OptimismBiasGrade {
  grade: number;
  correction: number;
  evidence: string;
}

const DATA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data');

/** Where a reference data file is: `referenceFile('gdp-deflators.json')`. */
export function referenceFile(file: string): string {
  return path.join(DATA_DIR, file);
}

/** Reads a reference data file (JSON), or any other file of the same shape given by its path. */
export function readReference<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.isAbsolute(file) ? file : referenceFile(file), 'utf8')) as T;
}

export const CODE_PATTERN = /^[a-z][a-z0-9_]{1,59}$/;

/** National rows are checked when loaded: a bad data file must fail loudly, not cost wrongly. */
function checkNational(entry: Omit<UnitCost, 'version' | 'place_id'>, edition: number): UnitCost {
  assert(CODE_PATTERN.test(entry.code), `unit cost code ${entry.code} is malformed`);
  pence(entry.cost_pence);
  assert(entry.cost_pence >= 0, `${entry.code}: a unit cost is not negative`);
  assert(VALUE_TYPES.includes(entry.value_type), `${entry.code}: value_type ${entry.value_type}`);
  assert(
    entry.source.length > 0 && entry.confidence.length > 0,
    `${entry.code}: source and confidence are required`,
  );
  return { ...entry, version: edition, place_id: null };
}

const unitCostFile = readReference<{ edition: number; entries: Omit<UnitCost, 'version' | 'place_id'>[] }>(
  'unit-costs.json',
);
export const NATIONAL_UNIT_COSTS: readonly UnitCost[] = unitCostFile.entries.map((e) =>
  checkNational(e, unitCostFile.edition),
);
export const EVENT_CODES: readonly EventCode[] = readReference<{ codes: EventCode[] }>(
  'event-codes.json',
).codes;

const deflatorFile = readReference<{ source: string; reference_year: number; index: Record<string, number> }>(
  'gdp-deflators.json',
);
export const DEFLATOR_SOURCE = deflatorFile.source;
export const DEFLATORS: ReadonlyMap<number, number> = new Map(
  Object.entries(deflatorFile.index).map(([year, value]) => [Number(year), value]),
);
export const LATEST_PRICE_YEAR = Math.max(...DEFLATORS.keys());
export const EARLIEST_PRICE_YEAR = Math.min(...DEFLATORS.keys());

const optimismFile = readReference<{ source: string; grades: OptimismBiasGrade[] }>('optimism-bias.json');
export const OPTIMISM_BIAS_SOURCE = optimismFile.source;
export const OPTIMISM_BIAS_GRADES: readonly OptimismBiasGrade[] = optimismFile.grades;

export function optimismBiasFor(grade: number): number {
  const row = OPTIMISM_BIAS_GRADES.find((g) => g.grade === grade);
  if (!row) throw new Invalid(`Confidence grade ${grade} is not in the optimism bias table (1 to 6)`);
  return row.correction;
}

export function hasDeflator(year: number): boolean {
  return DEFLATORS.has(year);
}

/**
 * The factor that moves an amount priced in `fromYear` into `toYear` prices (GDP deflator
 * ratio), the Green Book's way of putting every figure in one price base.
 */
export function upliftFactor(fromYear: number, toYear: number): number {
  const from = DEFLATORS.get(fromYear);
  const to = DEFLATORS.get(toYear);
  if (from === undefined || to === undefined) {
    throw new Invalid(
      `No GDP deflator for ${from === undefined ? fromYear : toYear}: price years run from ${EARLIEST_PRICE_YEAR} to ${LATEST_PRICE_YEAR}`,
    );
  }
  return to / from;
}

/** A unit cost in another price year, as a float: rounding to pence happens at the edges. */
export function costInPriceYear(
  cost: Pick<UnitCost, 'cost_pence' | 'price_year'>,
  priceYear: number,
): number {
  return cost.cost_pence * upliftFactor(cost.price_year, priceYear);
}

export function nationalUnitCost(code: string): UnitCost | undefined {
  return NATIONAL_UNIT_COSTS.find((c) => c.code === code);
}
