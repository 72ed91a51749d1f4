/**
 * The authentication and session findings of the external review of 2026-12 (issue 16), one
 * `describe` per finding, each named in docs/security.md ("Review 2026-12 findings").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makePerson, makePlace, postSignInForm, startTestApp, type TestApp } from '../../test/support.ts';
import { buildApp } from '../app.ts';
import { loadConfig, parseTrustProxy } from '../core/config.ts';
import { normaliseEmail } from './throttle.ts';
import { apiSignIn, PASSWORD, quickThrottle, withPassword } from '../../test/auth-review-support.ts';

describe(`review 2026-12 H6: sign-in rate limiting on ${engineName}`, () => {
  let t: TestApp;
  let victimId: number;
  before(async () => {
    t = await startTestApp();
    const essex = await makePlace(t.db, 'essex');
    victimId = await makePerson(t.db, 'victim@essex.test', [[essex, 'finance']]);
    await withPassword(t.db, victimId);
    await makePerson(t.db, 'padded@essex.test', [[essex, 'observer']]);
    await makePerson(t.db, 'shared@essex.test', [[essex, 'observer']]);
    quickThrottle(t.app);
  });
  after(() => t.close());

  it('normalises the email before keying: padding, case and compatibility forms share one limit', async () => {
    assert.equal(normaliseEmail('\u00a0 ＰＡＤＤＥＤ@essex.test\t'), 'padded@essex.test');
    const variants = [
      'padded@essex.test',
      ' padded@essex.test',
      'padded@essex.test  ',
      '\tPADDED@essex.test',
      '\u00a0padded@ESSEX.test',
    ];
    // The limit itself is lowered to four so the test is quick; the keying is what is under test.
    quickThrottle(t.app, { perClient: 4 });
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => apiSignIn(t.app, variants[i % variants.length]!, `guess ${i}`)),
    );
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [400, 400, 400, 400, 429]);
    const refused = responses.find((r) => r.statusCode === 429)!;
    assert.equal(refused.json().error, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
  });

  it('counts the sign-in form and the API against one limit', async () => {
    const form = Array.from({ length: 2 }, (_, i) =>
      postSignInForm(t.app, { email: 'shared@essex.test', password: `form guess ${i}` }),
    );
    const api = Array.from({ length: 3 }, (_, i) => apiSignIn(t.app, 'Shared@essex.test ', `api guess ${i}`));
    const statuses = (await Promise.all([...form, ...api])).map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 429).length, 1, `statuses: ${statuses}`);
  });

  it('an attacker failing from many addresses cannot lock the real person out; the attacker’s addresses are refused', async () => {
    quickThrottle(t.app, { perClient: 4, freeFailures: 2, accountBudget: 8 });
    try {
      const attackers = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
      // Three tries each, under the per-client limit of four: only the account's budget can refuse.
      for (const ip of attackers) {
        const tries = await Promise.all(
          Array.from({ length: 3 }, (_, i) => apiSignIn(t.app, 'victim@essex.test', `wrong ${i}`, ip)),
        );
        assert.deepEqual(
          tries.map((r) => r.statusCode),
          [400, 400, 400],
        );
      }
      // Past the account's budget: even the right password from a failing address is refused now.
      const fromAttacker = await apiSignIn(t.app, 'victim@essex.test', PASSWORD, '198.51.100.2');
      assert.equal(fromAttacker.statusCode, 429);
      // The real person, from an address that has not failed, is slowed at most, and gets in.
      const real = await apiSignIn(t.app, 'victim@essex.test', PASSWORD, '203.0.113.7');
      assert.equal(real.statusCode, 201, real.body);
    } finally {
      quickThrottle(t.app, { perClient: 4, freeFailures: 5, accountBudget: 20 });
    }
  });

  it('audits a failed sign-in by reference: the account id, or a hash for an unknown email, never what was typed', async () => {
    const before = await t.db.kysely
      .selectFrom('audit_log')
      .select('id')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    assert.equal(
      (await apiSignIn(t.app, 'victim@essex.test', 'not the password', '192.0.2.50')).statusCode,
      400,
    );
    assert.equal(
      (await apiSignIn(t.app, 'nobody-at-all@essex.test', 'not the password', '192.0.2.50')).statusCode,
      400,
    );
    const entries = await t.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'subject', 'person_id', 'detail'])
      .where('id', '>', before?.id ?? 0)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      entries.map((e) => e.action),
      ['auth.sign_in_failed', 'auth.sign_in_failed'],
    );
    assert.equal(entries[0]!.subject, `person:${victimId}`);
    assert.match(entries[1]!.subject, /^email-sha256:[0-9a-f]{16}$/);
    assert.doesNotMatch(JSON.stringify(entries), /nobody-at-all/);
  });
});

describe(`review 2026-12 H6: trustProxy (PLACEBUDGET_TRUST_PROXY) on ${engineName}`, () => {
  let db: TestDatabase;
  let direct: FastifyInstance;
  let proxied: FastifyInstance;
  before(async () => {
    db = await openTestDatabase();
    const essex = await makePlace(db, 'essex');
    // No password: a wrong guess costs no scrypt, so the test stays quick on a busy machine.
    await makePerson(db, 'nopassword@essex.test', [[essex, 'finance']]);
    direct = await buildApp({ db, config: { ...loadConfig({}), secureCookies: false } });
    proxied = await buildApp({
      db,
      config: { ...loadConfig({ PLACEBUDGET_TRUST_PROXY: '127.0.0.1' }), secureCookies: false },
    });
    for (const app of [direct, proxied]) quickThrottle(app, { perClient: 4 });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
    await db.drop();
  });

  it('reads the setting: off, a hop count, or proxy addresses', () => {
    assert.equal(parseTrustProxy(undefined), false);
    assert.equal(parseTrustProxy('false'), false);
    assert.equal(parseTrustProxy('1'), 1);
    assert.equal(parseTrustProxy('127.0.0.1, 10.0.0.0/8'), '127.0.0.1, 10.0.0.0/8');
    assert.throws(() => parseTrustProxy('<script>'), /PLACEBUDGET_TRUST_PROXY/);
  });

  it('behind a named proxy, one client’s wrong guesses do not lock out another client; unnamed, X-Forwarded-For is ignored', async () => {
    for (const app of [direct, proxied]) {
      const guesses = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          apiSignIn(app, 'nopassword@essex.test', `wrong ${i}`, '127.0.0.1', {
            'x-forwarded-for': '198.51.100.9',
          }),
        ),
      );
      assert.equal(guesses.filter((r) => r.statusCode === 429).length, 1);
    }
    const viaProxy = await apiSignIn(proxied, 'nopassword@essex.test', 'any', '127.0.0.1', {
      'x-forwarded-for': '203.0.113.20',
    });
    assert.equal(
      viaProxy.statusCode,
      400,
      'a different client behind the proxy is not refused (only told the password is wrong)',
    );
    const spoofed = await apiSignIn(direct, 'nopassword@essex.test', 'any', '127.0.0.1', {
      'x-forwarded-for': '203.0.113.20',
    });
    assert.equal(spoofed.statusCode, 429, 'without a trusted proxy a client cannot pick its own address');
  });
});
