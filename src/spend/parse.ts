/**
 * Reads councils' "spending over £500" CSV files as the Local Government Transparency Code has them
 * published: any of several encodings, title banners above the header, header names that change
 * between years, totals rows, and lines a spreadsheet export has broken. Pure: bytes in, rows and
 * line-numbered exclusions out, one chunk at a time, so a file of any size streams through.
 */
import { createHash } from 'node:crypto';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { Invalid } from '../core/errors.ts';
import { formatPounds, pence, type Pence } from '../core/money.ts';

export const ENCODINGS = ['utf-8', 'utf-8-bom', 'windows-1252'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** What each column means to us; a file has to have at least the first three. */
export const COLUMN_ROLES = [
  'date',
  'amount',
  'supplier',
  'transaction_id',
  'body',
  'expense_area',
  'expense_type',
  'account_code',
] as const;
export type ColumnRole = (typeof COLUMN_ROLES)[number];
export const REQUIRED_ROLES: readonly ColumnRole[] = ['date', 'amount', 'supplier'];

export const ROLE_LABELS: Record<ColumnRole, string> = {
  date: 'Payment date',
  amount: 'Amount',
  supplier: 'Supplier',
  transaction_id: 'Transaction id',
  body: 'Body (publisher)',
  expense_area: 'Expense area',
  expense_type: 'Expense type',
  account_code: 'Account code',
};

/**
 * Header names seen in published files, most specific first. Names are compared after
 * `normaliseHeader`, so case, spacing and punctuation do not matter (" Amount ", "Name of  Body").
 */
const HEADER_NAMES: Record<ColumnRole, string[]> = {
  date: [
    'payment date',
    'paid date',
    'date paid',
    'transaction date',
    'invoice creation date',
    'invoice date',
    'date',
    'posting date',
    'effective date',
  ],
  amount: [
    'amount',
    'net amount',
    'nett amount',
    'invoice nett amount',
    'amount paid',
    'total amount',
    'value',
    'amount excluding vat',
    'amount excl vat',
    'transaction amount',
  ],
  supplier: [
    'supplier name',
    'supplier',
    'payee name',
    'payee',
    'merchant name',
    'merchant',
    'beneficiary',
    'vendor name',
    'vendor',
    'creditor name',
  ],
  transaction_id: [
    'transaction number',
    'transaction id',
    'transaction no',
    'trans no',
    'transaction reference',
    'internal reference number',
    'payment reference',
    'reference',
    'invoice number',
    'transaction',
  ],
  body: ['name of body', 'body name', 'organisation name', 'organisation', 'body', 'client', 'council'],
  expense_area: [
    'expense area',
    'service area',
    'spend area',
    'service',
    'department',
    'directorate',
    'service division',
    'organisational unit',
    'organisatonal unit',
  ],
  expense_type: [
    'expense type',
    'expenditure category',
    'expenditure catergory',
    'account description',
    'subj description',
    'expense description',
    'expenditure type',
    'purpose of expenditure',
    'expenditure unit',
    'description',
    'merchant category',
  ],
  account_code: [
    'expense code',
    'account code',
    'expenditure code',
    'cost code',
    'subjective code',
    'ledger code',
    'nominal code',
  ],
};

/** A publisher's layout as a person confirmed it: which header names hold which role. */
export interface MappingProfile {
  columns: Partial<Record<ColumnRole, string>>;
}

export interface Layout {
  encoding: Encoding;
  /** The line of the header (the last line of a two-row header). */
  headerLine: number;
  headers: string[];
  /** Column index of each role found. */
  columns: Partial<Record<ColumnRole, number>>;
}

export interface SpendRow {
  line: number;
  /** YYYY-MM-DD */
  paidOn: string;
  amountPence: Pence;
  supplier: string;
  transactionId: string;
  body: string;
  expenseArea: string;
  expenseType: string;
  accountCode: string;
}

export type ExclusionKind = 'blank' | 'totals' | 'unreadable';
export interface Exclusion {
  line: number;
  kind: ExclusionKind;
  reason: string;
  /** The line as read, for the person fixing it (cut to 500 characters). */
  raw: string;
}

export interface ParsedBatch {
  layout: Layout;
  rows: SpendRow[];
  excluded: Exclusion[];
}

/** Limits: a header is found in the first lines or the file is not a spend file. */
const HEADER_SEARCH_RECORDS = 50;
const MAX_RECORD_CHARS = 64 * 1024;
const MAX_FIELD_CHARS = 2000;
const RAW_CHARS = 500;

export function normaliseHeader(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Matches each role to a column by its header name; a profile's names win over the built-in ones. */
export function detectColumns(
  headers: string[],
  profile?: MappingProfile,
): Partial<Record<ColumnRole, number>> {
  const names = headers.map(normaliseHeader);
  const taken = new Set<number>();
  const columns: Partial<Record<ColumnRole, number>> = {};
  const claim = (role: ColumnRole, wanted: string) => {
    const index = names.findIndex((name, i) => name === wanted && !taken.has(i));
    if (index < 0) return false;
    columns[role] = index;
    taken.add(index);
    return true;
  };
  for (const role of COLUMN_ROLES) {
    const chosen = profile?.columns[role];
    if (chosen !== undefined) claim(role, normaliseHeader(chosen));
  }
  for (const role of COLUMN_ROLES) {
    if (columns[role] !== undefined || profile?.columns[role] !== undefined) continue;
    HEADER_NAMES[role].some((wanted) => claim(role, wanted));
  }
  return columns;
}

function rolesMatched(cells: string[], profile?: MappingProfile): number {
  return Object.keys(detectColumns(cells, profile)).length;
}

/** Cells holding nothing but spaces, non-breaking spaces or the `†` that a lost NBSP became. */
function isBlankCell(cell: string): boolean {
  return /^[\s\u00a0\u2020]*$/.test(cell);
}

/** A second header row ("Number,,Amount,,") carries words only, where every data row has digits. */
function isHeaderContinuation(cells: string[]): boolean {
  return cells.some((c) => !isBlankCell(c)) && cells.every((c) => !/\d/.test(c));
}

// ---------------------------------------------------------------------------------------------
// Amounts and dates

const DIGITS = /^(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?$/;

/**
 * The decimal text of an amount to integer pence, exactly: never through a float, so
 * `7956.420000000001` (a spreadsheet's binary artefact) is 795,642p. Digits beyond the penny are
 * rounded half away from zero (`0.125` → 13p, `-0.125` → -13p). Accepts `" 1,245.75 "`, `£25.00`,
 * `-£339.40`, `£-339.40` and `(339.40)`; credits stay negative.
 */
export function parseAmount(text: string): Pence | null {
  let s = text.replace(/[\s\u00a0]+/g, '');
  let negative = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    s = s.slice(1, -1);
  }
  if (s.startsWith('-')) {
    negative = !negative;
    s = s.slice(1);
  }
  if (s.startsWith('£')) s = s.slice(1);
  if (s.startsWith('-') && !negative) {
    negative = true;
    s = s.slice(1);
  }
  const match = DIGITS.exec(s);
  if (!match || s === '' || s === '.') return null;
  const whole = (match[1] ?? '').replaceAll(',', '') || '0';
  const fraction = match[2] ?? '';
  const wholeDigits = whole.replace(/^0+(?=\d)/, '');
  // 13 digits of pounds keeps pence inside the safe integer range.
  if (wholeDigits.length > 13) return null;
  let value = Number(wholeDigits) * 100 + Number(fraction.slice(0, 2).padEnd(2, '0'));
  if (fraction.length > 2 && fraction[2]! >= '5') value += 1;
  return pence(negative && value !== 0 ? -value : value);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * A payment date to YYYY-MM-DD. English files write day first (`02/03/2026` is 2 March); Excel
 * exports give ISO date-times (`2017-10-02 00:00:00`); Oracle reports give `01-JUN-2012`.
 */
export function parseDate(text: string): string | null {
  const s = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?$/.exec(s);
  if (m) return validDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?: \d{2}:\d{2}(?::\d{2})?)?$/.exec(s);
  if (m) return validDate(fullYear(m[3]!), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4}|\d{2})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[2]!.toLowerCase()) + 1;
    return month ? validDate(fullYear(m[3]!), month, Number(m[1])) : null;
  }
  return null;
}

function fullYear(text: string): number {
  // Two-digit years in spend files are this century: the Code dates from 2011.
  return text.length === 2 ? 2000 + Number(text) : Number(text);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function validDate(year: number, month: number, day: number): string | null {
  if (year < 1990 || year > 2100 || month < 1 || month > 12 || day < 1) return null;
  if (day > daysIn(year, month)) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** PostgreSQL text cannot hold NUL; a field that long is not a spend line. */
function cleanCell(cell: string): string {
  // trim() removes exactly the white space of \s, the non-breaking space among it.
  const trimmed = cell.trim();
  return trimmed.includes('\u0000') ? trimmed.replaceAll('\u0000', '\uFFFD') : trimmed;
}

function rawOf(cells: string[]): string {
  return cells.join(',').slice(0, RAW_CHARS).replaceAll('\u0000', '\uFFFD');
}

const TOTAL_WORD = /^(grand\s+)?(sub\s*)?totals?\b/i;

function cellOf(cells: string[], layout: Layout, role: ColumnRole): string {
  const index = layout.columns[role];
  return index === undefined ? '' : cleanCell(cells[index] ?? '');
}

/**
 * Turns one record into a row or the reason it is left out. `sumSoFar` lets a totals row be checked.
 * Runs once per line of files of a million lines, so the readable case is checked first and the
 * reasons are worked out only for lines that are left out.
 */
export function readRecord(
  cells: string[],
  line: number,
  layout: Layout,
  sumSoFar: number,
): SpendRow | Exclusion {
  if (cells.every(isBlankCell)) return { line, kind: 'blank', reason: 'blank row', raw: rawOf(cells) };
  const dateText = cellOf(cells, layout, 'date');
  const amountText = cellOf(cells, layout, 'amount');
  const amount = parseAmount(amountText);
  const paidOn = parseDate(dateText);
  if (
    paidOn !== null &&
    amount !== null &&
    cells.length >= layout.headers.length &&
    !hasOverlongField(cells)
  ) {
    return {
      line,
      paidOn,
      amountPence: amount,
      supplier: cellOf(cells, layout, 'supplier'),
      transactionId: cellOf(cells, layout, 'transaction_id'),
      body: cellOf(cells, layout, 'body'),
      expenseArea: cellOf(cells, layout, 'expense_area'),
      expenseType: cellOf(cells, layout, 'expense_type'),
      accountCode: cellOf(cells, layout, 'account_code'),
    };
  }
  // A totals row has no date of its own ("TOTAL PRODUCE FOOD SERVICE" is a supplier, not a total).
  const totalsWord = cells.slice(0, 3).some((c) => TOTAL_WORD.test(cleanCell(c)));
  const onlyAnAmount = amount !== null && dateText === '' && cellOf(cells, layout, 'supplier') === '';
  if (paidOn === null && (totalsWord || onlyAnAmount)) {
    const stated = amount === null ? 'no readable amount' : formatPounds(amount);
    const check =
      amount === sumSoFar
        ? 'which equals the sum of the rows above'
        : `the rows above add up to ${formatPounds(sumSoFar)}`;
    return { line, kind: 'totals', reason: `totals row (${stated}; ${check})`, raw: rawOf(cells) };
  }
  const problems: string[] = [];
  if (paidOn === null) {
    if (dateText === '') problems.push('no date');
    else if (/^\d{1,2}\/\d{1,2}\/\d{4}\d/.test(dateText))
      problems.push(`date "${dateText}" has the amount run into it (a missing comma)`);
    else if (/^various$/i.test(dateText))
      problems.push('date is "VARIOUS": an aggregate of several payments, not one payment');
    else problems.push(`date "${dateText.slice(0, 40)}" is not a date`);
  }
  if (amount === null)
    problems.push(
      amountText === '' ? 'no amount' : `amount "${amountText.slice(0, 40)}" is not an amount of money`,
    );
  if (cells.length < layout.headers.length)
    problems.push(`the line has ${cells.length} fields where the header has ${layout.headers.length}`);
  if (hasOverlongField(cells)) problems.push(`a field is longer than ${MAX_FIELD_CHARS} characters`);
  return { line, kind: 'unreadable', reason: problems.join('; '), raw: rawOf(cells) };
}

function hasOverlongField(cells: string[]): boolean {
  for (const cell of cells) if (cell.length > MAX_FIELD_CHARS) return true;
  return false;
}

export function isExclusion(value: SpendRow | Exclusion): value is Exclusion {
  return 'kind' in value;
}

// ---------------------------------------------------------------------------------------------
// Encoding and fingerprint

export interface FileFacts {
  sha256: string;
  bytes: number;
  encoding: Encoding;
  /** Line breaks counted, for a progress bar. */
  lines: number;
}

/**
 * One pass over the bytes: the fingerprint that makes a second import of the same file a no-op,
 * and the encoding. A file is UTF-8 only if every byte sequence in it is; Windows-1252 reads any
 * byte, so it is the fallback (it is what Excel on Windows writes: `£` is 0xA3).
 */
export async function examineFile(source: AsyncIterable<Uint8Array>): Promise<FileFacts> {
  const hash = createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let valid = true;
  let bytes = 0;
  let lines = 0;
  let first: Uint8Array | null = null;
  for await (const chunk of source) {
    hash.update(chunk);
    bytes += chunk.length;
    first ??= chunk.slice(0, 3);
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    if (valid) {
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        valid = false;
      }
    }
  }
  if (valid) {
    try {
      utf8.decode();
    } catch {
      valid = false;
    }
  }
  const bom = first !== null && first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf;
  return {
    sha256: hash.digest('hex'),
    bytes,
    encoding: valid ? (bom ? 'utf-8-bom' : 'utf-8') : 'windows-1252',
    lines: lines + 1,
  };
}

async function* decoded(source: AsyncIterable<Uint8Array>, encoding: Encoding): AsyncGenerator<string> {
  // iconv-lite drops a leading byte-order mark when decoding UTF-8.
  const decoder = iconv.getDecoder(encoding === 'windows-1252' ? 'win1252' : 'utf8');
  for await (const chunk of source) {
    const text = decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

// ---------------------------------------------------------------------------------------------
// The stream

/** One CSV record, the file line it ends on, and why it could not be read as CSV, if it could not. */
interface CsvRecord {
  cells: string[];
  line: number;
  error?: string;
}

/**
 * The line break a file uses, from its first one: `\r\n` (most council exports), `\n` or `\r`.
 * Undecided (null) while the text seen so far has none, or ends on a `\r` that may be half of `\r\n`.
 */
function lineBreakOf(text: string, final: boolean): '\r\n' | '\n' | '\r' | null {
  const n = text.indexOf('\n');
  const r = text.indexOf('\r');
  if (r >= 0 && (n < 0 || r < n)) {
    if (r === text.length - 1 && !final) return null;
    return text[r + 1] === '\n' ? '\r\n' : '\r';
  }
  if (n >= 0) return '\n';
  return final ? '\n' : null;
}

function countOf(text: string, lineBreak: string): number {
  const mark = lineBreak === '\r' ? '\r' : '\n';
  let count = 0;
  for (let i = text.indexOf(mark); i >= 0; i = text.indexOf(mark, i + 1)) count++;
  return count;
}

/**
 * Splits decoded text into CSV records with papaparse's core parser, a chunk at a time: the
 * unfinished last record of a chunk is carried into the next, as papaparse's own streamer does.
 * A record's line is the previous record's plus one plus the line breaks inside its quoted fields.
 * A quote that is never closed would carry the rest of the file: after MAX_RECORD_CHARS the
 * record is given up and the lines from it to the end are reported as one unreadable stretch.
 */
async function* csvRecords(text: AsyncIterable<string>): AsyncGenerator<CsvRecord[]> {
  let parser: Papa.Parser | null = null;
  let lineBreak: '\r\n' | '\n' | '\r' = '\n';
  let carried = '';
  let base = 0;
  let line = 0;
  let runaway: { line: number; lines: number } | null = null;

  const recordsOf = (input: string, final: boolean): CsvRecord[] => {
    const result = parser!.parse(input, base, !final) as Papa.ParseResult<string[]>;
    const consumed = result.meta.cursor - base;
    const errors = new Map<number, string>();
    for (const e of result.errors)
      if (e.row !== undefined && !errors.has(e.row)) errors.set(e.row, e.message);
    // When every consumed line break ends a record, no field spans lines and lines simply count up.
    const spans = final || countOf(input.slice(0, consumed), lineBreak) !== result.data.length;
    const records = result.data.map((cells, i): CsvRecord => {
      const start = line + 1;
      line = start + (spans ? cells.reduce((n, cell) => n + countOf(cell, lineBreak), 0) : 0);
      const error = errors.get(i);
      if (error === undefined) return { cells, line };
      // A broken record is reported where it starts, which is where someone would look for the fault;
      // a record swallowed to the end of the file ends on its last line with text, not after its break.
      const end = /[\r\n]$/.test(cells.at(-1) ?? '') ? line - 1 : line;
      return { cells, line: start, error: end > start ? `${error} (lines ${start} to ${end})` : error };
    });
    carried = input.slice(consumed);
    base = result.meta.cursor;
    return records;
  };

  let endsWithBreak = false;
  for await (const chunk of text) {
    endsWithBreak = chunk.endsWith(lineBreak);
    if (runaway) {
      runaway.lines += countOf(chunk, lineBreak);
      continue;
    }
    const input = carried + chunk;
    if (!parser) {
      const found = lineBreakOf(input, false);
      if (!found) {
        carried = input;
        continue;
      }
      lineBreak = found;
      parser = new Papa.Parser({ delimiter: ',', newline: found });
    }
    const records = recordsOf(input, false);
    if (records.length) yield records;
    if (carried.length > MAX_RECORD_CHARS) {
      runaway = { line: line + 1, lines: countOf(carried, lineBreak) };
      carried = '';
    }
  }
  if (runaway) {
    const last = runaway.line + runaway.lines - (endsWithBreak ? 1 : 0);
    const reason = `a quoted field opened on line ${runaway.line} is not closed within ${MAX_RECORD_CHARS.toLocaleString('en-GB')} characters, so lines ${runaway.line} to ${last} could not be read`;
    yield [{ cells: [], line: runaway.line, error: reason }];
    return;
  }
  if (!parser) {
    lineBreak = lineBreakOf(carried, true)!;
    parser = new Papa.Parser({ delimiter: ',', newline: lineBreak });
  }
  const records = recordsOf(carried, true);
  if (records.length) yield records;
}

/** Finds the header among the first records; returns null while it may still come. */
function findLayout(
  pending: CsvRecord[],
  encoding: Encoding,
  profile: MappingProfile | undefined,
  final: boolean,
): { layout: Layout; consumed: number } | null {
  const headerAt = pending.slice(0, HEADER_SEARCH_RECORDS).findIndex((r) => {
    if (r.error !== undefined) return false;
    const matched = detectColumns(r.cells, profile);
    return Object.keys(matched).length >= 3 && (matched.date !== undefined || matched.amount !== undefined);
  });
  if (headerAt < 0) {
    if (!final && pending.length < HEADER_SEARCH_RECORDS) return null;
    throw new Invalid(
      'Could not find the header row: none of the first lines names the date, amount and supplier columns',
      {
        mapping: 'Check this is a spending CSV file, or choose the columns by hand',
      },
    );
  }
  const next = pending[headerAt + 1];
  if (!next && !final) return null;
  let headers = pending[headerAt]!.cells.map((h) => cleanCell(h));
  let consumed = headerAt + 1;
  if (next && next.error === undefined && isHeaderContinuation(next.cells)) {
    const merged = headers.map((h, i) => [h, cleanCell(next.cells[i] ?? '')].filter(Boolean).join(' '));
    // Only a row that completes the header's names is part of it ("Net" + "Amount").
    if (rolesMatched(merged, profile) > rolesMatched(headers, profile)) {
      headers = merged;
      consumed++;
    }
  }
  const columns = detectColumns(headers, profile);
  const missing = REQUIRED_ROLES.filter((role) => columns[role] === undefined);
  if (missing.length) {
    throw new Invalid(
      `The file has no column for ${missing.map((r) => ROLE_LABELS[r].toLowerCase()).join(', ')}; its columns are: ${headers.join(', ')}`,
      Object.fromEntries(
        missing.map((r) => [r, `Choose the column that holds the ${ROLE_LABELS[r].toLowerCase()}`]),
      ),
    );
  }
  return { layout: { encoding, headerLine: pending[consumed - 1]!.line, headers, columns }, consumed };
}

/** At most this much text is parsed at once, so whoever consumes the batches gets the event loop back often. */
const PARSE_SLICE_CHARS = 64 * 1024;

async function* slices(text: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const chunk of text) {
    for (let at = 0; at < chunk.length; at += PARSE_SLICE_CHARS)
      yield chunk.slice(at, at + PARSE_SLICE_CHARS);
  }
}

/**
 * Streams a spend file: each yielded batch holds the rows and exclusions of one slice of input,
 * in line order. Throws `Invalid` when the file cannot be mapped at all (no header, or no column
 * for a required role), before any row is yielded.
 */
export async function* parseSpend(
  source: AsyncIterable<Uint8Array>,
  options: { encoding: Encoding; profile?: MappingProfile },
): AsyncGenerator<ParsedBatch> {
  let layout: Layout | null = null;
  const pending: CsvRecord[] = [];
  let sum = 0;
  const read = (records: CsvRecord[], batch: ParsedBatch) => {
    for (const r of records) {
      const result =
        r.error === undefined ? readRecord(r.cells, r.line, batch.layout, sum) : unreadableCsv(r);
      if (isExclusion(result)) batch.excluded.push(result);
      else {
        sum += result.amountPence;
        batch.rows.push(result);
      }
    }
    return batch;
  };
  for await (const records of csvRecords(slices(decoded(source, options.encoding)))) {
    if (!layout) {
      pending.push(...records);
      const found = findLayout(pending, options.encoding, options.profile, false);
      if (!found) continue;
      layout = found.layout;
      yield read(pending.splice(0).slice(found.consumed), { layout, rows: [], excluded: [] });
      continue;
    }
    yield read(records, { layout, rows: [], excluded: [] });
    // Parsing is synchronous work: between slices, I/O gets its turn, so a server answers other
    // requests during a large preview, and an import's database replies are not held up.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!layout) {
    const found = findLayout(pending, options.encoding, options.profile, true)!;
    yield read(pending.slice(found.consumed), { layout: found.layout, rows: [], excluded: [] });
  }
}

function unreadableCsv(record: CsvRecord): Exclusion {
  return {
    line: record.line,
    kind: 'unreadable',
    reason: `not readable as CSV: ${record.error}`,
    raw: rawOf(record.cells),
  };
}

export interface SpendSummary {
  layout: Layout;
  rows: number;
  rejected: number;
  totalPence: Pence;
  excluded: Exclusion[];
}

/** Runs the whole file through the parser without keeping the rows: a preview or a dry run. */
export async function summariseSpend(
  source: AsyncIterable<Uint8Array>,
  options: { encoding: Encoding; profile?: MappingProfile },
  onRow?: (row: SpendRow) => void,
): Promise<SpendSummary> {
  let layout: Layout | null = null;
  let rows = 0;
  let total = 0;
  const excluded: Exclusion[] = [];
  for await (const batch of parseSpend(source, options)) {
    layout = batch.layout;
    rows += batch.rows.length;
    for (const row of batch.rows) {
      total += row.amountPence;
      onRow?.(row);
    }
    excluded.push(...batch.excluded);
  }
  excluded.sort((a, b) => a.line - b.line);
  return {
    layout: layout!,
    rows,
    rejected: excluded.filter((e) => e.kind === 'unreadable').length,
    totalPence: pence(total),
    excluded,
  };
}
