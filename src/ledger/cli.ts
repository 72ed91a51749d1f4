import fs from 'node:fs';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { inPlace, type Database } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { formatPounds } from '../core/money.ts';
import { findPlaceBySlug } from '../places/public.ts';
import { balancedBatch, CSV_HEADER, csvRows, hledgerEntry } from './domain.ts';
import { listBalances, postTransactions } from './postings.ts';
import { journal } from './journal.ts';
import { isIsoDate } from '../core/dates.ts';

/** A batch file larger than this is split by whoever made it: 10,000 transactions fit easily. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

async function placeId(db: Database, slug: string): Promise<number> {
  const place = await findPlaceBySlug(db, slug);
  if (!place) throw new Invalid(`No place with slug ${slug}`);
  return place.id;
}

function readBatch(file: string): unknown {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_FILE_BYTES)
      throw new Invalid(
        `${file} is larger than ${MAX_FILE_BYTES / 2 ** 20} MiB: split it into smaller batches`,
      );
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof Invalid) throw err;
    throw new Invalid(`Cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Invalid(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Writes to stdout and waits when the pipe is full, so a large export does not pile up in memory. */
async function write(text: string) {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export function ledgerCommands(program: Command) {
  const ledger = program.command('ledger').description('the pooled budget: a double-entry ledger in pence');
  ledger
    .command('post')
    .requiredOption('--place <slug>', 'the place whose ledger to post to')
    .requiredOption('--file <file>', 'a JSON array of {key, date, memo, postings:[{account, amount_pence}]}')
    .description(
      'post a batch of balanced transactions, all or none; a key posted before is not posted again',
    )
    .action(async (options: { place: string; file: string }) => {
      const batch = balancedBatch(readBatch(options.file));
      const results = await withDatabase(async (db) => {
        const id = await placeId(db, options.place);
        console.error(`Posting ${batch.length} transactions to ${options.place}…`);
        return inPlace(db, id, (tx) =>
          postTransactions(tx, id, batch, { kind: 'general', actor: { personId: null } }),
        );
      });
      const posted = results.filter((r) => r.status === 'posted');
      const legs = batch
        .filter((_, i) => results[i]!.status === 'posted')
        .reduce((n, t) => n + t.postings.length, 0);
      console.log(`Posted ${posted.length} transactions (${legs} postings) to ${options.place}.`);
      const again = results.length - posted.length;
      if (again) console.log(`${again} had been posted before with the same key and were not posted again.`);
    });
  ledger
    .command('balances')
    .requiredOption('--place <slug>', 'the place')
    .option('--as-of <date>', 'balances at the end of this day (YYYY-MM-DD)')
    .option('--json', 'print [{account, balance_pence}]')
    .description('the balance of every account')
    .action(async (options: { place: string; asOf?: string; json?: boolean }) => {
      if (options.asOf !== undefined && !isIsoDate(options.asOf))
        throw new Invalid('--as-of takes a date written YYYY-MM-DD');
      const rows = await withDatabase(async (db) => {
        const id = await placeId(db, options.place);
        return inPlace(db, id, (tx) => listBalances(tx, id, options.asOf));
      });
      if (options.json) return console.log(JSON.stringify(rows));
      for (const r of rows)
        console.log(`${r.account.padEnd(40)} ${formatPounds(r.balance_pence).padStart(20)}`);
    });
  ledger
    .command('export')
    .requiredOption('--place <slug>', 'the place')
    .requiredOption('--format <format>', 'hledger or csv')
    .description('write the whole journal to stdout, in date order')
    .action(async (options: { place: string; format: string }) => {
      if (options.format !== 'hledger' && options.format !== 'csv')
        throw new Invalid('--format must be hledger or csv');
      await withDatabase(async (db) => {
        const id = await placeId(db, options.place);
        await inPlace(db, id, async (tx) => {
          await write(
            options.format === 'csv'
              ? `${CSV_HEADER}\n`
              : `; placebudget ledger of ${options.place}; amounts in pounds sterling\n\n`,
          );
          for await (const t of journal(tx, id))
            await write(options.format === 'csv' ? csvRows(t) : `${hledgerEntry(t)}\n`);
        });
      });
    });
}
