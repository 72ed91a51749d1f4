import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { Invalid } from '../core/errors.ts';
import { validateNewMember } from './domain.ts';

describe('new member input', () => {
  it('needs the partner for roles that act for an agency, and drops it for others', () => {
    assert.throws(
      () => validateNewMember({ email: 'jo@essex.test', name: 'Jo', role: 'key_worker' }),
      (err: unknown) =>
        err instanceof Invalid && err.fields?.partner_id === 'Select the partner they work for',
    );
    assert.deepEqual(
      validateNewMember({ email: ' Jo@Essex.TEST ', name: 'Jo', role: 'analyst', partner_id: '4' }),
      {
        email: 'jo@essex.test',
        name: 'Jo',
        role: 'analyst',
        partner_id: null,
      },
    );
  });

  it('checks the email format', () => {
    assert.throws(
      () => validateNewMember({ email: 'not-an-email', name: 'Jo', role: 'analyst' }),
      /problem with the person/,
    );
  });
});

describe(`adding people to a place on ${engineName}`, () => {
  let t: TestApp;
  let essex: number;
  let police: number;
  let adminId: number;
  let admin: SignedIn;

  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    await makePlace(t.db, 'ilfracombe', 'neighbourhood');
    police = await makePartner(t.db, essex, 'Essex Police', 'police');
    adminId = await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]);
    admin = await signInAs(t.db, adminId);
  });
  after(() => t.close());

  it('adds a new person with a one-time link; the link sets their password and signs them in once', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'Rep@Police.test', name: 'Tom Reid', role: 'partner_rep', partner_id: police },
    });
    assert.equal(res.statusCode, 201);
    const link = new URL(res.json().invitation_url);
    assert.match(link.pathname, /^\/invitations\/[A-Za-z0-9_-]{43}$/);

    const form = await t.app.inject({ method: 'GET', url: link.pathname });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Tom Reid \(rep@police\.test\)/);

    const mismatch = await t.app.inject({
      method: 'POST',
      url: link.pathname,
      payload: { password: 'a long enough password', confirm: 'something else entirely' },
    });
    assert.equal(mismatch.statusCode, 400);
    assert.match(mismatch.body, /The passwords do not match/);

    const set = await t.app.inject({
      method: 'POST',
      url: link.pathname,
      payload: { password: 'a long enough password', confirm: 'a long enough password' },
    });
    assert.equal(set.statusCode, 303);
    const cookie = set.cookies.find((c) => c.name === 'pb_session')!;
    const home = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places',
      headers: { cookie: `pb_session=${cookie.value}` },
    });
    assert.deepEqual(
      home.json().map((p: { slug: string; roles: string[] }) => [p.slug, p.roles]),
      [['essex', ['partner_rep']]],
    );

    const again = await t.app.inject({ method: 'GET', url: link.pathname });
    assert.equal(again.statusCode, 404);
    assert.match(again.body, /This link has expired/);

    // Only the token's hash is stored.
    const stored = await t.db.kysely.selectFrom('invitations').select('id').execute();
    assert.ok(stored.every((row) => !link.pathname.includes(row.id)));
  });

  it('gives an existing person another role; their link only asks them to sign in (the answer does not say the account exists)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'rep@police.test', name: 'Tom Reid', role: 'observer' },
    });
    assert.equal(res.statusCode, 201);
    const link = new URL(res.json().invitation_url);
    const page = await t.app.inject({ method: 'GET', url: link.pathname });
    assert.match(page.body, /Sign in to continue/);
    assert.doesNotMatch(page.body, /Set your password/);
    const twice = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'rep@police.test', name: 'Tom Reid', role: 'observer' },
    });
    assert.equal(twice.statusCode, 400);
    assert.deepEqual(twice.json().fields, { role: 'They already have this role in this place' });
  });

  it('refuses a partner from another place', async () => {
    const devon = await t.db.kysely
      .selectFrom('places')
      .select('id')
      .where('slug', '=', 'ilfracombe')
      .executeTakeFirstOrThrow();
    const devonPartner = await makePartner(t.db, devon.id, 'North Devon Council');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: admin.write,
      payload: { email: 'kw@essex.test', name: 'Jo', role: 'key_worker', partner_id: devonPartner },
    });
    assert.equal(res.statusCode, 400);
  });

  it('takes a role away, but never the last administrator’s', async () => {
    const rep = (
      await t.db.kysely
        .selectFrom('people')
        .select('id')
        .where('email', '=', 'rep@police.test')
        .executeTakeFirstOrThrow()
    ).id;
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/places/essex/people/${rep}/roles/observer`,
      headers: admin.write,
    });
    assert.equal(removed.statusCode, 204);
    const last = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/places/essex/people/${adminId}/roles/admin`,
      headers: admin.write,
    });
    assert.equal(last.statusCode, 400);
    assert.match(last.json().fields.role, /Add another administrator/);
    const actions = await t.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', 'like', 'membership.%')
      .execute();
    assert.deepEqual(
      actions.map((a) => a.action),
      ['membership.grant', 'membership.grant', 'membership.revoke'],
    );
  });

  it('shows the link once on the page after adding someone from the form', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/places/essex/people',
      headers: admin.read,
      payload: {
        _csrf: admin.csrfToken,
        email: 'analyst@essex.test',
        name: 'Sam Okafor',
        role: 'analyst',
        partner_id: '',
      },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Person added/);
    assert.match(res.body, /data-testid="invitation-url">http:\/\/localhost(:\d+)?\/invitations\//);
    const empty = await t.app.inject({
      method: 'POST',
      url: '/places/essex/people',
      headers: admin.read,
      payload: { _csrf: admin.csrfToken },
    });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /href="#email">Enter their email address/);
  });
});
