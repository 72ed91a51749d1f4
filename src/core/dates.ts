/**
 * Dates and financial years, written once. A date is a string 'YYYY-MM-DD' (a calendar day,
 * no time zone). A financial year runs 1 April to 31 March and is named by the calendar year
 * it starts in: 2012 is April 2012 to March 2013, labelled "2012/13" as GOV.UK writes it.
 */
import { assert } from './errors.ts';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day written YYYY-MM-DD (2023-02-29 is not one). */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  date.setUTCFullYear(Number(m[1]));
  return date.toISOString().slice(0, 10) === value;
}

/** Today in UTC as YYYY-MM-DD. */
export function todayIso(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/**
 * The financial year a date falls in, named by the year it starts:
 * 2012-03-31 is in 2011 (2011/12) and 2012-04-01 in 2012 (2012/13).
 */
export function financialYearOf(isoDate: string): number {
  const m = ISO_DATE.exec(isoDate);
  assert(m, `a date is YYYY-MM-DD, got ${isoDate}`);
  const year = Number(m[1]);
  return Number(m[2]) >= 4 ? year : year - 1;
}

/** "2012/13" for the year starting April 2012; "1999/00" for the one starting April 1999. */
export function financialYearLabel(startYear: number): string {
  assert(
    Number.isInteger(startYear) && startYear >= 0 && startYear <= 9998,
    `a financial year, got ${startYear}`,
  );
  return `${startYear}/${String((startYear + 1) % 100).padStart(2, '0')}`;
}

/**
 * Reads a label back: "2012/13" (or "2012-13", "2012–13", as older documents write it) is 2012.
 * Returns null when the text is not a financial year, or the two years do not follow on.
 */
export function parseFinancialYearLabel(text: string): number | null {
  const m = /^(\d{4})\s*[/\-–]\s*(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const start = Number(m[1]);
  return (start + 1) % 100 === Number(m[2]) ? start : null;
}

/** The first and last day of a financial year. */
export function financialYearBounds(startYear: number): { start: string; end: string } {
  const y = (n: number) => String(n).padStart(4, '0');
  return { start: `${y(startYear)}-04-01`, end: `${y(startYear + 1)}-03-31` };
}

/** The day `days` after (or, when negative, before) a date: 2025-03-31 plus one is 2025-04-01. */
export function addDays(isoDate: string, days: number): string {
  assert(isIsoDate(isoDate), `a date is YYYY-MM-DD, got ${isoDate}`);
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** 2024-01-31 plus one month is 2024-02-29: the day is clamped to the month's last day. */
export function addMonths(isoDate: string, months: number): string {
  const m = ISO_DATE.exec(isoDate);
  assert(m, `a date is YYYY-MM-DD, got ${isoDate}`);
  const total = Number(m[1]) * 12 + Number(m[2]) - 1 + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(Number(m[3]), lastDay);
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
