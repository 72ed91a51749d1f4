/**
 * Readers for the fields of a submitted (url-encoded) form, with GOV.UK error messages. Each
 * reader returns what it read and, when the input is wrong, adds a message under the field's
 * name to `fields`, so a form can collect every problem before showing the error summary.
 */
import { isIsoDate } from './dates.ts';
import { Invalid, type FieldErrors } from './errors.ts';
import type { FormBody } from './forms.ts';
import { formatPounds, parsePounds, type Pence } from './money.ts';

type Body = FormBody | Record<string, string | undefined>;

/** A text field, trimmed; the first value where the field repeats; '' when it was not sent. */
export function textField(body: Body, name: string): string {
  return ([body[name] ?? ''].flat()[0] ?? '').trim();
}

/** Every value sent under a name (checkboxes, a multiple select), blanks left out. */
export function listField(body: Body, name: string): string[] {
  return [body[name] ?? []].flat().filter((v) => v !== '');
}

/** A date typed YYYY-MM-DD. */
export function dateField(
  body: Body,
  name: string,
  fields: FieldErrors,
  message = 'Enter a real date written YYYY-MM-DD, for example 2026-04-02',
): string {
  const value = textField(body, name);
  if (!isIsoDate(value)) fields[name] = message;
  return value;
}

export interface PenceFieldOptions {
  /** Amounts that cannot be credits, like a commitment: more than £0.00 (otherwise other than £0.00). */
  positive: boolean;
  /** Which amount, in a form with several: "the amount for line 2". */
  subject?: string;
  /** The largest amount either way, in pence. */
  max?: Pence;
}

/** Pounds typed in a form ("1,250.00", "£20") as pence; 0 with a field error when not an amount. */
export function penceField(body: Body, name: string, fields: FieldErrors, options: PenceFieldOptions): Pence {
  const { positive, subject = 'an amount', max } = options;
  const atMost = max === undefined ? '' : `Enter ${subject} of at most ${formatPounds(max)}`;
  try {
    const amount = parsePounds(textField(body, name), name);
    if (amount === 0 || (positive && amount < 0))
      fields[name] = `Enter ${subject} ${positive ? 'more than' : 'other than'} £0.00`;
    else if (max !== undefined && Math.abs(amount) > max) fields[name] = atMost;
    return amount;
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    fields[name] = /too large/.test(err.message)
      ? atMost || (err.fields?.[name] ?? 'Enter a smaller amount')
      : `Enter ${subject} in pounds and pence, like 1,250.00`;
    return 0;
  }
}
