/** Results as CSV and as an xlsx workbook a finance team can open. */
import ExcelJS from 'exceljs';
import { toCsv } from '../core/csv.ts';
import { formatPounds } from '../core/money.ts';
import type { BusinessCase, ModelResults } from './domain.ts';

const money = (p: number) => (p / 100).toFixed(2);

/** One row a year, then the headline measures. */
export function resultsCsv(r: ModelResults): string {
  const agencies = Object.keys(r.totals.fiscal_by_agency_pv);
  const head = [
    'year',
    'financial_year',
    'discount_factor',
    'costs',
    ...agencies.flatMap((a) => [`${a} cashable`, `${a} non-cashable`]),
    'fiscal',
    'economic',
    'social',
    'pv_costs',
    'pv_fiscal',
    'cumulative_pv_costs',
    'cumulative_pv_fiscal',
  ];
  const rows = r.years.map((y) => [
    y.year,
    y.financial_year,
    y.discount_factor,
    money(y.costs_pence),
    ...agencies.flatMap((a) => [
      money(y.fiscal_by_agency[a]?.cashable_pence ?? 0),
      money(y.fiscal_by_agency[a]?.non_cashable_pence ?? 0),
    ]),
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
  return toCsv([head, ...rows, ...summary]);
}

// ---------------------------------------------------------------------------------------------
// The spreadsheet: one sheet per section of the case and of its results, money as numbers in
// pounds with a £ format (so finance can add them up), rates as percentages.

const POUNDS = '"£"#,##0.00;[Red]-"£"#,##0.00';
const PERCENT = '0.0%';

type Column = { header: string; width?: number; format?: 'pounds' | 'percent' | 'ratio' };

function addSheet(
  book: ExcelJS.Workbook,
  name: string,
  columns: Column[],
  rows: (string | number | null)[][],
) {
  const sheet = book.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = columns.map((c) => ({
    header: c.header,
    width: c.width ?? (c.format ? 16 : 28),
    style: c.format
      ? { numFmt: c.format === 'pounds' ? POUNDS : c.format === 'percent' ? PERCENT : '0.00' }
      : {},
  }));
  sheet.getRow(1).font = { bold: true };
  // Text that a spreadsheet would run as a formula is written as plain text: exceljs stores
  // strings as strings, never as formulas, so no escaping is needed here.
  for (const row of rows) sheet.addRow(row);
  return sheet;
}

const pounds = (p: number) => p / 100;

/** The business case and its results as an xlsx workbook. */
export async function resultsWorkbook(model: BusinessCase, r: ModelResults): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'placebudget';
  const summary = [
    ['Title', r.title],
    ['Price base (financial year starting)', r.price_year],
    ['Discount rate', r.discount_rate],
    ['Net present budget impact', pounds(r.net_present_budget_impact_pence)],
    ['Financial return on investment', r.financial_roi],
    ['Public value return on investment', r.public_value_roi],
    ['Payback year', r.payback_year],
    ['Costs, present value', pounds(r.totals.present_value.costs_pence)],
    ['Fiscal benefits, present value', pounds(r.totals.present_value.fiscal_pence)],
    ['of which cashable', pounds(r.totals.present_value.cashable_pence)],
    ['Economic value, present value', pounds(r.totals.present_value.economic_pence)],
    ['Social value, present value', pounds(r.totals.present_value.social_pence)],
    ['Break-even success scale', r.break_even.success_scale],
  ];
  const sheet = addSheet(
    book,
    'Summary',
    [
      { header: 'Measure', width: 40 },
      { header: 'Value', width: 20 },
    ],
    summary,
  );
  sheet.getCell('B4').numFmt = '0.0%';
  for (const cell of ['B5', 'B9', 'B10', 'B11', 'B12', 'B13']) sheet.getCell(cell).numFmt = POUNDS;
  sheet.getCell('B14').numFmt = '0.0%';

  addSheet(
    book,
    'Costs',
    [
      { header: 'Partner' },
      { header: 'Appraisal year', width: 14 },
      { header: 'Cost', format: 'pounds' },
      { header: 'What for', width: 40 },
    ],
    model.costs.map((c) => [c.partner, c.year, pounds(c.amountPence), c.description ?? '']),
  );
  addSheet(
    book,
    'Benefit lines',
    [
      { header: 'Outcome', width: 40 },
      { header: 'Unit cost code' },
      { header: 'Who benefits' },
      { header: 'Value' },
      { header: 'Cashable' },
      { header: 'Cohort', width: 10 },
      { header: 'Engagement', format: 'percent' },
      { header: 'Success', format: 'percent' },
      { header: 'Deadweight', format: 'percent' },
      { header: 'Confidence grade', width: 10 },
      { header: 'Optimism bias', format: 'percent' },
      { header: 'Start year', width: 10 },
      { header: 'Years', width: 10 },
      { header: 'Drop-off', format: 'percent' },
      { header: 'Unit cost in price base', format: 'pounds' },
      { header: 'Full-year benefit', format: 'pounds' },
      { header: 'Source', width: 60 },
    ],
    r.lines.map((l) => {
      const b = model.benefits[l.index]!;
      return [
        l.outcome,
        l.code,
        l.beneficiary,
        l.value_type,
        l.cashable ? 'yes' : 'no',
        b.cohort,
        b.engagement,
        b.success,
        b.deadweight,
        b.confidenceGrade,
        l.optimism_bias,
        b.startYear,
        b.durationYears,
        b.dropOff,
        pounds(l.unit_cost_in_price_base_pence),
        pounds(l.full_year_benefit_pence),
        l.source,
      ];
    }),
  );
  const agencies = Object.keys(r.totals.fiscal_by_agency_pv);
  addSheet(
    book,
    'By year',
    [
      { header: 'Year', width: 8 },
      { header: 'Financial year', width: 12 },
      { header: 'Discount factor', width: 12 },
      { header: 'Costs', format: 'pounds' },
      ...agencies.flatMap((a): Column[] => [
        { header: `${a} cashable`, format: 'pounds' },
        { header: `${a} non-cashable`, format: 'pounds' },
      ]),
      { header: 'Fiscal', format: 'pounds' },
      { header: 'Economic', format: 'pounds' },
      { header: 'Social', format: 'pounds' },
      { header: 'PV costs', format: 'pounds' },
      { header: 'PV fiscal', format: 'pounds' },
      { header: 'Cumulative PV costs', format: 'pounds' },
      { header: 'Cumulative PV fiscal', format: 'pounds' },
    ],
    r.years.map((y) => [
      y.year,
      y.financial_year,
      y.discount_factor,
      pounds(y.costs_pence),
      ...agencies.flatMap((a) => [
        pounds(y.fiscal_by_agency[a]?.cashable_pence ?? 0),
        pounds(y.fiscal_by_agency[a]?.non_cashable_pence ?? 0),
      ]),
      pounds(y.fiscal_pence),
      pounds(y.economic_pence),
      pounds(y.social_pence),
      pounds(y.present_value.costs_pence),
      pounds(y.present_value.fiscal_pence),
      pounds(y.cumulative_present_value.costs_pence),
      pounds(y.cumulative_present_value.fiscal_pence),
    ]),
  );
  addSheet(
    book,
    'Who benefits',
    [
      { header: 'Partner' },
      { header: 'Costs PV', format: 'pounds' },
      { header: 'Fiscal benefits PV', format: 'pounds' },
      { header: 'Cashable PV', format: 'pounds' },
      { header: 'Net PV', format: 'pounds' },
    ],
    r.who_invests_who_benefits.map((p) => [
      p.partner,
      pounds(p.costs_pv_pence),
      pounds(p.fiscal_benefits_pv_pence),
      pounds(p.cashable_benefits_pv_pence),
      pounds(p.net_pv_pence),
    ]),
  );
  const ag = r.investment_agreement;
  addSheet(
    book,
    'Agreement',
    [{ header: 'From' }, { header: 'To' }, { header: 'Amount', format: 'pounds' }],
    [
      ...ag.repayments.map((t) => [t.from, t.to, pounds(t.amount_pence)]),
      ...Object.entries(ag.to_reinvestment_pence).map(([from, amount]) => [
        from,
        'Reinvestment account',
        pounds(amount),
      ]),
    ],
  );
  addSheet(
    book,
    'Sensitivity',
    [
      { header: 'Input' },
      { header: 'Change', format: 'percent' },
      { header: 'Net present budget impact', format: 'pounds' },
      { header: 'Financial ROI', format: 'ratio' },
      { header: 'Public value ROI', format: 'ratio' },
    ],
    r.sensitivity.map((s) => [
      s.input,
      s.change,
      pounds(s.net_present_budget_impact_pence),
      s.financial_roi,
      s.public_value_roi,
    ]),
  );
  return Buffer.from(await book.xlsx.writeBuffer());
}
