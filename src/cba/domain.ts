/**
 * The cost-benefit model of "Supporting public service transformation: cost benefit analysis
 * guidance for local partnerships" (HM Treasury, PSTN, New Economy, 2014): benefits are
 * cohort × engagement × success × (1 − deadweight) × unit cost × (1 − optimism bias), profiled
 * over the appraisal years with drop-off, in one price base, discounted at the Green Book rate.
 * Pure: floats inside, pence (half away from zero) only in the results. Choices the guidance
 * leaves open are documented in src/cba/README.md.
 */
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import {
  costInPriceYear,
  hasDeflator,
  optimismBiasFor,
  VALUE_TYPES,
  type UnitCost,
  type ValueType,
} from '../reference/figures.ts';
import { financialYearLabel } from '../core/dates.ts';

export const GREEN_BOOK_DISCOUNT_RATE = 0.035;
export const MAX_YEARS = 30;
const MAX_LINES = 200;

/** A unit cost written into the business case itself, for an outcome the database lacks. */
export interface InlineUnitCost {
  code?: string;
  costPence: number;
  priceYear: number;
  valueType: ValueType;
  agency: string;
  cashable: boolean;
  source: string;
}

export interface BenefitLine {
  outcome: string;
  /** A code in the unit cost database, or a figure with its source. */
  unitCost: string | InlineUnitCost;
  cohort: number;
  engagement: number;
  success: number;
  deadweight: number;
  confidenceGrade: number;
  /** Replaces the table's correction for the grade; needs a reason. */
  optimismBias?: number;
  optimismBiasReason?: string;
  startYear: number;
  durationYears: number;
  /** Share of the effect lost each year after the first: the year-k effect is (1 − dropOff)^k. */
  dropOff: number;
  /** Who gains; the unit cost's agency when left out. */
  beneficiary?: string;
}

export interface CostLine {
  partner: string;
  year: number;
  amountPence: number;
  description?: string;
}

export interface BusinessCase {
  title: string;
  intervention: string;
  priceYear: number;
  /** The financial year that appraisal year 1 is (2014 is 2014/15); labels only. */
  firstYear: number;
  years: number;
  discountRate: number;
  costs: CostLine[];
  benefits: BenefitLine[];
}

// ---------------------------------------------------------------------------------------------
// Reading a business case: every problem named by its path, all at once.

type Obj = Record<string, unknown>;

class Reader {
  readonly fields: FieldErrors = {};
  problem(path: string, message: string) {
    this.fields[path] ??= message;
  }
  text(o: Obj, key: string, path: string, max: number, required = true): string {
    const v = o[key];
    // An optional text left empty is as good as left out (a saved case round-trips).
    if ((v === undefined || v === '') && !required) return '';
    if (typeof v !== 'string' || !v.trim()) this.problem(path, 'Enter some text');
    else if (v.length > max) this.problem(path, `Must be ${max} characters or fewer`);
    return typeof v === 'string' ? v.trim() : '';
  }
  number(o: Obj, key: string, path: string, min: number, max: number, integer = false): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.problem(path, 'Enter a number');
    else if (integer && !Number.isInteger(v)) this.problem(path, 'Enter a whole number');
    else if (v < min || v > max) this.problem(path, `Must be between ${min} and ${max}`);
    return typeof v === 'number' ? v : NaN;
  }
  rate(o: Obj, key: string, path: string): number {
    return this.number(o, key, path, 0, 1);
  }
  list(o: Obj, key: string, path: string, max: number): Obj[] {
    const v = o[key];
    if (!Array.isArray(v)) {
      this.problem(path, 'Must be a list');
      return [];
    }
    if (v.length > max) this.problem(path, `At most ${max} lines`);
    return v.slice(0, max).map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        this.problem(`${path}[${i}]`, 'Must be an object');
      return (item ?? {}) as Obj;
    });
  }
}

function readPriceYear(r: Reader, o: Obj, key: string, path: string): number {
  const year = r.number(o, key, path, 1990, 2100, true);
  if (Number.isInteger(year) && !hasDeflator(year)) r.problem(path, `No GDP deflator for ${year}`);
  return year;
}

function readUnitCost(r: Reader, v: unknown, path: string): string | InlineUnitCost {
  if (typeof v === 'string') {
    if (!v.trim()) r.problem(path, 'Name a unit cost code or give the cost');
    return v.trim();
  }
  if (typeof v !== 'object' || v === null) {
    r.problem(path, 'Name a unit cost code or give the cost');
    return '';
  }
  const o = v as Obj;
  const valueType = o.valueType as ValueType;
  if (!VALUE_TYPES.includes(valueType)) r.problem(`${path}.valueType`, 'Choose fiscal, economic or social');
  if (typeof o.cashable !== 'boolean')
    r.problem(`${path}.cashable`, 'Say whether it is cashable (true or false)');
  return {
    ...(typeof o.code === 'string' ? { code: o.code } : {}),
    costPence: r.number(o, 'costPence', `${path}.costPence`, 0, Number.MAX_SAFE_INTEGER, true),
    priceYear: readPriceYear(r, o, 'priceYear', `${path}.priceYear`),
    valueType,
    agency: r.text(o, 'agency', `${path}.agency`, 100),
    cashable: o.cashable === true,
    source: r.text(o, 'source', `${path}.source`, 1000),
  };
}

function readBenefit(r: Reader, o: Obj, path: string, years: number): BenefitLine {
  const line: BenefitLine = {
    outcome: r.text(o, 'outcome', `${path}.outcome`, 200),
    unitCost: readUnitCost(r, o.unitCost, `${path}.unitCost`),
    cohort: r.number(o, 'cohort', `${path}.cohort`, 0, 10_000_000),
    engagement: r.rate(o, 'engagement', `${path}.engagement`),
    success: r.rate(o, 'success', `${path}.success`),
    deadweight: r.rate(o, 'deadweight', `${path}.deadweight`),
    confidenceGrade: r.number(o, 'confidenceGrade', `${path}.confidenceGrade`, 1, 6, true),
    startYear: r.number(o, 'startYear', `${path}.startYear`, 1, Math.max(1, years), true),
    durationYears: r.number(o, 'durationYears', `${path}.durationYears`, 1, MAX_YEARS, true),
    dropOff: r.rate(o, 'dropOff', `${path}.dropOff`),
  };
  if (o.optimismBias !== undefined) {
    line.optimismBias = r.rate(o, 'optimismBias', `${path}.optimismBias`);
    line.optimismBiasReason = r.text(o, 'optimismBiasReason', `${path}.optimismBiasReason`, 1000);
  }
  if (o.beneficiary !== undefined) line.beneficiary = r.text(o, 'beneficiary', `${path}.beneficiary`, 100);
  return line;
}

/** Reads a business case in the documented JSON format, or throws Invalid naming every problem. */
export function parseBusinessCase(input: unknown): BusinessCase {
  const r = new Reader();
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new Invalid('A business case is a JSON object');
  const o = input as Obj;
  const years = r.number(o, 'years', 'years', 1, MAX_YEARS, true);
  const discountRate =
    o.discountRate === undefined
      ? GREEN_BOOK_DISCOUNT_RATE
      : r.number(o, 'discountRate', 'discountRate', 0, 0.2);
  const model: BusinessCase = {
    title: r.text(o, 'title', 'title', 200),
    intervention: r.text(o, 'intervention', 'intervention', 2000, false),
    priceYear: readPriceYear(r, o, 'priceYear', 'priceYear'),
    firstYear: r.number(o, 'firstYear', 'firstYear', 1990, 2100, true),
    years,
    discountRate,
    costs: r.list(o, 'costs', 'costs', MAX_LINES).map((c, i) => ({
      partner: r.text(c, 'partner', `costs[${i}].partner`, 100),
      year: r.number(c, 'year', `costs[${i}].year`, 1, Math.max(1, years), true),
      amountPence: r.number(c, 'amountPence', `costs[${i}].amountPence`, 0, Number.MAX_SAFE_INTEGER, true),
      ...(typeof c.description === 'string' ? { description: c.description } : {}),
    })),
    benefits: r
      .list(o, 'benefits', 'benefits', MAX_LINES)
      .map((b, i) => readBenefit(r, b, `benefits[${i}]`, years)),
  };
  if (Object.keys(r.fields).length) throw new Invalid('The business case has problems', r.fields);
  return model;
}

// ---------------------------------------------------------------------------------------------
// Running the model.

/** Finds a unit cost by code (the place's own or national); undefined when there is none. */
export type UnitCostLookup = (code: string) => UnitCost | undefined;

interface ResolvedLine {
  line: BenefitLine;
  index: number;
  code: string | null;
  unitCostInPriceBase: number;
  valueType: ValueType;
  cashable: boolean;
  beneficiary: string;
  optimismBias: number;
  source: string;
}

function resolveLines(model: BusinessCase, lookup: UnitCostLookup): ResolvedLine[] {
  const fields: FieldErrors = {};
  const lines = model.benefits.map((line, index) => {
    const found = typeof line.unitCost === 'string' ? lookup(line.unitCost) : undefined;
    if (typeof line.unitCost === 'string' && !found) {
      fields[`benefits[${index}].unitCost`] =
        `No unit cost with code ${line.unitCost}: record a local cost for it, or give costPence, priceYear and source in the line`;
    }
    const cost = found
      ? {
          costPence: found.cost_pence,
          priceYear: found.price_year,
          valueType: found.value_type,
          agency: found.agency,
          cashable: found.cashable,
          source: found.source,
        }
      : (line.unitCost as InlineUnitCost);
    return {
      line,
      index,
      code: typeof line.unitCost === 'string' ? line.unitCost : (line.unitCost.code ?? null),
      unitCostInPriceBase:
        found || typeof line.unitCost !== 'string'
          ? costInPriceYear({ cost_pence: cost.costPence, price_year: cost.priceYear }, model.priceYear)
          : 0,
      valueType: cost.valueType,
      cashable: cost.cashable,
      beneficiary: line.beneficiary || cost.agency,
      optimismBias: line.optimismBias ?? optimismBiasFor(line.confidenceGrade),
      source: cost.source,
    };
  });
  if (Object.keys(fields).length)
    throw new Invalid('Some benefit lines name unit costs that do not exist', fields);
  return lines;
}

/**
 * Why the case cannot be run on these unit costs, one problem each; empty when it can. Only the
 * unit costs (codes, price years, optimism bias grades) can stop a parsed case from running. A case
 * that cannot be run stays a draft: no agreement is proposed or approved from it, no figure counts it.
 */
export function caseProblems(model: BusinessCase, lookup: UnitCostLookup): string[] {
  try {
    resolveLines(model, lookup);
    return [];
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    return Object.values(err.fields ?? { case: err.message });
  }
}

/** The guidance's formula for one line's full-year effect, before profiling and discounting. */
export function annualBenefit(p: {
  cohort: number;
  engagement: number;
  success: number;
  deadweight: number;
  unitCost: number;
  optimismBias: number;
}): number {
  return p.cohort * p.engagement * p.success * (1 - p.deadweight) * p.unitCost * (1 - p.optimismBias);
}

/** Year 1 is the present (factor 1); year n is discounted n − 1 times at the rate. */
export function discountFactor(year: number, rate: number): number {
  return 1 / Math.pow(1 + rate, year - 1);
}

/** The share of a line's full effect in appraisal year `year`: nothing outside its years. */
export function profileShare(
  line: Pick<BenefitLine, 'startYear' | 'durationYears' | 'dropOff'>,
  year: number,
): number {
  const k = year - line.startYear;
  if (k < 0 || k >= line.durationYears) return 0;
  return Math.pow(1 - line.dropOff, k);
}

/** Flows of one run, in floats: the basis of every output and of the sensitivity tests. */
interface Flows {
  years: number[];
  costsByPartner: Map<string, number[]>;
  /** per line, per year (index year − 1), undiscounted */
  lineValues: number[][];
  lines: ResolvedLine[];
  discount: number[];
}

interface Variation {
  cohort?: number;
  engagement?: number;
  success?: number;
  deadweight?: number;
  optimismBias?: number;
  unitCost?: number;
  costs?: number;
}

const clampRate = (v: number) => Math.min(1, Math.max(0, v));

function computeFlows(model: BusinessCase, lines: ResolvedLine[], v: Variation = {}): Flows {
  const years = Array.from({ length: model.years }, (_, i) => i + 1);
  const costsByPartner = new Map<string, number[]>();
  for (const c of model.costs) {
    const row = costsByPartner.get(c.partner) ?? years.map(() => 0);
    row[c.year - 1]! += c.amountPence * (v.costs ?? 1);
    costsByPartner.set(c.partner, row);
  }
  const lineValues = lines.map((l) => {
    const full = annualBenefit({
      cohort: l.line.cohort * (v.cohort ?? 1),
      engagement: clampRate(l.line.engagement * (v.engagement ?? 1)),
      success: clampRate(l.line.success * (v.success ?? 1)),
      deadweight: clampRate(l.line.deadweight * (v.deadweight ?? 1)),
      unitCost: l.unitCostInPriceBase * (v.unitCost ?? 1),
      optimismBias: clampRate(l.optimismBias * (v.optimismBias ?? 1)),
    });
    return years.map((y) => full * profileShare(l.line, y));
  });
  return {
    years,
    costsByPartner,
    lineValues,
    lines,
    discount: years.map((y) => discountFactor(y, model.discountRate)),
  };
}

interface Headline {
  pvCosts: number;
  pvFiscal: number;
  pvCashable: number;
  pvEconomic: number;
  pvSocial: number;
}

function headline(f: Flows): Headline {
  const h: Headline = { pvCosts: 0, pvFiscal: 0, pvCashable: 0, pvEconomic: 0, pvSocial: 0 };
  for (const row of f.costsByPartner.values()) row.forEach((c, i) => (h.pvCosts += c * f.discount[i]!));
  f.lines.forEach((l, li) =>
    f.lineValues[li]!.forEach((value, i) => {
      const pv = value * f.discount[i]!;
      if (l.valueType === 'fiscal') {
        h.pvFiscal += pv;
        if (l.cashable) h.pvCashable += pv;
      } else if (l.valueType === 'economic') h.pvEconomic += pv;
      else h.pvSocial += pv;
    }),
  );
  return h;
}

const ratio = (num: number, den: number): number | null =>
  den > 0 ? Math.round((num / den) * 10_000) / 10_000 : null;

function measures(h: Headline) {
  return {
    net_present_budget_impact_pence: roundHalfAwayFromZero(h.pvFiscal - h.pvCosts),
    financial_roi: ratio(h.pvFiscal, h.pvCosts),
    public_value_roi: ratio(h.pvFiscal + h.pvEconomic + h.pvSocial, h.pvCosts),
  };
}

export interface AgencyBenefit {
  cashable_pence: Pence;
  non_cashable_pence: Pence;
}

export interface YearResult {
  year: number;
  financial_year: string;
  discount_factor: number;
  costs_by_partner: Record<string, Pence>;
  costs_pence: Pence;
  fiscal_by_agency: Record<string, AgencyBenefit>;
  fiscal_pence: Pence;
  economic_pence: Pence;
  social_pence: Pence;
  present_value: { costs_pence: Pence; fiscal_pence: Pence; economic_pence: Pence; social_pence: Pence };
  cumulative_present_value: { costs_pence: Pence; fiscal_pence: Pence };
}

export interface PartnerPosition {
  partner: string;
  costs_pv_pence: Pence;
  fiscal_benefits_pv_pence: Pence;
  cashable_benefits_pv_pence: Pence;
  net_pv_pence: Pence;
}

export interface Transfer {
  from: string;
  to: string;
  amount_pence: Pence;
}

export interface InvestmentAgreement {
  basis: 'cashable fiscal benefits, present value';
  repayments: Transfer[];
  /** Cashable gains left after investors are repaid: proposed for the pot's reinvestment account. */
  to_reinvestment_pence: Record<string, Pence>;
  investors_unrepaid_pence: Record<string, Pence>;
}

export interface SensitivityRow {
  input: keyof Variation;
  change: number;
  net_present_budget_impact_pence: Pence;
  financial_roi: number | null;
  public_value_roi: number | null;
}

export interface ModelResults {
  title: string;
  price_year: number;
  discount_rate: number;
  lines: {
    index: number;
    outcome: string;
    code: string | null;
    beneficiary: string;
    value_type: ValueType;
    cashable: boolean;
    optimism_bias: number;
    unit_cost_in_price_base_pence: Pence;
    full_year_benefit_pence: Pence;
    source: string;
  }[];
  years: YearResult[];
  totals: {
    costs_pence: Pence;
    fiscal_pence: Pence;
    economic_pence: Pence;
    social_pence: Pence;
    present_value: {
      costs_pence: Pence;
      fiscal_pence: Pence;
      cashable_pence: Pence;
      economic_pence: Pence;
      social_pence: Pence;
    };
    fiscal_by_agency_pv: Record<string, AgencyBenefit>;
  };
  net_present_budget_impact_pence: Pence;
  financial_roi: number | null;
  public_value_roi: number | null;
  /** The first appraisal year by whose end discounted fiscal benefits cover discounted costs. */
  payback_year: number | null;
  who_invests_who_benefits: PartnerPosition[];
  investment_agreement: InvestmentAgreement;
  sensitivity: SensitivityRow[];
  break_even: {
    success_scale: number | null;
    success_rates: { index: number; success: number; achievable: boolean }[];
  };
}

const SENSITIVITY_INPUTS: (keyof Variation)[] = [
  'cohort',
  'engagement',
  'success',
  'deadweight',
  'optimismBias',
  'unitCost',
  'costs',
];
export const SENSITIVITY_CHANGES = [-0.2, -0.1, 0.1, 0.2];

function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/**
 * Splits `total` pence into parts proportional to `weights`, rounding so the parts add up to the
 * rounded total exactly (largest remainder), because an agreement must balance to the penny.
 */
export function apportion(total: number, weights: number[]): Pence[] {
  const target = roundHalfAwayFromZero(total);
  const weightSum = sum(weights);
  if (weightSum <= 0 || target === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (target * w) / weightSum);
  const floors = exact.map(Math.floor);
  let left = target - sum(floors);
  const order = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i]! += 1;
    left -= 1;
  }
  return floors;
}

/**
 * Who repays whom: partners whose discounted costs exceed their cashable benefits are investors;
 * partners with cashable benefits beyond their costs repay them, pro rata both ways, up to the
 * smaller of the two totals. What beneficiaries gain beyond that goes to reinvestment.
 */
export function proposeAgreement(
  positions: { partner: string; costs: number; cashable: number }[],
): InvestmentAgreement {
  const investors = positions
    .filter((p) => p.costs > p.cashable)
    .map((p) => ({ partner: p.partner, shortfall: p.costs - p.cashable }));
  const gainers = positions
    .filter((p) => p.cashable > p.costs)
    .map((p) => ({ partner: p.partner, gain: p.cashable - p.costs }));
  const totalShortfall = sum(investors.map((i) => i.shortfall));
  const totalGain = sum(gainers.map((g) => g.gain));
  const pool = Math.min(totalShortfall, totalGain);
  const fromEach = apportion(
    pool,
    gainers.map((g) => g.gain),
  );
  const repayments: Transfer[] = [];
  gainers.forEach((g, gi) => {
    apportion(
      fromEach[gi]!,
      investors.map((i) => i.shortfall),
    ).forEach((amount, ii) => {
      if (amount > 0) repayments.push({ from: g.partner, to: investors[ii]!.partner, amount_pence: amount });
    });
  });
  const to_reinvestment_pence: Record<string, Pence> = {};
  gainers.forEach((g, gi) => {
    const left = roundHalfAwayFromZero(g.gain) - fromEach[gi]!;
    if (left > 0) to_reinvestment_pence[g.partner] = left;
  });
  const received = (partner: string) =>
    sum(repayments.filter((t) => t.to === partner).map((t) => t.amount_pence));
  const investors_unrepaid_pence: Record<string, Pence> = {};
  for (const i of investors) {
    const left = roundHalfAwayFromZero(i.shortfall) - received(i.partner);
    if (left > 0) investors_unrepaid_pence[i.partner] = left;
  }
  return {
    basis: 'cashable fiscal benefits, present value',
    repayments,
    to_reinvestment_pence,
    investors_unrepaid_pence,
  };
}

/** Runs the whole model: per-year flows, totals, headline measures, who gains, sensitivity. */
export function runModel(model: BusinessCase, lookup: UnitCostLookup): ModelResults {
  const lines = resolveLines(model, lookup);
  const f = computeFlows(model, lines);
  const h = headline(f);
  const years: YearResult[] = [];
  let cumCosts = 0;
  let cumFiscal = 0;
  let paybackYear: number | null = null;
  const agencyPv = new Map<string, { cashable: number; nonCashable: number }>();
  for (const y of f.years) {
    const i = y - 1;
    const d = f.discount[i]!;
    const costs_by_partner: Record<string, Pence> = {};
    for (const [partner, row] of f.costsByPartner)
      if (row[i]) costs_by_partner[partner] = roundHalfAwayFromZero(row[i]!);
    const costs = sum([...f.costsByPartner.values()].map((row) => row[i]!));
    const byAgency = new Map<string, { cashable: number; nonCashable: number }>();
    let fiscal = 0;
    let economic = 0;
    let social = 0;
    lines.forEach((l, li) => {
      const value = f.lineValues[li]![i]!;
      if (l.valueType === 'economic') economic += value;
      else if (l.valueType === 'social') social += value;
      else {
        fiscal += value;
        for (const [map, amount] of [
          [byAgency, value],
          [agencyPv, value * d],
        ] as const) {
          const a = map.get(l.beneficiary) ?? { cashable: 0, nonCashable: 0 };
          if (l.cashable) a.cashable += amount;
          else a.nonCashable += amount;
          map.set(l.beneficiary, a);
        }
      }
    });
    cumCosts += costs * d;
    cumFiscal += fiscal * d;
    if (paybackYear === null && cumCosts > 0 && cumFiscal >= cumCosts) paybackYear = y;
    years.push({
      year: y,
      financial_year: financialYearLabel(model.firstYear + i),
      discount_factor: Math.round(d * 1e6) / 1e6,
      costs_by_partner,
      costs_pence: roundHalfAwayFromZero(costs),
      fiscal_by_agency: agencyRecord(byAgency),
      fiscal_pence: roundHalfAwayFromZero(fiscal),
      economic_pence: roundHalfAwayFromZero(economic),
      social_pence: roundHalfAwayFromZero(social),
      present_value: {
        costs_pence: roundHalfAwayFromZero(costs * d),
        fiscal_pence: roundHalfAwayFromZero(fiscal * d),
        economic_pence: roundHalfAwayFromZero(economic * d),
        social_pence: roundHalfAwayFromZero(social * d),
      },
      cumulative_present_value: {
        costs_pence: roundHalfAwayFromZero(cumCosts),
        fiscal_pence: roundHalfAwayFromZero(cumFiscal),
      },
    });
  }

  const partners = new Set<string>([...f.costsByPartner.keys(), ...agencyPv.keys()]);
  const positions = [...partners].sort().map((partner) => {
    const costs = sum((f.costsByPartner.get(partner) ?? []).map((c, i) => c * f.discount[i]!));
    const a = agencyPv.get(partner) ?? { cashable: 0, nonCashable: 0 };
    return { partner, costs, cashable: a.cashable, fiscal: a.cashable + a.nonCashable };
  });

  const undiscounted = (pick: (l: ResolvedLine) => boolean) =>
    sum(lines.flatMap((l, li) => (pick(l) ? f.lineValues[li]! : [])));

  return {
    title: model.title,
    price_year: model.priceYear,
    discount_rate: model.discountRate,
    lines: lines.map((l) => ({
      index: l.index,
      outcome: l.line.outcome,
      code: l.code,
      beneficiary: l.beneficiary,
      value_type: l.valueType,
      cashable: l.cashable,
      optimism_bias: l.optimismBias,
      unit_cost_in_price_base_pence: roundHalfAwayFromZero(l.unitCostInPriceBase),
      full_year_benefit_pence: roundHalfAwayFromZero(
        annualBenefit({ ...l.line, unitCost: l.unitCostInPriceBase, optimismBias: l.optimismBias }),
      ),
      source: l.source,
    })),
    years,
    totals: {
      costs_pence: roundHalfAwayFromZero(sum([...f.costsByPartner.values()].flat())),
      fiscal_pence: roundHalfAwayFromZero(undiscounted((l) => l.valueType === 'fiscal')),
      economic_pence: roundHalfAwayFromZero(undiscounted((l) => l.valueType === 'economic')),
      social_pence: roundHalfAwayFromZero(undiscounted((l) => l.valueType === 'social')),
      present_value: {
        costs_pence: roundHalfAwayFromZero(h.pvCosts),
        fiscal_pence: roundHalfAwayFromZero(h.pvFiscal),
        cashable_pence: roundHalfAwayFromZero(h.pvCashable),
        economic_pence: roundHalfAwayFromZero(h.pvEconomic),
        social_pence: roundHalfAwayFromZero(h.pvSocial),
      },
      fiscal_by_agency_pv: agencyRecord(agencyPv),
    },
    ...measures(h),
    payback_year: paybackYear,
    who_invests_who_benefits: positions.map((p) => ({
      partner: p.partner,
      costs_pv_pence: roundHalfAwayFromZero(p.costs),
      fiscal_benefits_pv_pence: roundHalfAwayFromZero(p.fiscal),
      cashable_benefits_pv_pence: roundHalfAwayFromZero(p.cashable),
      net_pv_pence: roundHalfAwayFromZero(p.fiscal - p.costs),
    })),
    investment_agreement: proposeAgreement(positions),
    sensitivity: SENSITIVITY_INPUTS.flatMap((input) =>
      SENSITIVITY_CHANGES.map((change) => ({
        input,
        change,
        ...measures(headline(computeFlows(model, lines, { [input]: 1 + change }))),
      })),
    ),
    break_even: breakEven(lines, h),
  };
}

/**
 * Fiscal benefits are proportional to the success rates (the other inputs fixed), so one scale
 * on every line's success rate brings the net present budget impact to zero.
 */
function breakEven(lines: ResolvedLine[], h: Headline): ModelResults['break_even'] {
  if (h.pvFiscal <= 0) return { success_scale: null, success_rates: [] };
  const scale = h.pvCosts / h.pvFiscal;
  return {
    success_scale: Math.round(scale * 1e6) / 1e6,
    success_rates: lines
      .filter((l) => l.valueType === 'fiscal')
      .map((l) => {
        const success = l.line.success * scale;
        return { index: l.index, success: Math.round(success * 1e6) / 1e6, achievable: success <= 1 };
      }),
  };
}

function agencyRecord(
  map: Map<string, { cashable: number; nonCashable: number }>,
): Record<string, AgencyBenefit> {
  const out: Record<string, AgencyBenefit> = {};
  for (const [agency, a] of [...map].sort(([x], [y]) => x.localeCompare(y))) {
    out[agency] = {
      cashable_pence: roundHalfAwayFromZero(a.cashable),
      non_cashable_pence: roundHalfAwayFromZero(a.nonCashable),
    };
  }
  return out;
}
