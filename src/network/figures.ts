import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
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

export type Figure<T> =
  | { available: true; value: T; source: Source }
  /** `reference` when reading the figure failed: the log's entry for it. */
  | { available: false; reason: string; reference?: string };

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

/** Something the figure leaves out, and why: "Key-worker support" cannot be computed: … */
export interface NotCounted {
  what: string;
  why: string;
  href: string;
}

export interface SavingsFigures {
  /** Savings the approved business cases forecast, each case once. */
  forecast: Pence;
  /** Savings realised, from the ledger and families data. */
  realised: Pence;
  /** Business cases the forecast leaves out for a reason the place can put right. */
  notCounted: NotCounted[];
}

/** The first and the latest financial year with postings. */
export interface YearRange {
  earliest: number;
  latest: number;
}

export interface PlaceRef {
  id: number;
  slug: string;
}

export interface PlaceFigures {
  /** The years with postings in the place, or (`place` null, outside any place) in any place. */
  years(tx: Tx, place: PlaceRef | null): Promise<YearRange | null>;
  /** The money of one financial year. */
  money(tx: Tx, place: PlaceRef, year: number): Promise<Figure<MoneyFigures>>;
  families(tx: Tx, place: PlaceRef): Promise<Figure<FamilyFigures>>;
  /** Savings realised come from the families figure, which the caller has already read for the place. */
  savings(tx: Tx, place: PlaceRef, families: Figure<FamilyFigures>): Promise<Figure<SavingsFigures>>;
}

/** Where a place's figures that could not be read are logged, by the reference its cell shows. */
export interface FigureLog {
  error(detail: { err: unknown; reference: string; place: string }, message: string): void;
}

const NOTHING_POSTED: Figure<never> = {
  available: false,
  reason: 'Nothing is posted in the ledger yet.',
};

/**
 * Runs a read of a place's figures so that its failure stays in the place's cell: the error is
 * logged by a reference, the reads are rolled back to before they began, and the caller's
 * transaction carries on. One place's bad data never turns a page, or another place's cell, into
 * an error. The savepoint is left for the COMMIT to release: one round trip fewer per place.
 */
async function isolated<T>(
  tx: Tx,
  place: PlaceRef,
  log: FigureLog,
  read: () => Promise<T>,
  failed: (figure: Figure<never>) => T,
): Promise<T> {
  await sql`savepoint place_figures`.execute(tx);
  try {
    return await read();
  } catch (err) {
    await sql`rollback to savepoint place_figures`.execute(tx);
    const reference = randomBytes(4).toString('hex');
    log.error({ err, reference, place: place.slug }, 'the place’s figures could not be read');
    const detail = err instanceof AppError ? `: ${err.message}` : '';
    return failed({
      available: false,
      reason: `The figures could not be worked out${detail} (reference ${reference}).`,
      reference,
    });
  }
}

async function readFigures(figures: PlaceFigures, tx: Tx, place: PlaceRef, year: number | null) {
  const families = await figures.families(tx, place);
  return {
    money: year === null ? NOTHING_POSTED : await figures.money(tx, place, year),
    families,
    savings: await figures.savings(tx, place, families),
  };
}

/**
 * A place's money for `year` (null: nothing is posted), families and savings, each read once (the
 * families cohort is the costly one), in isolation.
 */
export function readPlaceFigures(
  figures: PlaceFigures,
  tx: Tx,
  place: PlaceRef,
  options: { year: number | null; log: FigureLog },
) {
  return isolated(
    tx,
    place,
    options.log,
    () => readFigures(figures, tx, place, options.year),
    (failed) => ({ money: failed, families: failed, savings: failed }),
  );
}

/**
 * The place's dashboard figures: its money for `year`, else for its latest financial year with
 * postings, with the years it could choose instead; in isolation.
 */
export function readDashboardFigures(
  figures: PlaceFigures,
  tx: Tx,
  place: PlaceRef,
  options: { year?: number; log: FigureLog },
) {
  return isolated(
    tx,
    place,
    options.log,
    async () => {
      const years = await figures.years(tx, place);
      const year = options.year ?? years?.latest ?? null;
      return { years, year, ...(await readFigures(figures, tx, place, year)) };
    },
    (failed) => ({
      years: null,
      year: options.year ?? null,
      money: failed,
      families: failed,
      savings: failed,
    }),
  );
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
  years: async () => null,
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
