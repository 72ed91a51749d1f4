import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../test/cli.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  postSignInForm,
  signInAs,
  startTestApp,
  type TestApp,
} from '../../test/support.ts';
import { hashPassword } from './password.ts';
import { createSession, findSession } from './store.ts';

const PASSWORD = 'a long enough password';

/** What src/auth/auth.test.ts leaves out: a planted valid session, absolute expiry, revocation that bites at once. */
describe(`session fixation, expiry and revocation on ${engineName}`, () => {
  let t: TestApp;
  let victim: number;
  let attacker: number;
  let place: number;
  before(async () => {
    t = await startTestApp();
    place = await makePlace(t.db, 'essex');
    // Each keeps a role elsewhere: a person with no role at all has no session (src/auth/hardening.test.ts).
    const elsewhere = await makePlace(t.db, 'elsewhere');
    victim = await makePerson(t.db, 'finance@essex.test', [
      [place, 'finance'],
      [elsewhere, 'observer'],
    ]);
    attacker = await makePerson(t.db, 'attacker@elsewhere.test', [[elsewhere, 'observer']]);
    await t.db.kysely
      .updateTable('people')
      .set({ password_hash: await hashPassword(PASSWORD) })
      .where('id', '=', victim)
      .execute();
  });
  after(() => t.close());

  const whoIs = async (token: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/session',
      headers: { cookie: `pb_session=${token}` },
    });
    return res.statusCode === 200
      ? (res.json() as { person: { email: string } }).person.email
      : res.statusCode;
  };

  it('issues a new token at sign-in even when the browser brings a valid session planted by someone else', async () => {
    const planted = await createSession(t.db, attacker, 1);
    const headers = { cookie: `pb_session=${planted.token}`, 'x-csrf-token': planted.csrfToken };
    const credentials = { email: 'finance@essex.test', password: PASSWORD };
    for (const signIn of [
      { url: '/sign-in', send: () => postSignInForm(t.app, credentials, headers) },
      {
        url: '/api/v1/session',
        send: () => t.app.inject({ method: 'POST', url: '/api/v1/session', headers, payload: credentials }),
      },
    ]) {
      const res = await signIn.send();
      assert.ok([201, 303].includes(res.statusCode), `${signIn.url}: ${res.statusCode} ${res.body}`);
      const issued = res.cookies.find((c) => c.name === 'pb_session')!.value;
      assert.notEqual(issued, planted.token);
      assert.equal(await whoIs(issued), 'finance@essex.test');
      assert.equal(
        await whoIs(planted.token),
        'attacker@elsewhere.test',
        'the planted token never becomes the victim’s session',
      );
    }
  });

  it('expires a session at a fixed time after sign-in, told to the browser too, however much it is used', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'finance@essex.test', password: PASSWORD },
    });
    const cookie = res.cookies.find((c) => c.name === 'pb_session')!;
    const hours = t.app.deps.config.sessionHours;
    assert.equal(cookie.maxAge, hours * 3600);
    const { sessionId } = (await findSession(t.db, cookie.value))!;
    const expiresAt = async () =>
      (
        await t.db.kysely
          .selectFrom('sessions')
          .select('expires_at')
          .where('id', '=', sessionId)
          .executeTakeFirstOrThrow()
      ).expires_at.getTime();
    const first = await expiresAt();
    assert.ok(
      Math.abs(first - (Date.now() + hours * 3_600_000)) < 60_000,
      'expires the configured hours after sign-in',
    );
    for (let i = 0; i < 3; i++) await whoIs(cookie.value);
    assert.equal(await expiresAt(), first, 'using a session does not extend it');
  });

  it('takes a place away on the very next request when the person’s role there is removed', async () => {
    const admin = await signInAs(t.db, await makePerson(t.db, 'admin@essex.test', [[place, 'admin']]));
    const finance = await signInAs(t.db, victim);
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/places/essex/ledger/accounts',
          headers: finance.read,
        })
      ).statusCode,
      200,
    );
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/places/essex/people/${victim}/roles/finance`,
      headers: admin.write,
    });
    assert.equal(removed.statusCode, 204, removed.body);
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/places/essex/ledger/accounts',
          headers: finance.read,
        })
      ).statusCode,
      404,
    );
  });
});

describe(`placebudget people sign-out-everywhere on ${engineName}`, () => {
  let db: TestDatabase;
  after(() => db.drop());
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
  });

  it('ends every session of the person, and only theirs', async () => {
    const place = await makePlace(db, 'essex');
    const person = await makePerson(db, 'leaver@essex.test', [[place, 'observer']]);
    const other = await makePerson(db, 'stayer@essex.test', [[place, 'observer']]);
    const sessions = [await createSession(db, person, 8), await createSession(db, person, 8)];
    const kept = await createSession(db, other, 8);
    await db.close();
    const res = await runCli(['people', 'sign-out-everywhere', '--email', 'Leaver@essex.test'], db.env);
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /Every session of leaver@essex.test has ended/);
    const reopened = await db.reopen();
    try {
      for (const s of sessions) assert.equal(await findSession(reopened, s.token), null);
      assert.ok(await findSession(reopened, kept.token));
      const audited = await reopened.kysely
        .selectFrom('audit_log')
        .select('subject')
        .where('action', '=', 'auth.sessions_revoked')
        .execute();
      assert.deepEqual(audited, [{ subject: `person:${person}` }]);
    } finally {
      await reopened.close();
    }
  });
});
