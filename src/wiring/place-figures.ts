import type { Tx } from '../core/db.ts';
import { pence } from '../core/money.ts';
import { listBusinessCases, runBusinessCase } from '../cba/store.ts';
import { defaultCatalogue } from '../families/catalogue.ts';
import { cohort } from '../families/costing.ts';
import { listBudgets } from '../ledger/agreements.ts';
import { budgetReport } from '../ledger/reports.ts';
import type { FamilyFigures, Figure, PlaceFigures, PlaceRef } from '../network/figures.ts';
import { addMonths, financialYearLabel, todayIso } from '../core/dates.ts';

async function familyFigures(tx: Tx, place: PlaceRef): Promise<Figure<FamilyFigures>> {
  const today = todayIso();
  const result = await cohort(tx, place.id, defaultCatalogue, null);
  // In the cohort once the whole year after the date taken on has passed, as the families module counts it.
  const full = result.perFamily.filter((f) => addMonths(f.taken_on, 12) <= today);
  if (full.length === 0)
    return { available: false, reason: 'No family has been worked with for a whole year yet.' };
  return {
    available: true,
    value: {
      cohort: full.length,
      costBefore: pence(full.reduce((s, f) => s + f.before, 0)),
      costAfter: pence(full.reduce((s, f) => s + f.after, 0)),
    },
    source: {
      label: 'Families: cohort costs before and after',
      href: `/places/${place.slug}/families/cohort`,
    },
  };
}

/**
 * The figures the dashboard, benchmarks and national roll-up show, read from the ledger (the
 * latest financial year with a pooled budget), the families cohort and the business cases.
 */
export const livePlaceFigures: PlaceFigures = {
  async money(tx, place) {
    const years = (await listBudgets(tx, place.id)).map((b) => b.financial_year);
    if (years.length === 0)
      return { available: false, reason: 'The place has no pooled budget in the ledger yet.' };
    const year = Math.max(...years);
    const report = await budgetReport(tx, place.id, year);
    return {
      available: true,
      value: {
        pot: report.totals.contributed,
        committed: report.totals.committed,
        spent: report.totals.actual,
        byPartner: report.partners.map((p) => ({
          partnerId: p.partner_id,
          name: p.partner,
          pot: p.contributed,
          committed: pence(p.forecast_share - p.actual_share),
          spent: p.actual_share,
        })),
      },
      source: {
        label: `Ledger: budget against actual, ${financialYearLabel(year)}`,
        href: `/places/${place.slug}/ledger?year=${year}`,
      },
    };
  },

  families: familyFigures,

  async savings(tx, place, families) {
    const cases = await listBusinessCases(tx, place.id);
    if (!families.available && cases.length === 0) {
      return { available: false, reason: 'There are no business cases and no family costs a year on yet.' };
    }
    let forecast = 0;
    for (const c of cases)
      forecast += (await runBusinessCase(tx, place.id, c.id)).results.totals.present_value.fiscal_pence;
    const realised = families.available ? families.value.costBefore - families.value.costAfter : 0;
    return {
      available: true,
      value: { forecast: pence(forecast), realised: pence(realised) },
      source: {
        label: 'Business cases (forecast) and the families cohort (realised)',
        href: `/api/v1/places/${place.slug}/cba/business-cases`,
      },
    };
  },
};
