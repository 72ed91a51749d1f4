import { assert, Invalid, type AppError, type FieldErrors } from './errors.ts';

/** An amount of money in integer pence. Never a float. */
export type Pence = number;

export function pence(value: number): Pence {
  assert(Number.isSafeInteger(value), `pence must be a safe integer, got ${value}`);
  return value;
}

/**
 * Rounds a modelled amount (a float from cost-benefit arithmetic) to whole pence,
 * half away from zero, which is how the guidance and the spend files round.
 */
export function roundHalfAwayFromZero(value: number): Pence {
  assert(Number.isFinite(value), `cannot round ${value} to pence`);
  const rounded = Math.sign(value) * Math.round(Math.abs(value));
  return pence(rounded === 0 ? 0 : rounded);
}

const poundsPattern = /^(-)?£?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

/** Parses what a person types in a form ("1,234.56", "£20", "-12.5") into pence, exactly. */
export function parsePounds(input: string, field = 'amount'): Pence {
  const text = input.trim().replace(/^£-/, '-£');
  const match = poundsPattern.exec(text);
  if (!match) {
    throw new Invalid('Enter an amount in pounds, like 1,250.00', {
      [field]: 'Enter an amount in pounds and pence, like 1,250.00',
    });
  }
  const [, sign, whole, fraction = ''] = match;
  const value = BigInt(whole!.replaceAll(',', '')) * 100n + BigInt(fraction.padEnd(2, '0') || '0');
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Invalid('That amount is too large', { [field]: 'Enter a smaller amount' });
  }
  return pence(Number(sign ? -value : value));
}

const grouping = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** £1,234.56 and -£12.00, computed from integers so no float rounding can creep in. */
export function formatPounds(amount: Pence): string {
  pence(amount);
  const negative = amount < 0;
  const abs = Math.abs(amount);
  const whole = Math.trunc(abs / 100);
  const fraction = abs % 100;
  const text = grouping.format(whole).replace(/\.00$/, '') + '.' + String(fraction).padStart(2, '0');
  return `${negative ? '-' : ''}£${text}`;
}

/** £10.4bn, £3m: for headlines where whole pence would be noise. */
export function formatPoundsShort(amount: Pence): string {
  const pounds = amount / 100;
  const abs = Math.abs(pounds);
  const sign = pounds < 0 ? '-' : '';
  if (abs >= 1e9) return `${sign}£${trimNumber(abs / 1e9)}bn`;
  if (abs >= 1e6) return `${sign}£${trimNumber(abs / 1e6)}m`;
  if (abs >= 1e4) return `${sign}£${trimNumber(abs / 1e3)}k`;
  return formatPounds(amount);
}

function trimNumber(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}

/**
 * An error's message and fields for a page: the amounts it names (in pence, for the API) written
 * in pounds, "Only £12.50 of this commitment is outstanding".
 */
export function inPounds(err: AppError): { message: string; fields?: FieldErrors } {
  return err.writtenWith(formatPounds);
}
