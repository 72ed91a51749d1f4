import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';
import { allows, type Role } from '../auth/domain.ts';

/**
 * The figures the dashboard, the benchmarks and the national roll-up read from other
 * capabilities (the ledger, families, cost-benefit analysis), through this one interface so
 * that those capabilities can arrive, and change, without this one reaching into their tables.
 */
export interface Source {
  /** What the figure is, as a link text: "Ledger: budget against actual". */
  label: string;
  /** Where the figure comes from, inside the place: "/places/essex/ledger". */
  href: string;
}

export type Figure<T> = { available: true; value: T; source: Source } | { available: false; reason: string };

export interface PartnerMoney {
  partnerId: number;
  name: string;
  pot: Pence;
  committed: Pence;
  spent: Pence;
}

export interface MoneyFigures {
  /** What the partners have pooled or aligned into the place's pot. */
  pot: Pence;
  /** Promised but not yet spent. */
  committed: Pence;
  spent: Pence;
  byPartner: PartnerMoney[];
}

export interface FamilyFigures {
  /** Families taken on with a full year before and after: the cohort the costs describe. */
  cohort: number;
  /** What the cohort cost all agencies in the year before it was taken on. */
  costBefore: Pence;
  /** What the same families cost in the year after. */
  costAfter: Pence;
}

export interface SavingsFigures {
  /** Savings the business cases forecast. */
  forecast: Pence;
  /** Savings realised, from the ledger and families data. */
  realised: Pence;
}

export interface PlaceRef {
  id: number;
  slug: string;
}

export interface PlaceFigures {
  money(tx: Tx, place: PlaceRef): Promise<Figure<MoneyFigures>>;
  families(tx: Tx, place: PlaceRef): Promise<Figure<FamilyFigures>>;
  /** Savings realised come from the families figure, which the caller has already read for the place. */
  savings(tx: Tx, place: PlaceRef, families: Figure<FamilyFigures>): Promise<Figure<SavingsFigures>>;
}

/** A place's money, families and savings, each read once (the families cohort is the costly one). */
export async function readPlaceFigures(figures: PlaceFigures, tx: Tx, place: PlaceRef) {
  const families = await figures.families(tx, place);
  return {
    money: await figures.money(tx, place),
    families,
    savings: await figures.savings(tx, place, families),
  };
}

/**
 * The money figures as a viewer may see them: each partner's pot, committed and spent only where
 * the viewer may read that partner's statement (every partner with `ledger.read`; their own
 * partner for a partner rep with `ledger.statement`; none for anyone else). The dashboard shows
 * nothing the statements would refuse.
 */
export function moneyForViewer(
  money: Figure<MoneyFigures>,
  viewer: { roles: readonly Role[]; partnerIds: readonly number[] },
): Figure<MoneyFigures> {
  if (!money.available || allows([...viewer.roles], 'ledger.read')) return money;
  const own = allows([...viewer.roles], 'ledger.statement') ? new Set(viewer.partnerIds) : new Set<number>();
  return {
    ...money,
    value: { ...money.value, byPartner: money.value.byPartner.filter((p) => own.has(p.partnerId)) },
  };
}

/** Until the ledger, families and cost-benefit capabilities are wired in, each figure says so. */
export const notAvailableYet: PlaceFigures = {
  money: async () => ({
    available: false,
    reason: 'The pooled budget ledger is not connected to this service yet.',
  }),
  families: async () => ({
    available: false,
    reason: 'The families record is not connected to this service yet.',
  }),
  savings: async () => ({
    available: false,
    reason: 'The cost-benefit analysis is not connected to this service yet.',
  }),
};
