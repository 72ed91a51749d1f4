/**
 * The authentication and session findings of the external review of 2026-12 (issue 16), one
 * `describe` per finding, each named in docs/security.md ("Review 2026-12 findings").
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  postSignInForm,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { buildApp } from '../app.ts';
import { loadConfig } from '../core/config.ts';
import { redactUrl } from '../core/http.ts';
import { validateNewMember } from '../places/domain.ts';
import { validateNewPassword } from './password.ts';
import { apiSignIn, PASSWORD, quickThrottle, withPassword } from '../../test/auth-review-support.ts';

describe(`review 2026-12 low findings on ${engineName}`, () => {
  let t: TestApp;
  let essex: number;
  let adminId: number;
  let admin: SignedIn;
  let financeId: number;
  const logLines: string[] = [];
  let logged: FastifyInstance;
  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    const devon = await makePlace(t.db, 'devon');
    adminId = await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]);
    admin = await signInAs(t.db, adminId);
    financeId = await makePerson(t.db, 'finance@essex.test', [[essex, 'finance']]);
    await withPassword(t.db, financeId);
    // Someone with an account in another place only.
    const elsewhere = await makePerson(t.db, 'known@devon.test', [[devon, 'observer']]);
    await withPassword(t.db, elsewhere);
    quickThrottle(t.app);
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    logged = await buildApp(
      { db: t.db, config: { ...loadConfig({}), secureCookies: false } },
      { logger: { level: 'info', stream } },
    );
  });
  after(async () => {
    await logged.close();
    await t.close();
  });

  it('L1 login CSRF: the sign-in form needs its pre-session token, and the API needs JSON', async () => {
    const forged = await t.app.inject({
      method: 'POST',
      url: '/sign-in',
      payload: { email: 'finance@essex.test', password: PASSWORD },
    });
    assert.equal(forged.statusCode, 400);
    assert.equal(
      forged.cookies.find((c) => c.name === 'pb_session'),
      undefined,
    );
    assert.match(forged.body, /The sign-in form had expired/);
    // A token from one browser does not work with another browser's cookie.
    const mine = await t.app.inject({ method: 'GET', url: '/sign-in' });
    const token = /name="_csrf" value="([^"]+)"/.exec(mine.body)![1]!;
    const crossed = await t.app.inject({
      method: 'POST',
      url: '/sign-in',
      headers: { cookie: `pb_presession=${'B'.repeat(43)}` },
      payload: { email: 'finance@essex.test', password: PASSWORD, _csrf: token },
    });
    assert.equal(crossed.statusCode, 400);
    assert.equal(
      crossed.cookies.find((c) => c.name === 'pb_session'),
      undefined,
    );
    const formToApi = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=finance%40essex.test&password=a+long+enough+password',
    });
    assert.equal(formToApi.statusCode, 400);
    assert.equal(
      formToApi.cookies.find((c) => c.name === 'pb_session'),
      undefined,
    );
    const real = await postSignInForm(t.app, { email: 'finance@essex.test', password: PASSWORD });
    assert.equal(real.statusCode, 303);
  });

  it('L2 Host header: invitation links use the configured public address, whatever Host says', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: { ...admin.write, host: 'evil.example' },
      payload: { email: 'newbie@essex.test', name: 'New Person', role: 'observer' },
    });
    assert.equal(res.statusCode, 201);
    assert.ok(
      res.json().invitation_url.startsWith(`${t.app.deps.config.publicUrl}/invitations/`),
      res.json().invitation_url,
    );
    assert.equal(loadConfig({}).publicUrl, 'http://localhost:3000');
    assert.equal(
      loadConfig({ PLACEBUDGET_PUBLIC_URL: 'https://budget.example.org/' }).publicUrl,
      'https://budget.example.org',
    );
    assert.throws(() => loadConfig({ PLACEBUDGET_PUBLIC_URL: 'evil.example' }), /PLACEBUDGET_PUBLIC_URL/);
  });

  it('L3 request log: an invitation token never reaches a log line', async () => {
    const res = await logged.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'logged@essex.test', name: 'Logged Person', role: 'observer' },
    });
    const token = new URL(res.json().invitation_url).pathname.split('/')[2]!;
    await logged.inject({ method: 'GET', url: `/invitations/${token}` });
    await logged.inject({
      method: 'POST',
      url: `/invitations/${token}?x=1`,
      payload: { password: 'x', confirm: 'y' },
    });
    const text = logLines.join('');
    assert.match(text, /\/invitations\/\[redacted\]/);
    assert.ok(!text.includes(token), 'the token is not in the log');
    assert.equal(redactUrl(`/invitations/${token}?a=b`), '/invitations/[redacted]?a=b');
  });

  it('L4 large bodies: without a session, a large body is refused before it is read', async () => {
    const big = 'a,b\n'.repeat(512 * 1024);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/spend/imports',
      headers: { 'content-type': 'text/csv' },
      payload: big,
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'too_large');
    const small = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/spend/imports',
      headers: { 'content-type': 'text/csv' },
      payload: 'a,b\n',
    });
    assert.equal(small.statusCode, 401, 'a small body still gets the sign-in answer');
  });

  it('L6 email pattern: bounded to 254 characters, checked before the pattern runs', () => {
    const local = 'a'.repeat(64);
    const ok = `${local}@${'b'.repeat(184)}.test`;
    assert.equal(ok.length, 254);
    assert.equal(validateNewMember({ email: ok, name: 'Jo', role: 'analyst' }).email, ok);
    assert.throws(
      () => validateNewMember({ email: `${local}@${'b'.repeat(185)}.test`, name: 'Jo', role: 'analyst' }),
      /problem with the person/,
    );
    const started = performance.now();
    assert.throws(() => validateNewMember({ email: 'a'.repeat(30_000), name: 'Jo', role: 'analyst' }));
    assert.throws(() => validateNewMember({ email: `a@${'b'.repeat(200)}`, name: 'Jo', role: 'analyst' }));
    assert.ok(performance.now() - started < 50);
  });

  it('L8 sessions of a person with no roles left: removing the last role ends them', async () => {
    const leaverId = await makePerson(t.db, 'leaver@essex.test', [[essex, 'resident']]);
    const leaver = await signInAs(t.db, leaverId);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/network/practice-notes', headers: leaver.read }))
        .statusCode,
      200,
    );
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/places/essex/people/${leaverId}/roles/resident`,
      headers: admin.write,
    });
    assert.equal(removed.statusCode, 204);
    for (const url of ['/api/v1/network/practice-notes', '/api/v1/session'])
      assert.equal((await t.app.inject({ method: 'GET', url, headers: leaver.read })).statusCode, 401, url);
    const open = await t.db.kysely
      .selectFrom('sessions')
      .select('id')
      .where('person_id', '=', leaverId)
      .where('revoked_at', 'is', null)
      .execute();
    assert.deepEqual(open, []);
    // A person who never had a role has no working session either.
    const nobody = await signInAs(t.db, await makePerson(t.db, 'norole@essex.test'));
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/network/rollup', headers: nobody.read })).statusCode,
      401,
    );
  });

  it('L9 common passwords: refused when set, by rule and by list', async () => {
    for (const weak of [
      'aaaaaaaaaaaa',
      'Password1234',
      'P@ssw0rd2024!',
      'passwordpassword',
      '123456789012',
      'qwertyuiop12',
      'iloveyou1234',
      'abcdefghijkl',
      'Liverpool2024!',
    ])
      assert.notEqual(validateNewPassword(weak), null, weak);
    assert.match(
      validateNewPassword('jo.smith.garden.gate', { email: 'jo.smith@essex.test' })!,
      /name or email/,
    );
    assert.equal(validateNewPassword('kettle harbour violet rain'), null);
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'weak@essex.test', name: 'Weak Password', role: 'observer' },
    });
    const link = new URL(res.json().invitation_url).pathname;
    const set = await t.app.inject({
      method: 'POST',
      url: link,
      payload: { password: 'Password1234', confirm: 'Password1234' },
    });
    assert.equal(set.statusCode, 400);
    assert.match(set.body, /Password is too common/);
  });

  it('L9 password change: needs the current password, ends the other sessions, and is audited', async () => {
    const personId = await makePerson(t.db, 'changer@essex.test', [[essex, 'analyst']]);
    await withPassword(t.db, personId);
    const here = await signInAs(t.db, personId);
    const elsewhere = await signInAs(t.db, personId);
    const wrong = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/account/password',
      headers: here.write,
      payload: { current_password: 'not my password', new_password: 'kettle harbour violet rain' },
    });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(wrong.json().fields, { current: 'Your current password is not correct' });
    const weak = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/account/password',
      headers: here.write,
      payload: { current_password: PASSWORD, new_password: 'Password1234' },
    });
    assert.equal(weak.statusCode, 400);
    const changed = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/account/password',
      headers: here.write,
      payload: { current_password: PASSWORD, new_password: 'kettle harbour violet rain' },
    });
    assert.equal(changed.statusCode, 204, changed.body);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: here.read })).statusCode,
      200,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: elsewhere.read })).statusCode,
      401,
    );
    assert.equal(
      (await apiSignIn(t.app, 'changer@essex.test', 'kettle harbour violet rain', '192.0.2.77')).statusCode,
      201,
    );
    const actions = await t.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('subject', '=', `person:${personId}`)
      .where('action', 'like', 'auth.password%')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      actions.map((a) => a.action),
      ['auth.password_change_failed', 'auth.password_changed'],
    );
    // The page does the same, with the GOV.UK error summary.
    const page = await t.app.inject({ method: 'GET', url: '/account/password', headers: here.read });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Change your password/);
    const mismatch = await t.app.inject({
      method: 'POST',
      url: '/account/password',
      headers: here.read,
      payload: {
        _csrf: here.csrfToken,
        current: 'kettle harbour violet rain',
        password: 'lantern meadow copper fig',
        confirm: 'other',
      },
    });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /govuk-error-summary/);
    const done = await t.app.inject({
      method: 'POST',
      url: '/account/password',
      headers: here.read,
      payload: {
        _csrf: here.csrfToken,
        current: 'kettle harbour violet rain',
        password: 'lantern meadow copper fig',
        confirm: 'lantern meadow copper fig',
      },
    });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Your password has been changed/);
  });

  it('L11 account existence: adding an email with an account elsewhere answers exactly as a new one', async () => {
    const add = (email: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/places/essex/people',
        headers: admin.write,
        payload: { email, name: 'Some Person', role: 'analyst' },
      });
    const known = await add('known@devon.test');
    const fresh = await add('fresh@elsewhere.test');
    assert.equal(known.statusCode, fresh.statusCode);
    assert.deepEqual(Object.keys(known.json()).sort(), Object.keys(fresh.json()).sort());
    assert.match(known.json().invitation_url, /\/invitations\/[A-Za-z0-9_-]{43}$/);
    const grants = await t.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'membership.grant')
      .orderBy('id', 'desc')
      .limit(2)
      .execute();
    assert.deepEqual(grants[0]!.detail, grants[1]!.detail, 'the audit the admin reads does not say either');
    // The link of someone who has an account never sets their password.
    const link = new URL(known.json().invitation_url).pathname;
    const takeover = await t.app.inject({
      method: 'POST',
      url: link,
      payload: { password: 'lantern meadow copper fig', confirm: 'lantern meadow copper fig' },
    });
    assert.equal(
      takeover.cookies.find((c) => c.name === 'pb_session'),
      undefined,
    );
    assert.equal((await apiSignIn(t.app, 'known@devon.test', PASSWORD, '192.0.2.88')).statusCode, 201);
  });
});
