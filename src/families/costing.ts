import { sql } from 'kysely';
import { inSystem, type Database, type Tx } from '../core/db.ts';
import { pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import type { AgencyType } from '../places/domain.ts';
import { knownUnitCosts, type UnitCostCatalogue } from './catalogue.ts';
import {
  addCosts,
  changePct,
  costOf,
  emptySummary,
  periodCost,
  type CostPeriod,
  type CostSummary,
  type PeriodCost,
} from './domain.ts';
import { auditFamily, requireAccess, type FamilyViewer } from './access.ts';
import { accessibleReferences } from './events.ts';

/** Cost per family, by agency and year, before-and-after cohorts and the product roll-up. No personal data. */

// ---------------------------------------------------------------------------------------------
// Costing: SQL sums quantities; the unit costs (and their price base) come from the catalogue.

/** The financial year an event falls in, in SQL: April to March, as `financialYearOf` in core/dates.ts. */
const eventYear = sql<number>`extract(year from occurred_on - interval '3 months')::int`;

/** Quantities per family, event type and financial year of a place's events in [from, to), or of one family's. */
async function quantities(tx: Tx, placeId: number, period: CostPeriod, familyId?: number) {
  let query = tx
    .selectFrom('family_events')
    .select(['family_id', 'event_type'])
    .select(eventYear.as('year'))
    .select((eb) => eb.fn.sum<string>('quantity').as('quantity'))
    .where('place_id', '=', placeId)
    .where('occurred_on', '>=', period.from)
    .where('occurred_on', '<', period.to)
    .groupBy(['family_id', 'event_type', sql`3`]);
  if (familyId !== undefined) query = query.where('family_id', '=', familyId);
  return (await query.execute()).map((r) => ({
    family_id: r.family_id,
    event_type: r.event_type,
    year: Number(r.year),
    quantity: Number(r.quantity),
  }));
}

export interface FamilyCost extends PeriodCost {
  family_id: number;
  reference: string;
}

/** Cost per family of the events in [from, to), with the place's total. No personal data. */
export async function costByFamily(
  tx: Tx,
  placeId: number,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
  period: CostPeriod,
): Promise<{ families: FamilyCost[]; total: PeriodCost }> {
  const rows = await quantities(tx, placeId, period);
  const families = await tx
    .selectFrom('families')
    .select(['id', 'reference'])
    .where('place_id', '=', placeId)
    .orderBy('reference')
    .execute();
  const costs = await knownUnitCosts(
    catalogue,
    rows.map((r) => r.event_type),
    priceBase,
  );
  const byFamily = new Map<number, typeof rows>();
  for (const r of rows) {
    const ofFamily = byFamily.get(r.family_id);
    if (ofFamily) ofFamily.push(r);
    else byFamily.set(r.family_id, [r]);
  }
  return {
    families: families.map((f) => ({
      family_id: f.id,
      reference: f.reference,
      ...periodCost(byFamily.get(f.id) ?? [], costs),
    })),
    total: periodCost(rows, costs),
  };
}

/**
 * One family's cost over a period, by the agency that bears each unit cost and by financial year:
 * the family's personal data, so the same access rule as its record, and the read is audited.
 */
export async function readFamilyCost(
  tx: Tx,
  placeId: number,
  familyId: number,
  viewer: FamilyViewer,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
  period: CostPeriod,
  today: string,
): Promise<PeriodCost> {
  const access = await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  const rows = await quantities(tx, placeId, period, familyId);
  const cost = periodCost(
    rows,
    await knownUnitCosts(
      catalogue,
      rows.map((r) => r.event_type),
      priceBase,
    ),
  );
  await auditFamily(tx, placeId, familyId, viewer, 'family.cost.read', {
    purpose: 'case_work',
    basis: access.basis,
    agreement_id: access.agreementId,
    fields: ['events', 'cost'],
    ...period,
  });
  return cost;
}

export interface FamilyBeforeAfter {
  family_id: number;
  reference: string;
  taken_on: string;
  before: Pence;
  after: Pence;
  changePct: number | null;
  professionals: number;
  agencies: number;
}

export interface Cohort {
  families: number;
  byAgencyYear: { year: number; agency: AgencyType; cost: Pence }[];
  before: CostSummary;
  after: CostSummary;
  changePct: number | null;
  perFamily: FamilyBeforeAfter[];
}

/** Cost by the agency that bears it and by financial year: quantities summed in SQL, priced from the catalogue. */
export async function costByAgencyYear(
  tx: Tx,
  placeId: number | null,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
): Promise<{ year: number; agency: AgencyType; cost: Pence }[]> {
  let query = tx
    .selectFrom('family_events')
    .select(['event_type'])
    .select(eventYear.as('year'))
    .select((eb) => eb.fn.sum<string>('quantity').as('quantity'))
    .groupBy(['event_type', sql`2`]);
  if (placeId !== null) query = query.where('place_id', '=', placeId);
  const rows = await query.execute();
  const costs = await catalogue.unitCosts(
    rows.map((r) => r.event_type),
    priceBase,
  );
  const cells = new Map<string, { year: number; agency: AgencyType; cost: Pence }>();
  for (const r of rows) {
    const unit = costs.get(r.event_type)!;
    const key = `${r.year}|${unit.agency}`;
    const cell = cells.get(key) ?? { year: Number(r.year), agency: unit.agency, cost: 0 };
    cell.cost = pence(cell.cost + unit.pence * Number(r.quantity));
    cells.set(key, cell);
  }
  return [...cells.values()].sort((x, y) => x.year - y.year || x.agency.localeCompare(y.agency));
}

/**
 * The place's cohort: cost by bearing agency and financial year, and each family's twelve months
 * before its date taken on against the twelve months after, with the people and agencies around it.
 */
export async function cohort(
  tx: Tx,
  placeId: number,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
): Promise<Cohort> {
  const byAgencyYear = await costByAgencyYear(tx, placeId, catalogue, priceBase);
  const windows = await tx
    .selectFrom('family_events as e')
    .innerJoin('families as f', (j) =>
      j.onRef('f.place_id', '=', 'e.place_id').onRef('f.id', '=', 'e.family_id'),
    )
    .select(['e.family_id', 'e.event_type'])
    .select(
      sql<string>`coalesce(sum(e.quantity) filter (where e.occurred_on >= f.taken_on - interval '12 months' and e.occurred_on < f.taken_on), 0)`.as(
        'before',
      ),
    )
    .select(
      sql<string>`coalesce(sum(e.quantity) filter (where e.occurred_on >= f.taken_on and e.occurred_on < f.taken_on + interval '12 months'), 0)`.as(
        'after',
      ),
    )
    .where('e.place_id', '=', placeId)
    .groupBy(['e.family_id', 'e.event_type'])
    .execute();
  const families = await tx
    .selectFrom('families')
    .select(['id', 'reference', 'taken_on'])
    .where('place_id', '=', placeId)
    .orderBy('reference')
    .execute();
  const people = await tx
    .selectFrom('family_professionals')
    .select(['family_id'])
    .select((eb) => [
      eb.fn.countAll<string>().as('professionals'),
      eb.fn.count<string>('partner_id').distinct().as('agencies'),
    ])
    .where('place_id', '=', placeId)
    .groupBy('family_id')
    .execute();
  const costs = await catalogue.unitCosts(
    windows.map((r) => r.event_type),
    priceBase,
  );
  const before = emptySummary();
  const after = emptySummary();
  const perFamily = families.map((f) => {
    const rows = windows.filter((w) => w.family_id === f.id);
    const b = costOf(
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.before) })),
      costs,
    );
    const a = costOf(
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.after) })),
      costs,
    );
    addCosts(
      before,
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.before) })),
      costs,
    );
    addCosts(
      after,
      rows.map((r) => ({ event_type: r.event_type, quantity: Number(r.after) })),
      costs,
    );
    const p = people.find((x) => x.family_id === f.id);
    return {
      family_id: f.id,
      reference: f.reference,
      taken_on: f.taken_on,
      before: b.total,
      after: a.total,
      changePct: changePct(b.total, a.total),
      professionals: Number(p?.professionals ?? 0),
      agencies: Number(p?.agencies ?? 0),
    };
  });
  return {
    families: families.length,
    byAgencyYear,
    before,
    after,
    changePct: changePct(before.total, after.total),
    perFamily,
  };
}

/**
 * The cohort as a viewer may see it. The aggregates (cost by agency and year, before and after)
 * are for every role that may read the cohort; the per-family rows (reference, date taken on,
 * costs) are pseudonymised personal data, so they go only to a professional with an access basis
 * for case work on that family, never for an erased family, and each such read is audited.
 * `full` is the unfiltered cohort, for aggregate charts only: never send it to the viewer.
 */
export async function cohortFor(
  tx: Tx,
  placeId: number,
  viewer: FamilyViewer,
  catalogue: UnitCostCatalogue,
  priceBase: number | null,
  today: string,
): Promise<{ view: Cohort; full: Cohort }> {
  const full = await cohort(tx, placeId, catalogue, priceBase);
  const readable = await accessibleReferences(tx, placeId, viewer, 'case_work', today);
  const ids = new Set(readable.values());
  const perFamily = full.perFamily.filter((f) => ids.has(f.family_id));
  if (perFamily.length) {
    await appendAudit(tx, {
      person_id: viewer.personId,
      place_id: placeId,
      action: 'family.cohort.read',
      subject: 'families',
      detail: {
        purpose: 'case_work',
        families: perFamily.map((f) => f.family_id),
        fields: ['reference', 'taken_on', 'before', 'after', 'professionals', 'agencies'],
      },
    });
  }
  return { view: { ...full, perFamily }, full };
}

/** The whole product's roll-up across places: cost by bearing agency and financial year, and family counts. */
export async function productRollup(db: Database, catalogue: UnitCostCatalogue, priceBase: number | null) {
  return inSystem(db, async (tx) => {
    const families = await tx
      .selectFrom('families')
      .select((eb) => [
        eb.fn.countAll<string>().as('n'),
        eb.fn.count<string>('place_id').distinct().as('places'),
      ])
      .executeTakeFirstOrThrow();
    const byAgencyYear = await costByAgencyYear(tx, null, catalogue, priceBase);
    return { families: Number(families.n), places: Number(families.places), byAgencyYear };
  });
}
