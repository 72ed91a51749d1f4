import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { engineName } from './db.ts';
import { fingerprint } from './fingerprint.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from './support.ts';

/** Strings that have broken web applications: injections, template syntax, awkward Unicode. */
/** Refusals that write their own audit entry (a failed sign-in, a wrong current password), and nothing else. */
const AUDITED_REFUSALS = new Set(['POST /api/v1/session', 'PUT /api/v1/account/password']);
const FAILURE_ACTIONS = ['auth.sign_in_failed', 'auth.password_change_failed'];

const NASTY_STRINGS = [
  "'; drop table partners; --",
  "' or '1'='1",
  '{{ 7*7 }}',
  '{% raw %}{{ constructor.constructor("return process")() }}{% endraw %}',
  '<script>alert(1)</script>',
  '\u0000',
  '\u202Eevil',
  '𝒫𝓁𝒶𝒸ℯ',
  'e\u0301',
  '\uD800',
  ' '.repeat(300),
  'x'.repeat(6000),
  '../../etc/passwd',
  '__proto__',
];

const nastyValue = fc.oneof(
  fc.constantFrom(...NASTY_STRINGS),
  fc.constantFrom(-1, 0, -(2 ** 53), 2 ** 53, 1e308, -1e308, 0.1, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('1970-01-01', '9999-12-31', '2012-02-30', '0000-00-00', 'yesterday'),
  fc.constantFrom(null, true, [], {}, [1, 2, 3], { nested: { deep: ['x'] } }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
);

interface PropertySchema {
  type?: string | string[];
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  items?: PropertySchema;
}

/** A value the schema accepts, so hostile strings also reach the database inside valid bodies. */
function validValue(schema: PropertySchema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = [schema.type].flat()[0];
  if (type === 'integer')
    return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
  if (type === 'array') return fc.array(validValue(schema.items ?? {}), { maxLength: 3 });
  if (type === 'boolean') return fc.boolean();
  return fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 40 }));
}

/** A body shaped like the route's schema, each field valid or replaced by something hostile. */
function hostileBody(schema: { properties?: Record<string, PropertySchema> }) {
  const properties = Object.entries(schema.properties ?? {});
  return fc.oneof(
    fc.record(Object.fromEntries(properties.map(([n, p]) => [n, fc.oneof(validValue(p), nastyValue)])), {
      requiredKeys: [],
    }),
    fc.record(Object.fromEntries(properties.map(([n, p]) => [n, validValue(p)]))),
    fc.anything({ maxDepth: 2 }),
  );
}

/** Every hostile string in every text field, the other fields valid: what random search may miss. */
function everyNastyString(schema: {
  properties?: Record<string, PropertySchema>;
}): Record<string, unknown>[] {
  const properties = Object.entries(schema.properties ?? {});
  const valid = Object.fromEntries(
    properties.map(([n, p]) => [n, fc.sample(validValue(p), { numRuns: 1, seed: 42 })[0]]),
  );
  return properties
    .filter(([, p]) => [p.type].flat()[0] === 'string' && !p.enum)
    .flatMap(([name]) => NASTY_STRINGS.map((text) => ({ ...valid, [name]: text })));
}

describe(`every JSON body schema under hostile input on ${engineName}`, () => {
  let t: TestApp;
  let admin: SignedIn;
  before(async () => {
    // Not a test of passwords: every limit of the sign-in limiter stands, but not its waits, and
    // each refused password costs a cheap scrypt instead of the product's 128 MiB one.
    t = await startTestApp({
      signInThrottle: { baseDelayMs: 0, maxDelayMs: 0 },
      passwordCost: { N: 2 ** 10, r: 8, p: 1 },
    });
    const essex = await makePlace(t.db, 'essex');
    await makePartner(t.db, essex, 'Essex Police', 'police');
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]));
  });
  after(() => t.close());

  it('answers 4xx with a clear message and changes nothing, or accepts the input as data', async () => {
    const routes = t.app.routeTable.filter((r) => r.bodySchema && r.url.startsWith('/api/'));
    assert.ok(routes.length >= 3);
    for (const route of routes) {
      const url = route.url.replace(':slug', 'essex').replace(/:[a-z_]+/g, '1');
      const schema = route.bodySchema as { properties?: Record<string, PropertySchema> };
      // One fingerprint per request: the state after one request is the state before the next.
      let before = await fingerprint(t.db);
      const send = async (body: unknown) => {
        const res = await t.app.inject({
          method: route.method as 'POST',
          url,
          headers: { ...admin.write, 'content-type': 'application/json' },
          payload: JSON.stringify(body) ?? 'null',
        });
        assert.ok(
          res.statusCode < 500,
          `${route.method} ${url} answered ${res.statusCode} to ${JSON.stringify(body)}: ${res.body}`,
        );
        if (res.statusCode >= 400) {
          const answer = res.json();
          assert.equal(typeof answer.message, 'string');
          assert.equal(typeof answer.error, 'string');
          assert.doesNotMatch(res.body, /\bat .*\.[jt]s:\d+/, 'no stack trace');
        }
        const after = await fingerprint(t.db);
        if (res.statusCode >= 400 && AUDITED_REFUSALS.has(`${route.method} ${route.url}`)) {
          // A refused sign-in or password change is itself recorded (docs/security.md): only that.
          const added = after.counts.audit_log! - before.counts.audit_log!;
          const entries = await t.db.kysely
            .selectFrom('audit_log')
            .select('action')
            .orderBy('id', 'desc')
            .limit(added)
            .execute();
          assert.ok(
            entries.every((e) => FAILURE_ACTIONS.includes(e.action)),
            `${route.method} ${url} audited ${JSON.stringify(entries)}`,
          );
          assert.deepEqual({ ...after.counts, audit_log: 0 }, { ...before.counts, audit_log: 0 });
        } else if (res.statusCode >= 400)
          assert.deepEqual(
            after,
            before,
            `${route.method} ${url} refused the input but changed the database`,
          );
        before = after;
      };
      for (const body of everyNastyString(schema)) await send(body);
      await fc.assert(fc.asyncProperty(hostileBody(schema), send), { numRuns: 20 });
    }
  });

  it('shows stored hostile text as text: no markup or template runs on the page', async () => {
    for (const name of ['Fire <script>alert(1)</script>', 'Health {{ 7*7 }}']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/essex/partners',
        headers: { ...admin.write, 'content-type': 'application/json' },
        payload: { name, agency_type: 'voluntary' },
      });
      assert.equal(res.statusCode, 201);
    }
    const page = await t.app.inject({ method: 'GET', url: '/places/essex', headers: admin.read });
    assert.match(page.body, /Fire &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(page.body, /<script>alert\(1\)<\/script>/);
    assert.match(page.body, /Health \{\{ 7\*7 \}\}/);
  });
});
