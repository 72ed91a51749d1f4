/**
 * Where each business case stands: a draft or approved (an investment agreement for it approved by
 * a board decision that is agreed), and whether it can be computed; and what the approved cases
 * forecast, which is all that forecast savings count (README, "Forecast savings").
 */
import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { caseProblems, parseBusinessCase } from './domain.ts';
import { placeUnitCostLookup } from './store.ts';

export interface CaseStanding {
  id: number;
  title: string;
  revision: number;
  updated_at: Date;
  approved: boolean;
  computable: boolean;
  /** Why the case cannot be computed; null when it can. */
  reason: string | null;
}

/** The place's business cases, latest saved first, each with where it stands. */
export async function listCaseStandings(tx: Tx, placeId: number): Promise<CaseStanding[]> {
  const rows = await tx
    .selectFrom('cba_business_cases as c')
    .select((eb) => [
      'c.id',
      'c.title',
      'c.revision',
      'c.updated_at',
      'c.model',
      eb
        .exists(
          eb
            .selectFrom('cba_investment_agreements as g')
            .innerJoin('decisions as d', (j) =>
              j.onRef('d.place_id', '=', 'g.place_id').onRef('d.id', '=', 'g.decision_id'),
            )
            .select('g.id')
            .whereRef('g.place_id', '=', 'c.place_id')
            .whereRef('g.business_case_id', '=', 'c.id')
            .where('d.agreed_at', 'is not', null),
        )
        .as('approved'),
    ])
    .where('c.place_id', '=', placeId)
    .orderBy('c.updated_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute();
  const lookup = await placeUnitCostLookup(tx, placeId);
  return rows.map(({ model, ...row }) => {
    let problems: string[];
    try {
      problems = caseProblems(parseBusinessCase(model), lookup);
    } catch (err) {
      // A case stored in a shape the format no longer reads cannot be computed either.
      if (!(err instanceof Invalid)) throw err;
      problems = Object.values(err.fields ?? { case: err.message });
    }
    return {
      ...row,
      approved: Boolean(row.approved),
      computable: problems.length === 0,
      reason: problems.length ? problems.join(' ') : null,
    };
  });
}

export interface ApprovedForecast {
  /** The sum, over approved cases, of the present value of fiscal benefits of the revision approved. */
  forecast: Pence;
  /** Approved cases counted. */
  cases: number;
  /** Approved cases whose agreement was proposed before its forecast was kept: not counted. */
  notKept: { id: number; title: string }[];
}

/**
 * Forecast savings from approved cases only, each case once: a case approved more than once
 * counts at the revision of its latest approval.
 */
export async function approvedForecast(tx: Tx, placeId: number): Promise<ApprovedForecast> {
  const rows = await tx
    .selectFrom('cba_investment_agreements as g')
    .innerJoin('decisions as d', (j) =>
      j.onRef('d.place_id', '=', 'g.place_id').onRef('d.id', '=', 'g.decision_id'),
    )
    .where('g.place_id', '=', placeId)
    .where('d.agreed_at', 'is not', null)
    .innerJoin('cba_business_cases as c', (j) =>
      j.onRef('c.place_id', '=', 'g.place_id').onRef('c.id', '=', 'g.business_case_id'),
    )
    .select(['c.id', 'c.title', 'g.forecast_savings_pence'])
    .distinctOn('g.business_case_id')
    .orderBy('g.business_case_id')
    .orderBy('g.approved_at', 'desc')
    .orderBy('g.id', 'desc')
    .execute();
  const kept = rows.filter((r) => r.forecast_savings_pence !== null);
  return {
    forecast: pence(kept.reduce((sum, r) => sum + r.forecast_savings_pence!, 0)),
    cases: kept.length,
    notKept: rows.filter((r) => r.forecast_savings_pence === null).map(({ id, title }) => ({ id, title })),
  };
}
