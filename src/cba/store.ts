import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound } from '../core/errors.ts';
import { roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { costInPriceYear, NATIONAL_UNIT_COSTS, type UnitCost } from '../reference/figures.ts';
import type { LocalUnitCostInput } from './unit-costs.ts';
import {
  caseProblems,
  parseBusinessCase,
  runModel,
  type BusinessCase,
  type InvestmentAgreement,
  type UnitCostLookup,
} from './domain.ts';
import { decisionOfPlace } from '../places/public.ts';

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

/** The place's own figures that are not withdrawn. */
async function localUnitCostsInForce(tx: Tx, placeId: number): Promise<UnitCost[]> {
  return (await latestLocalVersions(tx, placeId)).filter((r) => !r.withdrawn).map(fromRow);
}

/**
 * The unit cost database for one place: its own figures in force, then every national figure it
 * has not replaced, each also given in `priceYear` prices through the GDP deflators.
 */
export async function listUnitCosts(
  tx: Tx,
  placeId: number,
  priceYear: number,
): Promise<EffectiveUnitCost[]> {
  const local = await localUnitCostsInForce(tx, placeId);
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
export async function recordLocalUnitCost(
  tx: Tx,
  placeId: number,
  personId: number | null,
  input: LocalUnitCostInput,
) {
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

// ---------------------------------------------------------------------------------------------
// Business cases: the documented JSON format, stored per place; each save is a new revision.

export interface BusinessCaseRow {
  id: number;
  title: string;
  model: BusinessCase;
  revision: number;
  updated_at: Date;
}

export async function getBusinessCase(tx: Tx, placeId: number, id: number): Promise<BusinessCaseRow> {
  const row = await tx
    .selectFrom('cba_business_cases')
    .select(['id', 'title', 'model', 'revision', 'updated_at'])
    .where('place_id', '=', placeId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFound('Business case not found');
  return { ...row, model: parseBusinessCase(row.model) };
}

export async function createBusinessCase(
  tx: Tx,
  placeId: number,
  personId: number | null,
  model: BusinessCase,
) {
  const row = await tx
    .insertInto('cba_business_cases')
    .values({ place_id: placeId, title: model.title, model: JSON.stringify(model), created_by: personId })
    .returning(['id', 'revision'])
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.case.create',
    subject: `business_case:${row.id}`,
  });
  return row;
}

/** Saves a new revision; `expectedRevision` stops two editors overwriting each other. */
export async function updateBusinessCase(
  tx: Tx,
  placeId: number,
  personId: number | null,
  id: number,
  expectedRevision: number,
  model: BusinessCase,
) {
  const row = await tx
    .updateTable('cba_business_cases')
    .set((eb) => ({
      title: model.title,
      model: JSON.stringify(model),
      revision: eb('revision', '+', 1),
      updated_at: new Date(),
    }))
    .where('place_id', '=', placeId)
    .where('id', '=', id)
    .where('revision', '=', expectedRevision)
    .returning(['id', 'revision'])
    .executeTakeFirst();
  if (!row) {
    await getBusinessCase(tx, placeId, id);
    throw new Conflict(
      'Someone else saved this business case since you opened it: reload it and make your change again',
    );
  }
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.case.update',
    subject: `business_case:${id}`,
    detail: { revision: row.revision },
  });
  return row;
}

/** A lookup over the place's unit costs in force, for running its business cases. */
export async function placeUnitCostLookup(tx: Tx, placeId: number): Promise<UnitCostLookup> {
  const local = await localUnitCostsInForce(tx, placeId);
  const byCode = new Map<string, UnitCost>([
    ...NATIONAL_UNIT_COSTS.map((c) => [c.code, c] as const),
    ...local.map((c) => [c.code, c] as const),
  ]);
  return (code) => byCode.get(code);
}

export async function runBusinessCase(tx: Tx, placeId: number, id: number) {
  const row = await getBusinessCase(tx, placeId, id);
  return { case: row, results: runModel(row.model, await placeUnitCostLookup(tx, placeId)) };
}

/** The case, the unit costs it runs on, and why it cannot be computed on them (empty when it can). */
export async function caseOnUnitCosts(tx: Tx, placeId: number, id: number) {
  const row = await getBusinessCase(tx, placeId, id);
  const lookup = await placeUnitCostLookup(tx, placeId);
  return { row, lookup, problems: caseProblems(row.model, lookup) };
}

/** The case and the unit costs it runs on, refused (on `field`) when it cannot be computed. */
async function computableCase(tx: Tx, placeId: number, id: number, field: string) {
  const { row, lookup, problems } = await caseOnUnitCosts(tx, placeId, id);
  if (problems.length) {
    const message = `This business case cannot be computed, so it stays a draft: ${problems.join(' ')}`;
    throw new Invalid(message, { [field]: message });
  }
  return { row, lookup };
}

// ---------------------------------------------------------------------------------------------
// Investment agreements: proposed from a revision, approved by a decision, posted by the ledger.

export interface AgreementRow {
  id: number;
  business_case_id: number;
  case_revision: number;
  agreement: InvestmentAgreement;
  proposed_at: Date;
  decision_id: number | null;
  decision_title: string | null;
  approved_at: Date | null;
  transaction_id: number | null;
  posted_at: Date | null;
}

export async function listCaseAgreements(
  tx: Tx,
  placeId: number,
  caseId: number,
  agreementId?: number,
): Promise<AgreementRow[]> {
  let query = tx
    .selectFrom('cba_investment_agreements as g')
    .leftJoin('decisions as d', (j) =>
      j.onRef('d.place_id', '=', 'g.place_id').onRef('d.id', '=', 'g.decision_id'),
    )
    .select([
      'g.id',
      'g.business_case_id',
      'g.case_revision',
      'g.agreement',
      'g.proposed_at',
      'g.decision_id',
      'd.title as decision_title',
      'g.approved_at',
      'g.transaction_id',
      'g.posted_at',
    ])
    .where('g.place_id', '=', placeId)
    .where('g.business_case_id', '=', caseId);
  if (agreementId !== undefined) query = query.where('g.id', '=', agreementId);
  return query.orderBy('g.id', 'desc').execute();
}

export async function getAgreement(
  tx: Tx,
  placeId: number,
  caseId: number,
  agreementId: number,
): Promise<AgreementRow> {
  const [row] = await listCaseAgreements(tx, placeId, caseId, agreementId);
  if (!row) throw new NotFound('No such investment agreement for this business case');
  return row;
}

/** Stores the agreement the case's current revision proposes. */
export async function proposeInvestment(tx: Tx, placeId: number, personId: number | null, caseId: number) {
  const { row, lookup } = await computableCase(tx, placeId, caseId, 'case');
  const results = runModel(row.model, lookup);
  const agreement = results.investment_agreement;
  if (!agreement.repayments.length && !Object.keys(agreement.to_reinvestment_pence).length) {
    throw new Invalid('This business case proposes no repayments and no savings to reinvest', {});
  }
  const { id } = await tx
    .insertInto('cba_investment_agreements')
    .values({
      place_id: placeId,
      business_case_id: caseId,
      case_revision: row.revision,
      agreement: JSON.stringify(agreement),
      forecast_savings_pence: results.totals.present_value.fiscal_pence,
      proposed_by: personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.agreement.propose',
    subject: `investment_agreement:${id}`,
    detail: { business_case_id: caseId, case_revision: row.revision },
  });
  return { id };
}

/** Links the programme board's decision; only an agreed decision approves. */
export async function approveInvestment(
  tx: Tx,
  placeId: number,
  personId: number | null,
  caseId: number,
  agreementId: number,
  decisionId: number,
) {
  const agreement = await getAgreement(tx, placeId, caseId, agreementId);
  if (agreement.decision_id !== null) throw new Conflict('This agreement is already approved');
  await computableCase(tx, placeId, caseId, 'decision_id');
  const decision = await decisionOfPlace(tx, placeId, decisionId);
  if (!decision)
    throw new Invalid('Select a board decision of this place', {
      decision_id: 'Select a board decision of this place',
    });
  if (!decision.agreed_at)
    throw new Invalid('The decision has not been agreed by the board yet', {
      decision_id: 'The decision has not been agreed by the board yet',
    });
  await stampAgreement(tx, placeId, personId, agreementId, 'approve', { decision_id: decisionId });
}

/** Marks an agreement posted, with the ledger transaction that carries it. */
export async function recordPosting(
  tx: Tx,
  placeId: number,
  personId: number | null,
  agreementId: number,
  transactionId: number,
) {
  await stampAgreement(tx, placeId, personId, agreementId, 'post', { transaction_id: transactionId });
}

/** Records a step of an agreement: what authorised it (the audit entry says which) and when. */
async function stampAgreement(
  tx: Tx,
  placeId: number,
  personId: number | null,
  agreementId: number,
  step: 'approve' | 'post',
  link: { decision_id: number } | { transaction_id: number },
) {
  const at = step === 'approve' ? { approved_at: new Date() } : { posted_at: new Date() };
  await tx
    .updateTable('cba_investment_agreements')
    .set({ ...link, ...at })
    .where('place_id', '=', placeId)
    .where('id', '=', agreementId)
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: `cba.agreement.${step}`,
    subject: `investment_agreement:${agreementId}`,
    detail: link,
  });
}

// ---------------------------------------------------------------------------------------------
// The families a case is about, for forecast against realised.

export interface CohortLink {
  taken_on_from: string;
  taken_on_to: string;
}

export async function getCohortLink(
  tx: Tx,
  placeId: number,
  caseId: number,
): Promise<CohortLink | undefined> {
  return tx
    .selectFrom('cba_case_cohorts')
    .select(['taken_on_from', 'taken_on_to'])
    .where('place_id', '=', placeId)
    .where('business_case_id', '=', caseId)
    .executeTakeFirst();
}

/** Links (or re-links) a case to the families taken on in a window of dates. */
export async function linkCohort(
  tx: Tx,
  placeId: number,
  personId: number | null,
  caseId: number,
  link: CohortLink,
) {
  await tx
    .insertInto('cba_case_cohorts')
    .values({ place_id: placeId, business_case_id: caseId, ...link, linked_by: personId })
    .onConflict((oc) =>
      oc
        .columns(['place_id', 'business_case_id'])
        .doUpdateSet({ ...link, linked_by: personId, linked_at: new Date() }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'cba.case.link_cohort',
    subject: `business_case:${caseId}`,
    detail: { ...link },
  });
}
