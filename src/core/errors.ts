/**
 * One error type per kind of failure a user can act on. Mapped once to HTTP status codes
 * (core/http.ts) and once to CLI exit codes (cli.ts): 0 ok, 1 failure, 2 bad input.
 */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid' | 'conflict' | 'unauthenticated' | 'forbidden' | 'too_many_requests',
    message: string,
    readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Also used for another place's data: callers must not learn that it exists. */
export class NotFound extends AppError {
  constructor(message = 'Not found') {
    super('not_found', message);
  }
}

export class Invalid extends AppError {
  constructor(message: string, fields?: FieldErrors) {
    super('invalid', message, fields);
  }
}

export class Conflict extends AppError {
  constructor(message: string) {
    super('conflict', message);
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
