import type { Tx } from '../core/db.ts';
import { NotFound } from '../core/errors.ts';
import { roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/store.ts';
import { costInPriceYear, NATIONAL_UNIT_COSTS, type UnitCost } from './reference.ts';
import type { LocalUnitCostInput } from './unit-costs.ts';

/** A unit cost as a place sees it: the version in force, and its value in the asked price year. */
export interface EffectiveUnitCost extends UnitCost {
  origin: 'national' | 'local';
  /** True when the place's own figure replaces a national one with the same code. */
  replaces_national: boolean;
  in_price_year: number;
  cost_in_price_year_pence: Pence;
}

function effective(cost: UnitCost, priceYear: number, replacesNational: boolean): EffectiveUnitCost {
  return {
    ...cost,
    origin: cost.place_id === null ? 'national' : 'local',
    replaces_national: replacesNational,
    in_price_year: priceYear,
    cost_in_price_year_pence: roundHalfAwayFromZero(costInPriceYear(cost, priceYear)),
  };
}

/** The latest version of each of the place's own codes, withdrawn ones included (the caller filters). */
async function latestLocalVersions(tx: Tx, placeId: number, code?: string) {
  let query = tx
    .selectFrom('cba_local_unit_costs')
    .selectAll()
    .distinctOn('code')
    .where('place_id', '=', placeId)
    .orderBy('code')
    .orderBy('version', 'desc');
  if (code !== undefined) query = query.where('code', '=', code);
  return query.execute();
}

function fromRow(row: Awaited<ReturnType<typeof latestLocalVersions>>[number]): UnitCost {
  const { withdrawn: _w, recorded_by: _b, recorded_at: _a, ...cost } = row;
  return cost;
}

/**
 * The unit cost database for one place: its own figures in force, then every national figure it
 * has not replaced, each also given in `priceYear` prices through the GDP deflators.
 */
export async function listUnitCosts(tx: Tx, placeId: number, priceYear: number): Promise<EffectiveUnitCost[]> {
  const local = (await latestLocalVersions(tx, placeId)).filter((r) => !r.withdrawn).map(fromRow);
  const localCodes = new Set(local.map((c) => c.code));
  const nationalCodes = new Set(NATIONAL_UNIT_COSTS.map((c) => c.code));
  return [
    ...local.map((c) => effective(c, priceYear, nationalCodes.has(c.code))),
    ...NATIONAL_UNIT_COSTS.filter((c) => !localCodes.has(c.code)).map((c) => effective(c, priceYear, false)),
  ].sort((a, b) => a.code.localeCompare(b.code));
}

/** The national database alone, for places that have none of their own and for the CLI. */
export function listNationalUnitCosts(priceYear: number): EffectiveUnitCost[] {
  return NATIONAL_UNIT_COSTS.map((c) => effective(c, priceYear, false));
}

/**
 * The cost of one event or outcome for a place, in `priceYear` prices: the place's own figure if
 * it has one in force, else the national one; undefined when neither exists. This is the call
 * the families module costs events with.
 */
export async function findUnitCost(
  tx: Tx,
  query: { placeId: number; code: string; priceYear: number },
): Promise<EffectiveUnitCost | undefined> {
  const [latest] = await latestLocalVersions(tx, query.placeId, query.code);
  const national = NATIONAL_UNIT_COSTS.find((c) => c.code === query.code);
  if (latest && !latest.withdrawn) return effective(fromRow(latest), query.priceYear, national !== undefined);
  return national && effective(national, query.priceYear, false);
}

/** Every version of a place's own figure for a code, newest first: the history a change leaves. */
export async function localUnitCostHistory(tx: Tx, placeId: number, code: string) {
  return tx
    .selectFrom('cba_local_unit_costs')
    .selectAll()
    .where('place_id', '=', placeId)
    .where('code', '=', code)
    .orderBy('version', 'desc')
    .execute();
}

async function nextVersion(tx: Tx, placeId: number, code: string): Promise<number> {
  const row = await tx
    .selectFrom('cba_local_unit_costs')
    .select((eb) => eb.fn.max('version').as('v'))
    .where('place_id', '=', placeId)
    .where('code', '=', code)
    .executeTakeFirst();
  return Number(row?.v ?? 0) + 1;
}

/** Records a place's own figure as a new version; earlier versions stay for the record. */
export async function recordLocalUnitCost(tx: Tx, placeId: number, personId: number | null, input: LocalUnitCostInput) {
  const version = await nextVersion(tx, placeId, input.code);
  await tx
    .insertInto('cba_local_unit_costs')
    .values({ place_id: placeId, version, recorded_by: personId, ...input })
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.unit_cost.record',
    subject: `unit_cost:${input.code}`,
    detail: { version, cost_pence: input.cost_pence, price_year: input.price_year },
  });
  return { code: input.code, version };
}

/**
 * Withdraws a place's own figure by adding a withdrawn version (never a delete), so the national
 * figure, if any, applies again and the old figure stays in the history.
 */
export async function withdrawLocalUnitCost(tx: Tx, placeId: number, personId: number | null, code: string) {
  const [latest] = await latestLocalVersions(tx, placeId, code);
  if (!latest || latest.withdrawn) throw new NotFound(`This place has no unit cost of its own for ${code}`);
  const version = latest.version + 1;
  const { recorded_at: _a, recorded_by: _b, withdrawn: _w, ...copy } = latest;
  await tx
    .insertInto('cba_local_unit_costs')
    .values({ ...copy, version, withdrawn: true, recorded_by: personId })
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.unit_cost.withdraw',
    subject: `unit_cost:${code}`,
    detail: { version },
  });
  return { code, version };
}
