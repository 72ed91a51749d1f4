/**
 * The authorisation matrix: what every route needs (test/authorisation-matrix.tsv), and a probe that
 * tries a route as every role of a place, as a member of another place, and with no session.
 * Used by test/authorisation-matrix.test.ts and by `npm run matrix -- --suggest`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import type { RouteEntry } from '../src/core/http.ts';
import { allows, PERMISSIONS, type Permission, ROLES, type Role } from '../src/auth/domain.ts';
import type { TestDatabase } from './db.ts';
import { makePartner, makePerson, makePlace, signInAs } from './support.ts';

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

const MATRIX_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'authorisation-matrix.tsv');

/** `public`: anyone; `signed-in`: any session; `member`: any role in the place; else a permission. */
export type Need = 'public' | 'signed-in' | 'member' | Permission;

export interface MatrixRow {
  method: string;
  url: string;
  need: Need;
  /** How a member without the permission is refused: 403, or 404 where the route hides that the thing exists. */
  refusal: 403 | 404;
}

export const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

function isNeed(text: string): text is Need {
  return text === 'public' || text === 'signed-in' || text === 'member' || text in PERMISSIONS;
}

/** Reads the table: tab-separated `method url need [refusal]`, `#` comments and blank lines ignored. */
export function readMatrix(text = fs.readFileSync(MATRIX_FILE, 'utf8')): Map<string, MatrixRow> {
  const rows = new Map<string, MatrixRow>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const [method, url, need, refusal = '403'] = line.split('\t');
    if (!method || !url || !need || !isNeed(need) || !['403', '404'].includes(refusal)) {
      throw new Error(
        `${path.basename(MATRIX_FILE)} line ${i + 1}: expected "METHOD<tab>URL<tab>NEED[<tab>404]" with a known need, got ${JSON.stringify(line)}`,
      );
    }
    rows.set(routeKey({ method, url }), { method, url, need, refusal: Number(refusal) as 403 | 404 });
  });
  return rows;
}

/** Every route a person can reach: HEAD answers like GET, so it is covered by the GET row. */
export const reachableRoutes = (app: FastifyInstance) => app.routeTable.filter((r) => r.method !== 'HEAD');

export type Actor = Role | 'other-place' | 'no-session';
export const ACTORS: readonly Actor[] = [...ROLES, 'other-place', 'no-session'];

/** What a route did with a request, in the terms the matrix speaks. */
export type Outcome = 'allowed' | 'forbidden' | 'hidden' | 'sign-in' | 'failed';

/**
 * Whether a probe matches the row. A route that hides things from members without the permission
 * answers them 404 like a missing thing, so there any 404 counts; the family-level access rule
 * (agreement, consent) is proved in src/families/families.test.ts, not here.
 */
export function matches(row: MatrixRow, actor: Actor, expected: Outcome, got: Probe): boolean {
  if (actor !== 'other-place' && expected === 'hidden' && row.refusal === 404 && got.status === 404)
    return true;
  return got.outcome === expected;
}

export function expectedOutcome(row: MatrixRow, actor: Actor, placeScoped: boolean): Outcome {
  if (row.need === 'public') return 'allowed';
  if (actor === 'no-session') return 'sign-in';
  if (!placeScoped) return 'allowed';
  if (actor === 'other-place') return 'hidden';
  if (row.need === 'signed-in' || row.need === 'member' || allows([actor], row.need)) return 'allowed';
  return row.refusal === 404 ? 'hidden' : 'forbidden';
}

/** The permissions held by exactly these roles (several permissions may share one set of roles). */
export function permissionsGrantedTo(roles: readonly Role[]): Permission[] {
  const wanted = [...roles].sort().join();
  return (Object.keys(PERMISSIONS) as Permission[]).filter(
    (p) => [...PERMISSIONS[p]].sort().join() === wanted,
  );
}

const strictAjv = addFormats(new Ajv({ allErrors: true, coerceTypes: false, useDefaults: true }));

interface Schema {
  type?: string | string[];
  enum?: readonly unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  format?: string;
  pattern?: string;
}

/**
 * The smallest body the route's schema accepts, so a refusal can only come from authorisation: a
 * body the schema rejects would be answered 400 before the handler checks the role.
 */
function minimalBody(schema: Schema): unknown {
  if ('const' in schema) return schema.const;
  if (schema.enum) return schema.enum[0];
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return minimalBody(alternatives[0]!);
  const type = [schema.type].flat().find((t) => t !== 'null') ?? (schema.properties ? 'object' : 'string');
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, minimalBody(schema.properties?.[name] ?? {})]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalBody(schema.items ?? {}));
    case 'integer':
    case 'number':
      return Math.max(1, schema.minimum ?? 1, (schema.exclusiveMinimum ?? 0) + 1);
    case 'boolean':
      return false;
    default:
      return minimalString(schema);
  }
}

const BY_FORMAT: Record<string, string> = {
  date: '2025-06-01',
  'date-time': '2025-06-01T12:00:00Z',
  email: 'someone@example.test',
  uri: 'https://example.test/',
  uuid: '00000000-0000-4000-8000-000000000000',
};

/** Text for a string schema: by format, else the first of a few shapes its pattern accepts. */
function minimalString(schema: Schema): string {
  if (schema.format && BY_FORMAT[schema.format]) return BY_FORMAT[schema.format]!;
  const padded = 'x'.repeat(Math.max(1, schema.minLength ?? 1));
  if (!schema.pattern) return padded;
  const pattern = new RegExp(schema.pattern, 'u');
  return (
    [padded, '2025-06-01', 'x-1', 'X1', '1', 'AB12 3CD', 'abc'].find((candidate) =>
      pattern.test(candidate),
    ) ?? padded
  );
}

/** Throws, naming the route, when the schema needs more than `minimalBody` knows how to build. */
export function validBodyFor(route: RouteEntry): unknown {
  if (!route.bodySchema) return undefined;
  const body = minimalBody(route.bodySchema as Schema);
  const validate = strictAjv.compile(route.bodySchema);
  if (!validate(body)) {
    throw new Error(
      `${routeKey(route)}: cannot build a body its schema accepts (${strictAjv.errorsText(validate.errors)}); teach minimalBody in test/authorisation-matrix.ts`,
    );
  }
  return body;
}

/** The people the probe acts as: one per role in the place, and an admin of another place. */
export interface Cast {
  slug: string;
  partnerId: number;
  familyId: number;
  /** Erasing is for ever, so the erase route gets a family of its own. */
  familyToErase: number;
  /** Someone whose role the probe may remove without breaking the cast. */
  bystanderId: number;
  people: Map<Role | 'other-place', number>;
}

export async function makeCast(app: FastifyInstance, db: TestDatabase): Promise<Cast> {
  const essex = await makePlace(db, 'essex');
  const devon = await makePlace(db, 'devon');
  const partnerId = await makePartner(db, essex, 'Essex Police', 'police');
  await makePartner(db, devon, 'Devon Council');
  const people = new Map<Role | 'other-place', number>();
  for (const role of ROLES) {
    people.set(
      role,
      await makePerson(db, `${role}@essex.test`, [
        [essex, role, role === 'partner_rep' || role === 'key_worker' ? partnerId : undefined],
      ]),
    );
  }
  // Every role in Devon and none in Essex: whatever Devon allows, Essex must still answer 404.
  people.set(
    'other-place',
    await makePerson(
      db,
      'everything@devon.test',
      ROLES.map((role): [number, Role] => [devon, role]),
    ),
  );
  const bystanderId = await makePerson(db, 'bystander@essex.test', [[essex, 'observer']]);
  const [familyId, familyToErase] = await openFamily(
    app,
    db,
    people.get('admin')!,
    people.get('key_worker')!,
    partnerId,
  );
  return { slug: 'essex', partnerId, familyId, familyToErase, bystanderId, people };
}

/**
 * A family the cast's professionals may read (their partner is party to an agreement resting on
 * public task), so a role that must not see families would see a real one if it were let through.
 */
async function openFamily(
  app: FastifyInstance,
  db: TestDatabase,
  admin: number,
  keyWorker: number,
  partnerId: number,
): Promise<[number, number]> {
  const post = async (who: number, url: string, payload: object) => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/places/essex/${url}`,
      headers: (await signInAs(db, who)).write,
      payload,
    });
    if (res.statusCode !== 201)
      throw new Error(`could not set up the matrix family (${url}): ${res.statusCode} ${res.body}`);
    return res.json() as { id: number };
  };
  await post(admin, 'family-agreements', {
    title: 'Matrix agreement',
    purposes: ['case_work'],
    data_categories: ['identity'],
    legal_basis: 'public_task',
    starts_on: '2012-01-01',
    party_ids: [partnerId],
  });
  const open = async (reference: string) =>
    (
      await post(keyWorker, 'families', {
        reference,
        household_name: 'Matrix household',
        taken_on: '2025-05-01',
      })
    ).id;
  return [await open('AM-1'), await open('AM-2')];
}

/** A URL for the route in the cast's place, every other parameter filled with something plausible. */
function sampleUrl(route: RouteEntry, cast: Cast): string {
  const values: Record<string, string> = {
    slug: cast.slug,
    personId: String(cast.bystanderId),
    role: 'observer',
    year: '2025',
    token: 'not-a-real-invitation',
  };
  // Family URLs name the cast's family; any other id names the cast's partner (or nothing, which is a 404 inside the place).
  const id = route.url.endsWith('/erase')
    ? cast.familyToErase
    : /\/famil(y|ies)\b/.test(route.url)
      ? cast.familyId
      : cast.partnerId;
  const params = (route.paramsSchema as Schema | undefined)?.properties ?? {};
  const valueOf = (name: string) =>
    values[name] ?? (params[name]?.enum ? String(params[name].enum[0]) : String(id));
  return route.url
    .replace(/:([A-Za-z_]+)/g, (_, name: string) => valueOf(name))
    .replace(/\*$/, 'missing.txt');
}

export interface Probe {
  status: number;
  outcome: Outcome;
  message: string;
}

/** Tries one route as one actor. A fresh session each time, so signing out cannot spoil the next request. */
export async function probe(
  app: FastifyInstance,
  db: TestDatabase,
  cast: Cast,
  route: RouteEntry,
  actor: Actor,
): Promise<Probe> {
  const api = route.url.startsWith('/api/');
  const headers: Record<string, string> = {};
  if (actor !== 'no-session') Object.assign(headers, (await signInAs(db, cast.people.get(actor)!)).write);
  let payload: string | undefined;
  if (route.method !== 'GET') {
    const body = validBodyFor(route);
    if (body !== undefined || api) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body ?? {});
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = '';
    }
  }
  const res = await app.inject({
    method: route.method as 'GET',
    url: sampleUrl(route, cast),
    headers,
    payload,
  });
  const text = res.body;
  let message = '';
  if (res.headers['content-type']?.toString().startsWith('application/json')) {
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? '';
    } catch {
      message = '';
    }
  }
  return {
    status: res.statusCode,
    message,
    outcome: outcomeOf(res.statusCode, message, text, String(res.headers.location ?? ''), route),
  };
}

function outcomeOf(
  status: number,
  message: string,
  body: string,
  location: string,
  route: RouteEntry,
): Outcome {
  if (status >= 500) return 'failed';
  if (status === 401 || (status >= 300 && status < 400 && location.startsWith('/sign-in?'))) return 'sign-in';
  if (status === 403) return 'forbidden';
  // The place's own 404 (not a member, or no such place) against a thing missing inside a place the person may see.
  const placeNotFound = message === 'Place not found' || /you may not be a member of it/.test(body);
  if (status === 404 && route.url.includes(':slug') && placeNotFound) return 'hidden';
  return 'allowed';
}
