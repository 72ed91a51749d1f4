import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  postSignInForm,
  signInAs,
  startTestApp,
  type TestApp,
} from '../../test/support.ts';
import { safeNext } from './pages.ts';
import { hashPassword, validateNewPassword, verifyPassword } from './password.ts';
import { revokeAllSessions } from './store.ts';

const PASSWORD = 'correct horse battery staple';

describe('passwords', () => {
  it('verifies only the password that was hashed, with a fresh salt each time', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$131072\$8\$1\$/);
    assert.equal(await verifyPassword(PASSWORD, a), true);
    assert.equal(await verifyPassword(PASSWORD + ' ', a), false);
    assert.equal(await verifyPassword(PASSWORD, null), false);
    assert.equal(await verifyPassword(PASSWORD, 'md5$nonsense'), false);
  });

  it('asks for 12 characters or more', () => {
    assert.equal(validateNewPassword('short'), 'Password must be 12 characters or more');
    assert.equal(validateNewPassword(PASSWORD), null);
  });

  it('only redirects to paths on this site after sign-in', () => {
    assert.equal(safeNext('/places/essex'), '/places/essex');
    assert.equal(safeNext('//evil.example/'), '/');
    assert.equal(safeNext('/\\evil.example'), '/');
    assert.equal(safeNext('https://evil.example/'), '/');
    assert.equal(safeNext(undefined), '/');
  });
});

describe(`sign-in and sessions on ${engineName}`, () => {
  let t: TestApp;
  let personId: number;
  before(async () => {
    t = await startTestApp();
    const place = await makePlace(t.db, 'essex');
    personId = await makePerson(t.db, 'finance@essex.test', [[place, 'finance']]);
    await t.db.kysely
      .updateTable('people')
      .set({ password_hash: await hashPassword(PASSWORD) })
      .where('id', '=', personId)
      .execute();
  });
  after(() => t.close());

  const signIn = (email: string, password: string) =>
    postSignInForm(t.app, { email, password, next: '/places/essex' });

  it('signs in with a new HttpOnly, SameSite session cookie and redirects to where the person was going', async () => {
    const res = await signIn('Finance@Essex.test ', PASSWORD);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/places/essex');
    const cookie = res.cookies.find((c) => c.name === 'pb_session');
    assert.ok(cookie);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    const page = await t.app.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: `pb_session=${cookie.value}` },
    });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /essex/);
    const entry = await t.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'person_id'])
      .where('action', '=', 'auth.sign_in')
      .executeTakeFirst();
    assert.deepEqual(entry, { action: 'auth.sign_in', person_id: personId });
  });

  it('never adopts a session token the browser brought with it (session fixation)', async () => {
    // A token an attacker planted: well-formed, unknown to the server.
    const planted = 'A'.repeat(43);
    const res = await postSignInForm(
      t.app,
      { email: 'finance@essex.test', password: PASSWORD },
      { cookie: `pb_session=${planted}` },
    );
    const issued = res.cookies.find((c) => c.name === 'pb_session')!.value;
    assert.notEqual(issued, planted);
    const withPlanted = await t.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { cookie: `pb_session=${planted}` },
    });
    assert.equal(withPlanted.statusCode, 401);
  });

  it('gives one message for a wrong password and an unknown email, and shows the error summary', async () => {
    for (const res of [
      await signIn('finance@essex.test', 'wrong password!'),
      await signIn('nobody@essex.test', PASSWORD),
    ]) {
      assert.equal(res.statusCode, 400);
      assert.match(res.body, /govuk-error-summary/);
      assert.match(res.body, /Email address or password is not correct/);
      assert.equal(res.cookies.length, 0);
    }
  });

  it('asks for both fields when the form is empty', async () => {
    const res = await postSignInForm(t.app, {});
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /href="#email">Enter your email address/);
    assert.match(res.body, /href="#password">Enter your password/);
  });

  it('slows guessing: the 11th attempt in a minute for one email is refused with 429', async () => {
    // All at once: each refused guess costs a full scrypt, and one after another on a busy machine
    // they could outlast the minute the limit counts over.
    const responses = await Promise.all(
      Array.from({ length: 11 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/session',
          payload: { email: 'target@essex.test', password: `guess ${i}` },
        }),
      ),
    );
    assert.deepEqual(responses.map((r) => r.statusCode).sort(), [...Array(10).fill(400), 429]);
  });

  it('signs in through the API and returns the CSRF token to send back', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'finance@essex.test', password: PASSWORD },
    });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.person.email, 'finance@essex.test');
    assert.match(body.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a change without the CSRF token, and accepts it with the token', async () => {
    const session = await signInAs(t.db, personId);
    const without = await t.app.inject({ method: 'POST', url: '/sign-out', headers: session.read });
    assert.equal(without.statusCode, 403);
    assert.match(without.body, /This form has expired/);
    const withToken = await t.app.inject({
      method: 'POST',
      url: '/sign-out',
      headers: session.read,
      payload: { _csrf: session.csrfToken },
    });
    assert.equal(withToken.statusCode, 303);
  });

  it('ends the session on sign-out: the old cookie no longer works', async () => {
    const session = await signInAs(t.db, personId);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: session.write });
    assert.equal(out.statusCode, 204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: session.read });
    assert.equal(after.statusCode, 401);
    assert.deepEqual(after.json(), { error: 'unauthenticated', message: 'Sign in to continue' });
  });

  it('revokes every session of a person at once', async () => {
    const a = await signInAs(t.db, personId);
    const b = await signInAs(t.db, personId);
    await revokeAllSessions(t.db, personId);
    for (const s of [a, b])
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: s.read })).statusCode,
        401,
      );
  });

  it('does not accept an expired session', async () => {
    const session = await signInAs(t.db, personId);
    await t.db.kysely
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('revoked_at', 'is', null)
      .execute();
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: session.read })).statusCode,
      401,
    );
  });

  it('sends people who are not signed in to the sign-in page, and API clients a 401', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/places/essex' });
    assert.equal(page.statusCode, 302);
    assert.equal(page.headers.location, '/sign-in?next=%2Fplaces%2Fessex');
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/places/essex' });
    assert.equal(api.statusCode, 401);
  });
});
