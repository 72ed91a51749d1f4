/** The results page's figures, each with the table of its numbers (src/core/chart.ts). */
import { barChart, renderSvg, type ChartFigure } from '../core/chart.ts';
import { formatPounds, formatPoundsShort } from '../core/money.ts';
import type { ModelResults } from './domain.ts';

/** Fiscal benefits in each year, stacked by the agency that gains (undiscounted, price base). */
export function benefitsByAgencyChart(r: ModelResults): ChartFigure {
  const agencies = Object.keys(r.totals.fiscal_by_agency_pv);
  const amount = (a: { cashable_pence: number; non_cashable_pence: number } | undefined) =>
    a ? a.cashable_pence + a.non_cashable_pence : 0;
  return barChart({
    caption: `Fiscal benefits by agency and year (${r.price_year} prices, not discounted)`,
    categories: r.years.map((y) => y.financial_year),
    series: agencies.map((agency) => ({
      name: agency,
      values: r.years.map((y) => amount(y.fiscal_by_agency[agency])),
    })),
    format: formatPounds,
    axisFormat: formatPoundsShort,
    stacked: true,
  });
}

/**
 * Cumulative discounted costs against cumulative discounted fiscal benefits; the payback point is
 * the year the benefit line reaches the cost line, marked on the picture and named in the caption.
 */
export function paybackChart(r: ModelResults): ChartFigure {
  const labels = r.years.map((y) => y.financial_year);
  const costs = r.years.map((y) => y.cumulative_present_value.costs_pence);
  const benefits = r.years.map((y) => y.cumulative_present_value.fiscal_pence);
  const payback = r.payback_year === null ? null : r.years[r.payback_year - 1]!;
  const caption = `Cumulative costs and fiscal benefits, present value: ${
    payback
      ? `pays back in ${payback.financial_year} (year ${payback.year})`
      : 'does not pay back within the appraisal period'
  }`;
  const svg = renderSvg(
    {
      aria: { enabled: true, label: { description: caption } },
      grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
      // The page's body size, as barChart uses: the SVG shrinks on a phone.
      legend: { top: 0, textStyle: { fontSize: 16 } },
      xAxis: { type: 'category', data: labels, axisLabel: { fontSize: 16 } },
      yAxis: { type: 'value', axisLabel: { fontSize: 16, formatter: (v: number) => formatPoundsShort(v) } },
      series: [
        { type: 'line', name: 'Cumulative costs', data: costs },
        {
          type: 'line',
          name: 'Cumulative fiscal benefits',
          data: benefits,
          ...(payback
            ? {
                markPoint: {
                  symbol: 'pin',
                  data: [
                    {
                      name: 'Payback',
                      coord: [payback.financial_year, payback.cumulative_present_value.fiscal_pence],
                      value: 'Payback',
                    },
                  ],
                },
              }
            : {}),
        },
      ],
    },
    { width: 560, height: 320 },
  );
  return {
    caption,
    svg,
    table: {
      head: ['Year', 'Cumulative costs', 'Cumulative fiscal benefits', 'Paid back?'],
      rows: r.years.map((y, i) => [
        y.financial_year,
        formatPounds(costs[i]!),
        formatPounds(benefits[i]!),
        r.payback_year !== null && y.year >= r.payback_year ? 'Yes' : 'No',
      ]),
    },
  };
}
