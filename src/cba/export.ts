/** Results as CSV a finance team can open: one row a year, then the headline measures. */
import { formatPounds } from '../core/money.ts';
import type { ModelResults } from './domain.ts';

function cell(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(text) && !/^-?[\d.,£]+$/.test(text) ? `'${text}` : text;
  return /[",\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const money = (p: number) => (p / 100).toFixed(2);

export function resultsCsv(r: ModelResults): string {
  const agencies = Object.keys(r.totals.fiscal_by_agency_pv);
  const head = ['year', 'financial_year', 'discount_factor', 'costs', ...agencies.flatMap((a) => [`${a} cashable`, `${a} non-cashable`]), 'fiscal', 'economic', 'social', 'pv_costs', 'pv_fiscal', 'cumulative_pv_costs', 'cumulative_pv_fiscal'];
  const rows = r.years.map((y) => [
    y.year,
    y.financial_year,
    y.discount_factor,
    money(y.costs_pence),
    ...agencies.flatMap((a) => [money(y.fiscal_by_agency[a]?.cashable_pence ?? 0), money(y.fiscal_by_agency[a]?.non_cashable_pence ?? 0)]),
    money(y.fiscal_pence),
    money(y.economic_pence),
    money(y.social_pence),
    money(y.present_value.costs_pence),
    money(y.present_value.fiscal_pence),
    money(y.cumulative_present_value.costs_pence),
    money(y.cumulative_present_value.fiscal_pence),
  ]);
  const summary = [
    [],
    ['measure', 'value'],
    ['net present budget impact', formatPounds(r.net_present_budget_impact_pence)],
    ['financial return on investment', r.financial_roi],
    ['public value return on investment', r.public_value_roi],
    ['payback year', r.payback_year],
  ];
  return [head, ...rows, ...summary].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
