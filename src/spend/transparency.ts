import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';
import { poundsNumber } from '../services/public.ts';
import { toCsv } from '../core/csv.ts';

/**
 * The column layout of the Local Government Transparency Code's "expenditure exceeding £500"
 * files as the DCLG guidance template has it (the layout Devon and most counties publish).
 */
const TRANSPARENCY_HEAD = [
  'Body Name',
  'Date',
  'Transaction Number',
  'Amount',
  'Supplier Name',
  'Expense Area',
  'Expense Type',
  'Expense Code',
  'Source File',
  'Source Line',
];

/** `2017-10-02` as the Code's files write dates: `02/10/2017`. */
const ukDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** Amounts in pounds with two decimals, credits negative: exact, printed from the pence. */
const poundsText = (amount: Pence) => poundsNumber(amount).toFixed(2);

type TransparencyRow = {
  body: string;
  paid_on: string;
  transaction_id: string;
  amount_pence: Pence;
  supplier: string;
  expense_area: string;
  expense_type: string;
  account_code: string;
  file_name: string;
  import_id: number;
  line: number;
};

/** One page of spend lines after `after` in (date, import, line) order, from imports up to `lastImport`. */
async function transparencyPage(
  tx: Tx,
  placeId: number,
  lastImport: number,
  after: { paid_on: string; import_id: number; line: number } | null,
  size: number,
): Promise<TransparencyRow[]> {
  let query = tx
    .selectFrom('spend_lines')
    .innerJoin('spend_imports', (join) =>
      join
        .onRef('spend_imports.place_id', '=', 'spend_lines.place_id')
        .onRef('spend_imports.id', '=', 'spend_lines.import_id'),
    )
    .select([
      'body',
      sql<string>`to_char(paid_on, 'YYYY-MM-DD')`.as('paid_on'),
      'transaction_id',
      'amount_pence',
      'supplier',
      'expense_area',
      'expense_type',
      'account_code',
      'file_name',
      'spend_lines.import_id',
      'line',
    ])
    .where('spend_lines.place_id', '=', placeId)
    .where('spend_lines.import_id', '<=', lastImport);
  if (after) {
    query = query.where(
      sql<boolean>`(spend_lines.paid_on, spend_lines.import_id, spend_lines.line) > (${after.paid_on}::date, ${after.import_id}, ${after.line})`,
    );
  }
  return (await query
    .orderBy('paid_on')
    .orderBy('spend_lines.import_id')
    .orderBy('line')
    .limit(size)
    .execute()) as TransparencyRow[];
}

const transparencyLine = (l: TransparencyRow) =>
  toCsv([
    [
      l.body,
      ukDate(l.paid_on),
      l.transaction_id,
      poundsText(l.amount_pence),
      l.supplier,
      l.expense_area,
      l.expense_type,
      l.account_code,
      l.file_name,
      String(l.line),
    ],
  ]);

export const TRANSPARENCY_PAGE = 2_000;

/**
 * Every imported spend line, in date order, in the Transparency Code layout, with the file and line
 * it came from: a page at a time, each page its own short transaction in the place (so a download
 * neither holds a connection nor keeps the file in memory, and other requests run between pages).
 * Only imports that existed when the download began are read, so the file is one consistent set:
 * an import's lines never change once it is made. The next page is read only when the client has
 * taken the previous one.
 */
export async function* transparencyCsvChunks(
  inPlaceTx: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>,
  placeId: number,
  options: { pageSize?: number; onPage?: (rows: number) => void } = {},
): AsyncGenerator<string> {
  const size = options.pageSize ?? TRANSPARENCY_PAGE;
  yield toCsv([TRANSPARENCY_HEAD]);
  const lastImport = await inPlaceTx(async (tx) => {
    const row = await tx
      .selectFrom('spend_imports')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('place_id', '=', placeId)
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  });
  let after: { paid_on: string; import_id: number; line: number } | null = null;
  for (;;) {
    const page: TransparencyRow[] = await inPlaceTx((tx) =>
      transparencyPage(tx, placeId, lastImport, after, size),
    );
    options.onPage?.(page.length);
    if (page.length === 0) return;
    yield page.map(transparencyLine).join('');
    if (page.length < size) return;
    const last: TransparencyRow = page.at(-1)!;
    after = { paid_on: last.paid_on, import_id: last.import_id, line: last.line };
  }
}

/** The whole file as one string (the CLI and small places); the web streams transparencyCsvChunks. */
export async function transparencyCsv(tx: Tx, placeId: number): Promise<string> {
  let text = '';
  for await (const chunk of transparencyCsvChunks((work) => work(tx), placeId)) text += chunk;
  return text;
}
