import fs from 'node:fs';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inPlace } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { formatPounds } from '../core/money.ts';
import { findPlaceBySlug } from '../places/public.ts';
import { parseBusinessCase, runModel, type ModelResults } from './domain.ts';
import { hasDeflator, LATEST_PRICE_YEAR, nationalUnitCost } from '../reference/figures.ts';
import { listNationalUnitCosts, listUnitCosts } from './store.ts';
import { financialYearLabel } from '../core/dates.ts';

const MAX_MODEL_BYTES = 2_000_000;

function readModelFile(file: string): unknown {
  if (!fs.existsSync(file)) throw new Invalid(`No file ${file}`);
  if (fs.statSync(file).size > MAX_MODEL_BYTES)
    throw new Invalid(`${file} is larger than ${MAX_MODEL_BYTES} bytes`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Invalid(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function printSummary(r: ModelResults) {
  console.log(
    `${r.title} (${financialYearLabel(r.price_year)} prices, discounted at ${(r.discount_rate * 100).toFixed(1)}%)`,
  );
  console.log(`  Costs (present value)            ${formatPounds(r.totals.present_value.costs_pence)}`);
  console.log(`  Fiscal benefits (present value)  ${formatPounds(r.totals.present_value.fiscal_pence)}`);
  console.log(`  Net present budget impact        ${formatPounds(r.net_present_budget_impact_pence)}`);
  console.log(`  Financial return on investment   ${r.financial_roi ?? 'n/a'}`);
  console.log(`  Public value return              ${r.public_value_roi ?? 'n/a'}`);
  console.log(
    `  Payback                          ${r.payback_year ? `year ${r.payback_year}` : 'not within the appraisal period'}`,
  );
}

function priceYearOption(value: string | undefined): number {
  const year = value === undefined ? LATEST_PRICE_YEAR : Number(value);
  if (!Number.isInteger(year) || !hasDeflator(year))
    throw new Invalid(`--price-year must be a year with a GDP deflator, up to ${LATEST_PRICE_YEAR}`);
  return year;
}

export function cbaCommands(program: Command) {
  const cba = program
    .command('cba')
    .description('cost-benefit analysis: business cases and the unit cost database');
  cba
    .command('run')
    .argument('<model>', 'a business case in the JSON format of src/cba/README.md')
    .option('--json', 'print the full results as JSON')
    .description(
      'run a business case through the model, with the national unit cost database (no database needed)',
    )
    .action((file: string, options: { json?: boolean }) => {
      const results = runModel(parseBusinessCase(readModelFile(file)), nationalUnitCost);
      if (options.json) console.log(JSON.stringify(results, null, 2));
      else printSummary(results);
    });
  cba
    .command('unit-costs')
    .option('--json', 'print the entries as JSON')
    .option(
      '--price-year <year>',
      'also give each cost in this price year (default: the latest deflator year)',
    )
    .option('--place <slug>', "include the place's own costs (reads the database)")
    .description('list the unit cost database')
    .action(async (options: { json?: boolean; priceYear?: string; place?: string }) => {
      const priceYear = priceYearOption(options.priceYear);
      const rows = options.place
        ? await withDatabase(async (db) => {
            const place = await findPlaceBySlug(db, options.place!);
            if (!place) throw new Invalid(`No place with slug ${options.place}`);
            return inPlace(db, place.id, (tx) => listUnitCosts(tx, place.id, priceYear));
          })
        : listNationalUnitCosts(priceYear);
      if (options.json) return console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) {
        console.log(
          `${r.code.padEnd(36)} ${formatPounds(r.cost_pence).padStart(12)} (${r.price_year}) ${formatPounds(r.cost_in_price_year_pence).padStart(12)} (${priceYear})  ${r.agency}, ${r.outcome} ${r.unit}`,
        );
      }
    });
}
