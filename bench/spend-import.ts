import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { examineFile, summariseSpend } from '../src/services/spend-parse.ts';
import { importSpend } from '../src/services/spend-store.ts';
import { openTestDatabase } from '../test/db.ts';
import { makePlace } from '../test/support.ts';
import { result, type Benchmark } from './types.ts';

const ROWS = Number(process.env.BENCH_SPEND_ROWS ?? 1_000_000);
const HEADER =
  'Body,Name of Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,Vat Reg No,Expense Area,Expense Type,Expense Code,Creditor Type';

/**
 * Writes ROWS lines in the Devon 2017 layout (BOM, CRLF, ISO date-times, some float artefacts and
 * credits), and beside it the same rows already clean (date, pence, text) for COPY.
 */
async function generate(dir: string) {
  const raw = fs.createWriteStream(path.join(dir, 'devon.csv'));
  const clean = fs.createWriteStream(path.join(dir, 'clean.csv'));
  raw.write('\ufeff' + HEADER + '\r\n');
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  for (let i = 0; i < ROWS; i++) {
    const penceAmount = (next() % 5_000_000) + 50_000;
    const credit = i % 50 === 0 ? -1 : 1;
    const pounds = `${credit < 0 ? '-' : ''}${Math.trunc(penceAmount / 100)}.${String(penceAmount % 100).padStart(2, '0')}`;
    const written = i % 12 === 0 ? `${pounds}0000000001` : pounds;
    const day = String((i % 28) + 1).padStart(2, '0');
    const supplier = `SUPPLIER ${i % 5000} LTD`;
    const area = `Area ${i % 20}`;
    const type = `Expense type ${i % 100}`;
    const code = `C${i % 400}`;
    const a = raw.write(
      `18,Devon County Council,2017-10-${day} 00:00:00,TX${i},INV${i},${written},${supplier},${i % 5000},123456789,${area},${type},${code},LTD\r\n`,
    );
    const b = clean.write(
      `${i + 2},2017-10-${day},${credit * penceAmount},${supplier},TX${i},Devon County Council,${area},${type},${code}\n`,
    );
    if (!a) await new Promise<void>((r) => raw.once('drain', () => r()));
    if (!b) await new Promise<void>((r) => clean.once('drain', () => r()));
  }
  await Promise.all([
    new Promise<void>((r) => raw.end(() => r())),
    new Promise<void>((r) => clean.end(() => r())),
  ]);
  // The PostgreSQL server process reads the clean file itself, so it must be able to.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'clean.csv'), 0o644);
  return { raw: path.join(dir, 'devon.csv'), clean: path.join(dir, 'clean.csv') };
}

const bench: Benchmark = {
  name: 'spend-import',
  description: `${ROWS.toLocaleString('en-GB')} Devon-2017-layout rows through placebudget's spend import against COPY of the same clean rows into a bare table`,
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-spend-bench-'));
    const db = await openTestDatabase();
    try {
      const files = await generate(dir);
      const placeId = await makePlace(db, 'devon');

      await sql`create table copy_baseline (line integer, paid_on date, amount_pence bigint, supplier text, transaction_id text, body text, expense_area text, expense_type text, account_code text)`.execute(
        db.kysely,
      );
      const copyStart = performance.now();
      const columns =
        '(line, paid_on, amount_pence, supplier, transaction_id, body, expense_area, expense_type, account_code)';
      if ('pglite' in db.raw) {
        await db.raw.pglite.query(`copy copy_baseline ${columns} from '/dev/blob' with (format csv)`, [], {
          blob: new Blob([fs.readFileSync(files.clean)]),
        });
      } else {
        // The server runs on this machine (127.0.0.1), so it reads the file itself: COPY at its fastest.
        await sql
          .raw(`copy copy_baseline ${columns} from '${files.clean}' with (format csv)`)
          .execute(db.kysely);
      }
      const copySeconds = (performance.now() - copyStart) / 1000;

      const start = performance.now();
      const imported = await importSpend(
        db,
        placeId,
        {
          fileName: 'devon.csv',
          open: () => fs.createReadStream(files.raw, { highWaterMark: 1 << 20 }),
          rejects: 'refuse',
        },
        null,
      );
      const ourSeconds = (performance.now() - start) / 1000;
      if (imported.rows !== ROWS) throw new Error(`imported ${imported.rows} rows, expected ${ROWS}`);

      // The same file through the parser alone (no database): how much of our time is reading the CSV.
      const readRaw = () => fs.createReadStream(files.raw, { highWaterMark: 1 << 20 });
      const parseStart = performance.now();
      const parsed = await summariseSpend(readRaw(), { encoding: (await examineFile(readRaw())).encoding });
      const parseSeconds = (performance.now() - parseStart) / 1000;
      if (parsed.rows !== ROWS) throw new Error(`parsed ${parsed.rows} rows, expected ${ROWS}`);

      const ours = Math.round(ROWS / ourSeconds);
      const copy = Math.round(ROWS / copySeconds);
      return [
        result({
          name: 'spend import',
          unit: 'rows/s',
          value: ours,
          baseline: { name: 'COPY of the clean rows into a bare table', value: copy },
          higherIsBetter: true,
          target: { text: 'ratio >= 0.3', met: ours / copy >= 0.3 },
          engine: db.engine,
          details: {
            rows: ROWS,
            ours_seconds: Math.round(ourSeconds * 10) / 10,
            copy_seconds: Math.round(copySeconds * 10) / 10,
            parse_only_seconds: Math.round(parseSeconds * 10) / 10,
            parse_only_ratio: Math.round((copySeconds / parseSeconds) * 1000) / 1000,
            bytes: fs.statSync(files.raw).size,
          },
        }),
      ];
    } finally {
      await db.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
