/**
 * One error type per kind of failure a user can act on. Mapped once to HTTP status codes
 * (core/http.ts) and once to CLI exit codes (cli.ts): 0 ok, 1 failure, 2 bad input.
 */
export type FieldErrors = Record<string, string>;

/**
 * Amounts of money an error names, in integer pence, by the names its message and field
 * templates give them in braces: 'Only {outstanding} is outstanding'. The API reads them in
 * pence ("Only 1250 pence is outstanding"); a page writes them in pounds (`inPounds` in money.ts).
 */
export type Amounts = Record<string, number>;

/** Writes each {name} of `amounts` in a template with `format`; other text is left alone. */
export function writeAmounts(template: string, amounts: Amounts, format: (pence: number) => string): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(amounts, name) ? format(amounts[name]!) : whole,
  );
}

const inPence = (amount: number) => `${amount} pence`;

export class AppError extends Error {
  readonly fields?: FieldErrors;
  /** The amounts the message and fields name, with the templates they are written into. */
  readonly amounts?: { values: Amounts; message: string; fields?: FieldErrors };

  constructor(
    readonly code:
      'not_found' | 'invalid' | 'conflict' | 'unauthenticated' | 'forbidden' | 'too_many_requests',
    message: string,
    fields?: FieldErrors,
    amounts?: Amounts,
  ) {
    super(amounts ? writeAmounts(message, amounts, inPence) : message);
    this.name = new.target.name;
    if (amounts) {
      this.amounts = { values: amounts, message, ...(fields ? { fields } : {}) };
      if (fields)
        this.fields = Object.fromEntries(
          Object.entries(fields).map(([k, v]) => [k, writeAmounts(v, amounts, inPence)]),
        );
    } else if (fields) this.fields = fields;
  }

  /** The message and fields with the amounts written by `format` (pages pass formatPounds). */
  writtenWith(format: (pence: number) => string): { message: string; fields?: FieldErrors } {
    if (!this.amounts) return { message: this.message, ...(this.fields ? { fields: this.fields } : {}) };
    const { values, message, fields } = this.amounts;
    return {
      message: writeAmounts(message, values, format),
      ...(fields
        ? {
            fields: Object.fromEntries(
              Object.entries(fields).map(([k, v]) => [k, writeAmounts(v, values, format)]),
            ),
          }
        : {}),
    };
  }
}

/** Also used for another place's data: callers must not learn that it exists. */
export class NotFound extends AppError {
  constructor(message = 'Not found') {
    super('not_found', message);
  }
}

export class Invalid extends AppError {
  /** `amounts`, when given, fill the {name}s of the message and fields (see Amounts). */
  constructor(message: string, fields?: FieldErrors, amounts?: Amounts) {
    super('invalid', message, fields, amounts);
  }
}

export class Conflict extends AppError {
  /** `amounts`, when given, fill the {name}s of the message (see Amounts). */
  constructor(message: string, amounts?: Amounts) {
    super('conflict', message, undefined, amounts);
  }
}

export class Unauthenticated extends AppError {
  constructor(message = 'Sign in to continue') {
    super('unauthenticated', message);
  }
}

/** A member of the place whose role does not allow the action. Outsiders get NotFound instead. */
export class Forbidden extends AppError {
  constructor(message = 'Your role in this place does not allow this') {
    super('forbidden', message);
  }
}

/** A person asked for an expensive read more often, or more at once, than their limit allows. */
export class TooManyRequests extends AppError {
  constructor(message: string) {
    super('too_many_requests', message);
  }
}

export const httpStatusOf: Record<AppError['code'], number> = {
  not_found: 404,
  invalid: 400,
  conflict: 409,
  unauthenticated: 401,
  forbidden: 403,
  too_many_requests: 429,
};

export function exitCodeOf(err: unknown): 1 | 2 {
  return err instanceof Invalid ? 2 : 1;
}

/** TigerBeetle-style assertion: an invariant the code relies on, not user input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
