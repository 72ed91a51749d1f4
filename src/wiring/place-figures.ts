import type { Tx } from '../core/db.ts';
import { pence } from '../core/money.ts';
import { approvedForecast, listCaseStandings } from '../cba/standing.ts';
import { defaultCatalogue } from '../families/catalogue.ts';
import { cohort } from '../families/costing.ts';
import { budgetReport, postedYears } from '../ledger/public.ts';
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
 * The figures the dashboard, benchmarks and national roll-up show, read from the ledger (one
 * financial year), the families cohort and the business cases (approved ones only).
 */
export const livePlaceFigures: PlaceFigures = {
  years: (tx, place) => postedYears(tx, place?.id ?? null),

  async money(tx, place, year) {
    const report = await budgetReport(tx, place.id, year);
    if (!report.services.length && !report.partners.length)
      return {
        available: false,
        reason: `Nothing is agreed or posted in the ledger for ${financialYearLabel(year)}.`,
      };
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
    const approved = await approvedForecast(tx, place.id);
    const caseHref = (id: number) => `/places/${place.slug}/cba/business-cases/${id}`;
    const notCounted = [
      ...(await listCaseStandings(tx, place.id))
        .filter((c) => !c.computable && !c.approved)
        .map((c) => ({
          what: c.title,
          why: `cannot be computed, so it stays a draft: ${c.reason}`,
          href: caseHref(c.id),
        })),
      ...approved.notKept.map((c) => ({
        what: c.title,
        why: 'approved before forecast savings were kept with the agreement: propose it again and approve that agreement to count it',
        href: caseHref(c.id),
      })),
    ];
    if (!families.available && approved.cases === 0) {
      const left = notCounted.map((n) => ` Not counted: ${n.what} ${n.why}`).join('');
      return {
        available: false,
        reason: `No business case is approved yet and no family has been worked with for a whole year.${left}`,
      };
    }
    const realised = families.available ? families.value.costBefore - families.value.costAfter : 0;
    return {
      available: true,
      value: { forecast: approved.forecast, realised: pence(realised), notCounted },
      source: {
        label: 'Business cases approved by the board (forecast) and the families cohort (realised)',
        href: `/api/v1/places/${place.slug}/cba/business-cases`,
      },
    };
  },
};
