/**
 * The one CSV writer every export uses, with one rule against spreadsheet formula injection.
 *
 * The rule (OWASP "CSV injection"): a text cell that starts with = + - @, a tab or a carriage
 * return is written with a single quote in front ('=SUM(A1) stays text when a spreadsheet opens
 * the file). Two kinds of cell are left as they are, because a spreadsheet cannot run them:
 *  - numbers given as numbers (-12.5, 3.5e-7), and
 *  - text that is only a number or an amount of money: an optional minus, an optional £, digits
 *    with optional thousands commas and decimals ("-12.50", "-£1,234.56"). Such a cell has no
 *    letters, brackets or operators after its sign, so it can only ever be read as a number; a
 *    refund of -12.50 in a money column stays a number a finance team can add up.
 * Then a cell is quoted ("…", with " doubled) when it holds the separator, a quote, a line break,
 * or space at either end (which some readers would trim).
 */

export type CsvValue = string | number | bigint | null | undefined;

export interface CsvOptions {
  /** ',' unless the format says otherwise (Pabulib uses ';'). */
  separator?: string;
  /** '\r\n' as RFC 4180 says, unless the format says otherwise. */
  newline?: string;
}

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_AMOUNT = /^-?£?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/;

/** The formula-injection rule alone: the text a spreadsheet will show as text, not run. */
export function neutraliseFormula(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  return FORMULA_START.test(value) && !PLAIN_AMOUNT.test(value) ? `'${value}` : value;
}

/** One cell: neutralised, then quoted when it must be. */
export function csvCell(value: CsvValue, separator = ','): string {
  const text = neutraliseFormula(value);
  const needsQuotes = text.includes(separator) || /["\r\n]/.test(text) || /^\s|\s$/.test(text);
  return needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One line, without its line break. */
export function csvLine(cells: readonly CsvValue[], options: CsvOptions = {}): string {
  const separator = options.separator ?? ',';
  return cells.map((c) => csvCell(c, separator)).join(separator);
}

/** A whole file: each row on its own line, the last line ended too. */
export function toCsv(rows: readonly (readonly CsvValue[])[], options: CsvOptions = {}): string {
  const newline = options.newline ?? '\r\n';
  return rows.map((row) => csvLine(row, options) + newline).join('');
}
