import { assert } from '../core/errors.ts';
import { formatPounds, roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import type { PlaceKind } from '../places/domain.ts';
import {
  controlDisclosure,
  publishCount,
  type CountCell,
  type PublishedCount,
  type Relation,
} from './disclosure.ts';
import type { FamilyFigures, Figure, MoneyFigures, SavingsFigures } from './figures.ts';

/** Everything the network knows about one place before anything is published. */
export interface PlaceInput {
  slug: string;
  name: string;
  kind: PlaceKind;
  partners: number;
  shares: boolean;
  money: Figure<MoneyFigures>;
  families: Figure<FamilyFigures>;
  savings: Figure<SavingsFigures>;
  indicators: { indicators: number; measured: number; onTrack: number; meanProgress: number | null };
}

/** A figure as published: shown with its text, withheld with the reason, or not available yet. */
export type Published =
  | { shown: true; value: number; text: string }
  | {
      shown: false;
      text: string;
      reason: 'small' | 'secondary' | 'not_shared' | 'derived' | 'not_available';
    };

const NOT_AVAILABLE: Published = { shown: false, text: 'Not available yet', reason: 'not_available' };

/** Not available yet, or, where reading the place's figures failed, why (with the log's reference). */
function notAvailable(...figures: Figure<unknown>[]): Published {
  const failed = figures.find((f) => !f.available && f.reference);
  return failed && !failed.available
    ? { shown: false, text: `Not available: ${failed.reason}`, reason: 'not_available' }
    : NOT_AVAILABLE;
}
const WITHHELD: Published = { shown: false, text: '[c]', reason: 'derived' };

const percent = (ratio: number) => `${(Math.round(ratio * 1000) / 10).toFixed(1)}%`;
const shownRatio = (ratio: number): Published => ({ shown: true, value: ratio, text: percent(ratio) });
const shownMoney = (amount: Pence): Published => ({ shown: true, value: amount, text: formatPounds(amount) });

export const MEASURES = {
  families: { label: 'Families in the cohort', higherIsBetter: true },
  cost_per_family: { label: 'Cost per family in the year before', higherIsBetter: false },
  change_after_intervention: { label: 'Change in cost in the year after', higherIsBetter: false },
  savings_share: { label: 'Savings realised as a share of pooled spend', higherIsBetter: true },
  indicator_progress: { label: 'Mean progress towards indicator targets', higherIsBetter: true },
  indicators_on_track: { label: 'Share of indicators on track', higherIsBetter: true },
  partners: { label: 'Partners', higherIsBetter: true },
} as const;
export type Measure = keyof typeof MEASURES;

export interface BenchmarkRow {
  slug: string;
  name: string;
  kind: PlaceKind;
  rank: number | null;
  measures: Record<Measure, Published>;
}

export interface RollupRow {
  /** 'all' for the national total, or one kind of place. */
  kind: PlaceKind | 'all';
  places: number;
  partners: number;
  moneyReporting: number;
  pot: Published;
  committed: Published;
  spent: Published;
  familiesReporting: number;
  families: Published;
  savingsReporting: number;
  savingsForecast: Published;
  savingsRealised: Published;
}

export interface Publication {
  benchmarks: BenchmarkRow[];
  rollup: RollupRow[];
}

const KINDS: PlaceKind[] = ['whole_place', 'neighbourhood'];
// Places and totals in separate namespaces: a place may well be called "all".
const familyCell = (slug: string) => `families:place:${slug}`;
const familyTotalCell = (kind: PlaceKind | 'all') => `families:total:${kind}`;

function fromCount(count: PublishedCount): Published {
  return count.shown ? count : { shown: false, text: count.text, reason: count.reason };
}

/**
 * The family counts of every place, the subtotals by kind of place and the national total, as
 * one set of cells and relations: the benchmarks and the roll-up publish from the same set, so
 * that nothing in one table can be subtracted from the other to reveal a suppressed count.
 */
export function familyCells(places: PlaceInput[]): { cells: CountCell[]; relations: Relation[] } {
  const reporting = places.filter((p) => p.families.available);
  const cells: CountCell[] = reporting.map((p) => ({
    id: familyCell(p.slug),
    value: cohortOf(p),
    shareable: p.shares,
  }));
  const relations: Relation[] = [];
  const kindsPresent = KINDS.filter((kind) => reporting.some((p) => p.kind === kind));
  for (const kind of kindsPresent) {
    const parts = reporting.filter((p) => p.kind === kind);
    cells.push({
      id: familyTotalCell(kind),
      value: parts.reduce((sum, p) => sum + cohortOf(p), 0),
      shareable: true,
    });
    relations.push({ total: familyTotalCell(kind), parts: parts.map((p) => familyCell(p.slug)) });
  }
  if (kindsPresent.length) {
    cells.push({
      id: familyTotalCell('all'),
      value: reporting.reduce((sum, p) => sum + cohortOf(p), 0),
      shareable: true,
    });
    relations.push({ total: familyTotalCell('all'), parts: kindsPresent.map(familyTotalCell) });
  }
  return { cells, relations };
}

function cohortOf(place: PlaceInput): number {
  assert(place.families.available, 'only places reporting families have a cohort');
  return place.families.value.cohort;
}

/** Publishes the benchmarks of the places that share, and the roll-up of all places. */
export function publish(places: PlaceInput[], rankBy: Measure = 'indicator_progress'): Publication {
  const { cells, relations } = familyCells(places);
  const control = controlDisclosure(cells, relations);
  const count = (id: string): Published => {
    const cell = cells.find((c) => c.id === id);
    return cell ? fromCount(publishCount(cell.value, control.suppressed.get(id))) : NOT_AVAILABLE;
  };

  const benchmarks = places
    .filter((p) => p.shares)
    .map((p): BenchmarkRow => {
      const families = p.families.available ? count(familyCell(p.slug)) : notAvailable(p.families);
      return {
        slug: p.slug,
        name: p.name,
        kind: p.kind,
        rank: null,
        measures: { ...familyMeasures(p, families), ...otherMeasures(p), families },
      };
    });
  return { benchmarks: rank(benchmarks, rankBy), rollup: rollup(places, count) };
}

/** Per-family figures exist only where the count they divide by is published. */
function familyMeasures(place: PlaceInput, families: Published) {
  if (!place.families.available)
    return {
      cost_per_family: notAvailable(place.families),
      change_after_intervention: notAvailable(place.families),
    };
  if (!families.shown) return { cost_per_family: WITHHELD, change_after_intervention: WITHHELD };
  const { cohort, costBefore, costAfter } = place.families.value;
  return {
    cost_per_family: shownMoney(roundHalfAwayFromZero(costBefore / cohort)),
    change_after_intervention:
      costBefore > 0 ? shownRatio((costAfter - costBefore) / costBefore) : NOT_AVAILABLE,
  };
}

function otherMeasures(
  place: PlaceInput,
): Omit<Record<Measure, Published>, 'families' | 'cost_per_family' | 'change_after_intervention'> {
  const { money, savings, indicators } = place;
  const savingsShare =
    money.available && savings.available && money.value.spent > 0
      ? shownRatio(savings.value.realised / money.value.spent)
      : notAvailable(money, savings);
  return {
    savings_share: savingsShare,
    indicator_progress:
      indicators.meanProgress === null
        ? { shown: false, text: 'No actual values yet', reason: 'not_available' }
        : shownRatio(indicators.meanProgress),
    indicators_on_track: indicators.indicators
      ? {
          shown: true,
          value: indicators.onTrack / indicators.indicators,
          text: `${indicators.onTrack} of ${indicators.indicators}`,
        }
      : { shown: false, text: 'No indicators', reason: 'not_available' },
    partners: { shown: true, value: place.partners, text: String(place.partners) },
  };
}

/** Best first by the chosen measure; places where it is not shown come last, unranked, by name. */
export function rank(rows: BenchmarkRow[], by: Measure): BenchmarkRow[] {
  const sign = MEASURES[by].higherIsBetter ? -1 : 1;
  const value = (row: BenchmarkRow) => {
    const m = row.measures[by];
    return m.shown ? m.value : null;
  };
  const sorted = [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null)
      return (va === null ? 1 : 0) - (vb === null ? 1 : 0) || a.name.localeCompare(b.name);
    return sign * (va - vb) || a.name.localeCompare(b.name);
  });
  let position = 0;
  return sorted.map((row, i) => {
    const v = value(row);
    if (v === null) return { ...row, rank: null };
    // Equal values share a rank (1, 2, 2, 4).
    if (i === 0 || value(sorted[i - 1]!) !== v) position = i + 1;
    return { ...row, rank: position };
  });
}

function sumOf(
  places: PlaceInput[],
  pick: (p: PlaceInput) => Pence | null,
): { reporting: number; total: Published } {
  const values = places.map(pick).filter((v): v is Pence => v !== null);
  if (!values.length) return { reporting: 0, total: NOT_AVAILABLE };
  return { reporting: values.length, total: shownMoney(values.reduce((sum, v) => sum + v, 0)) };
}

function rollup(places: PlaceInput[], count: (id: string) => Published): RollupRow[] {
  const groups: [PlaceKind | 'all', PlaceInput[]][] = [
    ['all', places],
    ...KINDS.map((k): [PlaceKind, PlaceInput[]] => [k, places.filter((p) => p.kind === k)]),
  ];
  return groups.map(([kind, group]) => {
    const money = (pick: (m: MoneyFigures) => Pence) =>
      sumOf(group, (p) => (p.money.available ? pick(p.money.value) : null));
    const saving = (pick: (s: SavingsFigures) => Pence) =>
      sumOf(group, (p) => (p.savings.available ? pick(p.savings.value) : null));
    const pot = money((m) => m.pot);
    const forecast = saving((s) => s.forecast);
    return {
      kind,
      places: group.length,
      partners: group.reduce((sum, p) => sum + p.partners, 0),
      moneyReporting: pot.reporting,
      pot: pot.total,
      committed: money((m) => m.committed).total,
      spent: money((m) => m.spent).total,
      familiesReporting: group.filter((p) => p.families.available).length,
      families: count(familyTotalCell(kind)),
      savingsReporting: forecast.reporting,
      savingsForecast: forecast.total,
      savingsRealised: saving((s) => s.realised).total,
    };
  });
}
