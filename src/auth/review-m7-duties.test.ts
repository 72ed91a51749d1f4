/**
 * The authentication and session findings of the external review of 2026-12 (issue 16), one
 * `describe` per finding, each named in docs/security.md ("Review 2026-12 findings").
 */
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

describe(`review 2026-12 M7: separation of duties on ${engineName}`, () => {
  let t: TestApp;
  let adminId: number;
  let otherAdminId: number;
  let admin: SignedIn;
  let otherAdmin: SignedIn;
  let police: number;
  before(async () => {
    t = await startTestApp();
    const essex = await makePlace(t.db, 'essex');
    police = await makePartner(t.db, essex, 'Essex Police', 'police');
    adminId = await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]);
    otherAdminId = await makePerson(t.db, 'other.admin@essex.test', [[essex, 'admin']]);
    admin = await signInAs(t.db, adminId);
    otherAdmin = await signInAs(t.db, otherAdminId);
  });
  after(() => t.close());

  it('an admin cannot grant themselves any role, on the API or the form', async () => {
    for (const role of ['key_worker', 'finance', 'observer']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/essex/people',
        headers: admin.write,
        payload: {
          email: ' Admin@Essex.test',
          name: 'Alex Morgan',
          role,
          partner_id: role === 'key_worker' ? police : null,
        },
      });
      assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
      assert.match(res.json().message, /cannot give yourself a role/);
    }
    const form = await t.app.inject({
      method: 'POST',
      url: '/places/essex/people',
      headers: admin.read,
      payload: {
        _csrf: admin.csrfToken,
        email: 'admin@essex.test',
        name: 'Alex Morgan',
        role: 'finance',
        partner_id: '',
      },
    });
    assert.equal(form.statusCode, 403);
    const roles = await t.db.kysely
      .selectFrom('memberships')
      .select('role')
      .where('person_id', '=', adminId)
      .execute();
    assert.deepEqual(
      roles.map((r) => r.role),
      ['admin'],
    );
  });

  it('another admin may grant it, and the grant is audited with who gave it', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/people',
      headers: otherAdmin.write,
      payload: { email: 'admin@essex.test', name: 'Alex Morgan', role: 'key_worker', partner_id: police },
    });
    assert.equal(res.statusCode, 201);
    const entry = await t.db.kysely
      .selectFrom('audit_log')
      .select(['person_id', 'subject', 'detail'])
      .where('action', '=', 'membership.grant')
      .executeTakeFirstOrThrow();
    assert.deepEqual(entry, {
      person_id: otherAdminId,
      subject: `person:${adminId}`,
      detail: { role: 'key_worker', partner_id: police },
    });
  });
});
