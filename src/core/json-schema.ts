/**
 * JSON-schema building blocks the routes share, so an id, a date or an amount is checked the
 * same way on every route (Fastify validates with Ajv before the handler runs).
 */

/** A row id: a positive PostgreSQL integer, so an id too large for the column is a 400, not a 500. */
export const id = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;

/** A place's slug in the URL. */
export const slug = { type: 'string', maxLength: 60 } as const;

export const text = (maxLength: number) => ({ type: 'string', maxLength }) as const;

/**
 * A date written YYYY-MM-DD. The shape only: whether it is a real day is checked with
 * core/dates.ts's isIsoDate, so the refusal can name the field in the GOV.UK way.
 */
export const isoDate = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

/** A financial year, named by the calendar year it starts in: 2012 is 2012/13. */
export const financialYear = { type: 'integer', minimum: 2000, maximum: 2100 } as const;

/** A query naming a financial year: `?year=2012`. */
export const yearQuery = { type: 'object', properties: { year: financialYear } } as const;

/** An amount of money in integer pence, more than nothing and at most `maximum` (£10bn unless said). */
export const penceAmount = (maximum = 1_000_000_000_000) =>
  ({ type: 'integer', minimum: 1, maximum }) as const;

/** Params of a route under /places/:slug with further properties (`placeParamsOf({ year })`). */
export function placeParamsOf(properties: Record<string, object>) {
  return {
    type: 'object',
    properties: { slug, ...properties },
    required: ['slug', ...Object.keys(properties)],
  } as const;
}

/** Params of a route under /places/:slug whose other params are ids: `placeParams('id')`. */
export const placeParams = (...ids: string[]) =>
  placeParamsOf(Object.fromEntries(ids.map((name) => [name, id])));

/** Params of a route with only the place's slug. */
export const slugParam = placeParams();

/**
 * An object with these properties and no others (a request body, or an item of one); every
 * property is required unless `required` names fewer.
 */
export function closedObject<P extends Record<string, object>>(
  properties: P,
  required: readonly (keyof P & string)[] = Object.keys(properties),
) {
  return { type: 'object', properties, required, additionalProperties: false } as const;
}

/** A query with a page number (1 up to `maximum`) and any other properties. */
export const pageQuery = (maximum: number, properties: Record<string, object> = {}) =>
  ({
    type: 'object',
    properties: { ...properties, page: { type: 'integer', minimum: 1, maximum } },
  }) as const;
