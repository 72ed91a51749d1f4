import { hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { examineFile, summariseSpend } from '../src/spend/parse.ts';
import { importSpend } from '../src/spend/store.ts';
import { openTestDatabase, type TestDatabase } from '../test/db.ts';
import { makePlace } from '../test/support.ts';
import { result, type Benchmark } from './types.ts';

const ROWS = Number(process.env.BENCH_SPEND_ROWS ?? 1_000_000);
const HEADER =
  'Body,Name of Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,Vat Reg No,Expense Area,Expense Type,Expense Code,Creditor Type';

/**
 * Writes ROWS lines in the Devon 2017 layout (BOM, CRLF, ISO date-times, some float artefacts and
 * credits), and beside it the same rows already clean (date, pence, text) for COPY, and the
 * clean rows again with a row key of the product's shape (24 base64url characters and `:1`).
 */
/** Writes `text`; resolves once the stream can take more. */
function writeOrWait(stream: fs.WriteStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

async function generate(dir: string) {
  const raw = fs.createWriteStream(path.join(dir, 'devon.csv'));
  const clean = fs.createWriteStream(path.join(dir, 'clean.csv'));
  const keyed = fs.createWriteStream(path.join(dir, 'keyed.csv'));
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
    const cleanRow = `2017-10-${day},${credit * penceAmount},${supplier},TX${i},Devon County Council,${area},${type},${code}\n`;
    // Each full stream's drain is listened for at once: waiting for one stream's drain first
    // could miss another's, which would then never come.
    const draining = [
      writeOrWait(
        raw,
        `18,Devon County Council,2017-10-${day} 00:00:00,TX${i},INV${i},${written},${supplier},${i % 5000},123456789,${area},${type},${code},LTD\r\n`,
      ),
      writeOrWait(clean, `${i + 2},${cleanRow}`),
      writeOrWait(keyed, `${i + 2},${hash('sha256', String(i), 'base64url').slice(0, 24)}:1,${cleanRow}`),
    ];
    await Promise.all(draining);
  }
  await Promise.all([
    new Promise<void>((r) => raw.end(() => r())),
    new Promise<void>((r) => clean.end(() => r())),
    new Promise<void>((r) => keyed.end(() => r())),
  ]);
  // The PostgreSQL server process reads the clean file itself, so it must be able to.
  fs.chmodSync(dir, 0o755);
  for (const file of ['clean.csv', 'keyed.csv']) fs.chmodSync(path.join(dir, file), 0o644);
  return {
    raw: path.join(dir, 'devon.csv'),
    clean: path.join(dir, 'clean.csv'),
    keyed: path.join(dir, 'keyed.csv'),
  };
}

/** COPY of a CSV file into a table: the server reads the file itself when it can (the fastest COPY). */
async function timedCopy(db: TestDatabase, table: string, columns: string, file: string): Promise<number> {
  const start = performance.now();
  if ('pglite' in db.raw) {
    await db.raw.pglite.query(`copy ${table} (${columns}) from '/dev/blob' with (format csv)`, [], {
      blob: new Blob([fs.readFileSync(file)]),
    });
  } else {
    // The server runs on this machine (127.0.0.1), so it reads the file itself.
    await sql.raw(`copy ${table} (${columns}) from '${file}' with (format csv)`).execute(db.kysely);
  }
  return (performance.now() - start) / 1000;
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

      const fields =
        'paid_on, amount_pence, supplier, transaction_id, body, expense_area, expense_type, account_code';
      await sql`create table copy_baseline (line integer, paid_on date, amount_pence bigint, supplier text, transaction_id text, body text, expense_area text, expense_type text, account_code text)`.execute(
        db.kysely,
      );
      const copySeconds = await timedCopy(db, 'copy_baseline', `line, ${fields}`, files.clean);

      // The floor for any import that keeps spend_lines' keys: the same rows with row keys, COPYed
      // (as a superuser, so no row-level security) into a table with spend_lines' columns,
      // defaults and both unique indexes.
      await sql`create table keyed_baseline (like spend_lines including defaults including indexes)`.execute(
        db.kysely,
      );
      await sql`alter table keyed_baseline alter place_id set default 1, alter import_id set default 1`.execute(
        db.kysely,
      );
      const keyedSeconds = await timedCopy(db, 'keyed_baseline', `line, row_key, ${fields}`, files.keyed);

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
      const keyedCopy = Math.round(ROWS / keyedSeconds);
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
            keyed_copy_seconds: Math.round(keyedSeconds * 10) / 10,
            keyed_copy_ratio: Math.round((copySeconds / keyedSeconds) * 1000) / 1000,
            bytes: fs.statSync(files.raw).size,
          },
        }),
        result({
          name: 'spend import against the keyed COPY floor',
          unit: 'rows/s',
          value: ours,
          baseline: {
            name: "COPY of the clean rows with row keys into a table with spend_lines' indexes",
            value: keyedCopy,
          },
          higherIsBetter: true,
          engine: db.engine,
          details: {
            rows: ROWS,
            ours_seconds: Math.round(ourSeconds * 10) / 10,
            keyed_copy_seconds: Math.round(keyedSeconds * 10) / 10,
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
