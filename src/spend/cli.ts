import fs from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inPlace } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { formatPounds } from '../core/money.ts';
import { findPlaceBySlug, partnerNamed } from '../places/public.ts';
import { importSpend } from './store.ts';

export function spendCommands(program: Command) {
  const spend = program.command('spend').description('spend: councils’ published “spending over £500” files');
  spend
    .command('import')
    .requiredOption('--place <slug>', 'the place the spend belongs to')
    .argument('<file>', 'a CSV file as the council published it')
    .option('--profile <name>', 'a saved column mapping for this publisher')
    .option(
      '--partner <name>',
      'the partner that published the file (default: the profile’s, or the file’s body name)',
    )
    .option('--dry-run', 'read and check the file, import nothing')
    .option(
      '--strict',
      'import nothing if any line cannot be read (default: import the readable rows and record the rejects)',
    )
    .option('--json', 'print {"rows", "rejected", "total_pence", "excluded": [{"line", "reason"}]}')
    .description('import a spend file: one transaction, and the same file twice adds nothing')
    .action(
      async (
        file: string,
        options: {
          place: string;
          profile?: string;
          partner?: string;
          dryRun?: boolean;
          strict?: boolean;
          json?: boolean;
        },
      ) => {
        if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new Invalid(`No such file: ${file}`);
        const result = await withDatabase(async (db) => {
          const place = await findPlaceBySlug(db, options.place);
          if (!place) throw new Invalid(`No place with slug ${options.place}`);
          const partnerId = options.partner
            ? await partnerIdByName(db, place.id, options.partner)
            : undefined;
          const bar = new cliProgress.SingleBar(
            { format: 'Importing [{bar}] {percentage}% | line {value} of {total}', stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          let started = false;
          try {
            return await importSpend(
              db,
              place.id,
              {
                fileName: path.basename(file),
                open: () => fs.createReadStream(file, { highWaterMark: 256 * 1024 }),
                ...(options.profile ? { profileName: options.profile } : {}),
                ...(partnerId ? { partnerId } : {}),
                dryRun: options.dryRun ?? false,
                rejects: options.strict ? 'refuse' : 'record',
                onProgress: (line, facts) => {
                  if (!started) bar.start(facts.lines, 0);
                  started = true;
                  bar.update(line);
                },
              },
              null,
            );
          } finally {
            if (started) bar.stop();
          }
        });
        if (result.alreadyImported)
          console.error(
            `${path.basename(file)} was imported before (import ${result.importId}); nothing was added.`,
          );
        if (options.json) {
          console.log(
            JSON.stringify({
              rows: result.rows,
              rejected: result.rejected,
              total_pence: result.totalPence,
              excluded: result.excluded.map(({ line, reason }) => ({ line, reason })),
            }),
          );
          return;
        }
        const verb = options.dryRun
          ? 'Would import'
          : result.alreadyImported
            ? 'Already imported'
            : 'Imported';
        console.log(
          `${verb} ${result.rows} rows totalling ${formatPounds(result.totalPence)} (${result.facts.encoding}, header on line ${result.layout.headerLine}).`,
        );
        if (!options.dryRun && !result.alreadyImported && result.added !== result.rows)
          console.log(
            `${result.rows - result.added} rows were already in from another file and were not added again.`,
          );
        for (const e of result.excluded) console.log(`  line ${e.line}: ${e.reason}`);
      },
    );
}

async function partnerIdByName(
  db: Parameters<typeof inPlace>[0],
  placeId: number,
  name: string,
): Promise<number> {
  const id = await inPlace(db, placeId, (tx) => partnerNamed(tx, placeId, name));
  if (id === undefined) throw new Invalid(`This place has no partner called ${name}`);
  return id;
}
