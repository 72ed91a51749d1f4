import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  requests,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';

describe(`places API and pages on ${engineName}`, () => {
  let t: TestApp;
  let essex: number;
  let police: number;
  let council: number;
  let admin: SignedIn;
  let policeRep: SignedIn;
  let observer: SignedIn;

  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    police = await makePartner(t.db, essex, 'Essex Police', 'police');
    council = await makePartner(t.db, essex, 'Essex County Council', 'council');
    await makePartner(t.db, essex, 'NHS Essex', 'health');
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]));
    policeRep = await signInAs(
      t.db,
      await makePerson(t.db, 'rep@police.test', [[essex, 'partner_rep', police]]),
    );
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@essex.test', [[essex, 'observer']]));
  });
  after(() => t.close());

  const { post } = requests(() => t.app);

  it('adds a partner and writes it to the audit log', async () => {
    const res = await post('/api/v1/places/essex/partners', admin, {
      name: 'Essex County Fire and Rescue Service',
      agency_type: 'fire',
    });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().agency_type, 'fire');
    const entry = await t.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'subject', 'place_id'])
      .where('action', '=', 'partner.add')
      .executeTakeFirstOrThrow();
    assert.deepEqual(entry, { action: 'partner.add', subject: `partner:${res.json().id}`, place_id: essex });
  });

  it('answers bad input with 400 and a message per field, never a stack trace', async () => {
    const res = await post('/api/v1/places/essex/partners', admin, {
      name: 42,
      agency_type: 'bank',
      extra: true,
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error, 'invalid');
    assert.deepEqual(Object.keys(body.fields).sort(), ['body.agency_type', 'body.extra', 'body.name']);
    assert.doesNotMatch(res.body, /at .*\.ts:\d+/);
    const blank = await post('/api/v1/places/essex/partners', admin, { name: '   ', agency_type: 'fire' });
    assert.deepEqual(blank.json().fields, { name: 'Enter the partner’s name' });
  });

  it('refuses a second partner with the same name, whatever its case', async () => {
    const res = await post('/api/v1/places/essex/partners', admin, {
      name: 'essex police',
      agency_type: 'police',
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().fields, { name: 'This place already has a partner with that name' });
  });

  it('lets only an admin add partners: others in the place get 403', async () => {
    const res = await post('/api/v1/places/essex/partners', observer, {
      name: 'Jobcentre Plus',
      agency_type: 'dwp',
    });
    assert.equal(res.statusCode, 403);
  });

  it('records a decision as agreed once a majority of partners have signed it off, each by its own representative', async () => {
    // 4 partners now (police, council, health, fire): a majority is floor(4/2)+1 = 3.
    // Security review 2026-12 (H4): an admin no longer signs for partners, so each representative signs.
    const created = await post('/api/v1/places/essex/decisions', admin, {
      title: 'Pool the PCSO budget',
      sign_off_rule: 'majority',
    });
    assert.equal(created.statusCode, 201);
    const d = created.json();
    assert.deepEqual([d.needed, d.given, d.met, d.agreed_at], [3, 0, false, null]);
    const councilRep = await signInAs(
      t.db,
      await makePerson(t.db, 'rep@council.test', [[essex, 'partner_rep', council]]),
    );
    const first = await post(`/api/v1/places/essex/decisions/${d.id}/sign-offs`, councilRep, {
      partner_id: council,
    });
    assert.deepEqual([first.json().given, first.json().met], [1, false]);

    const second = await post(`/api/v1/places/essex/decisions/${d.id}/sign-offs`, policeRep, {
      partner_id: police,
    });
    assert.equal(second.statusCode, 200);
    assert.deepEqual([second.json().given, second.json().met], [2, false]);

    const partners = (
      await t.app.inject({ method: 'GET', url: '/api/v1/places/essex/partners', headers: admin.read })
    ).json();
    const health = partners.find((p: { name: string }) => p.name === 'NHS Essex').id;
    const healthRep = await signInAs(
      t.db,
      await makePerson(t.db, 'rep@health.test', [[essex, 'partner_rep', health]]),
    );
    const third = await post(`/api/v1/places/essex/decisions/${d.id}/sign-offs`, healthRep, {
      partner_id: health,
    });
    assert.deepEqual([third.json().given, third.json().met], [3, true]);
    assert.ok(third.json().agreed_at);
  });

  it('lets a partner representative sign off only for their own partner', async () => {
    const created = (
      await post('/api/v1/places/essex/decisions', admin, {
        title: 'Align youth services',
        sign_off_rule: 'all',
      })
    ).json();
    const res = await post(`/api/v1/places/essex/decisions/${created.id}/sign-offs`, policeRep, {
      partner_id: council,
    });
    assert.equal(res.statusCode, 403);
    assert.match(res.json().message, /only sign off for the partner you represent/);
  });

  it('rejects sign-off by an organisation that is not a partner of the place', async () => {
    const res = await post('/api/v1/places/essex/decisions', admin, {
      title: 'x',
      sign_off_rule: 'all',
      signed_off_by: [999_999],
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().fields, { signed_off_by: 'Select partners of this place' });
  });

  it('shows the add-partner form’s error summary and keeps what was typed', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/places/essex/partners',
      headers: admin.read,
      payload: { _csrf: admin.csrfToken, name: 'Jobcentre Plus Essex' },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /<title>Error: Add a partner/);
    assert.match(res.body, /govuk-error-summary/);
    assert.match(res.body, /href="#agency_type">Select the type of agency/);
    assert.match(res.body, /value="Jobcentre Plus Essex"/);
    const count = await t.db.kysely
      .selectFrom('partners')
      .select('name')
      .where('name', '=', 'Jobcentre Plus Essex')
      .execute();
    assert.equal(count.length, 0);
  });

  it('adds a partner from the form and shows it on the place page with its chart and table', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/places/essex/partners',
      headers: admin.read,
      payload: { _csrf: admin.csrfToken, name: 'Jobcentre Plus Essex', agency_type: 'dwp' },
    });
    assert.equal(res.statusCode, 303);
    const page = await t.app.inject({
      method: 'GET',
      url: res.headers.location as string,
      headers: admin.read,
    });
    assert.match(page.body, /Partner added/);
    assert.match(page.body, /Jobcentre Plus Essex/);
    assert.match(page.body, /<svg[^>]*>/);
    assert.match(page.body, /Data for: Partners by type of agency/);
  });

  it('hides the admin-only actions from an observer', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/places/essex', headers: observer.read });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /Add a partner/);
    assert.doesNotMatch(page.body, /Audit trail/);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/places/essex/partners/new', headers: observer.read }))
        .statusCode,
      403,
    );
  });
});
