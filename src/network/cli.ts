import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { Invalid } from '../core/errors.ts';
import { ROLLUP_CSV, rollupCsv, rollupDataPackage } from './export.ts';
import type { FigureLog, PlaceFigures } from './figures.ts';
import { MEASURES, publish, type Measure } from './publish.ts';
import { loadNetworkFigures } from './store.ts';
import { todayIso } from '../core/dates.ts';

const measures = Object.keys(MEASURES) as Measure[];

/** A place whose figures could not be read is reported on standard error, by its reference. */
const stderrLog: FigureLog = {
  error: ({ err, reference, place }, message) =>
    console.error(`${place}: ${message} (reference ${reference})`, err),
};

function yearOption(value: string): number {
  const year = Number(value);
  if (!Number.isInteger(year) || year < 2000 || year > 2100)
    throw new Invalid(
      '--year must be a financial year from 2000 to 2100, named by its first year: 2012 for 2012/13',
    );
  return year;
}
const YEAR_HELP =
  'the financial year of the ledger figures (2012 for 2012/13); the latest with postings if left out';

export function networkCommands(program: Command, placeFigures: PlaceFigures) {
  const network = program
    .command('network')
    .description('the learning network: published benchmarks and the national roll-up');
  network
    .command('benchmarks')
    .option('--json', 'print the published benchmarks as JSON, exactly as GET /api/v1/network/benchmarks')
    .option('--rank-by <measure>', `one of ${measures.join(', ')}`, 'indicator_progress')
    .option('--year <year>', YEAR_HELP, yearOption)
    .action(async (options: { json?: boolean; rankBy: string; year?: number }) => {
      if (!measures.includes(options.rankBy as Measure))
        throw new Invalid(`--rank-by must be one of ${measures.join(', ')}`);
      const rankBy = options.rankBy as Measure;
      const { year, benchmarks } = await withDatabase(async (db) => {
        const network = await loadNetworkFigures(db, placeFigures, { year: options.year, log: stderrLog });
        return { year: network.year, ...publish(network.places, rankBy) };
      });
      if (options.json) return console.log(JSON.stringify({ rank_by: rankBy, year, benchmarks }));
      if (!benchmarks.length) return console.log('No place shares its benchmarks yet.');
      for (const b of benchmarks) {
        const shown = measures.map((m) => `${m}=${b.measures[m].text}`).join('  ');
        console.log(`${String(b.rank ?? '-').padStart(3)}  ${b.name.padEnd(45)} ${shown}`);
      }
    });
  network
    .command('rollup')
    .option(
      '--out <folder>',
      'write rollup.csv and datapackage.json (a Fiscal Data Package) into this folder',
    )
    .option('--year <year>', YEAR_HELP, yearOption)
    .description(
      'the national roll-up with small-number suppression; CSV on standard output unless --out is given',
    )
    .action(async (options: { out?: string; year?: number }) => {
      const { rollup } = await withDatabase(async (db) =>
        publish((await loadNetworkFigures(db, placeFigures, { year: options.year, log: stderrLog })).places),
      );
      if (!options.out) {
        process.stdout.write(rollupCsv(rollup));
        return;
      }
      fs.mkdirSync(options.out, { recursive: true });
      fs.writeFileSync(path.join(options.out, ROLLUP_CSV), rollupCsv(rollup));
      fs.writeFileSync(
        path.join(options.out, 'datapackage.json'),
        JSON.stringify(rollupDataPackage(todayIso()), null, 2) + '\n',
      );
      console.log(`Wrote ${ROLLUP_CSV} and datapackage.json to ${options.out}`);
    });
}
