import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { loadConfig } from '../core/config.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { makePartner, makePerson, makePlace, signInAs, type SignedIn } from '../../test/support.ts';

/**
 * One family's cost, the same on the API, the record page and `placebudget families cost --json`.
 * Every event is logged by the key worker, employed by the council, yet each is charged to the
 * agency that bears its unit cost: call-outs to the police, the A&E attendance to health.
 */
describe(`a family's cost on its record on ${engineName}`, () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let kw: SignedIn;
  let outsider: SignedIn;
  let familyId: number;
  const period = 'from=2024-04-01&to=2026-04-01';

  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    const place = await makePlace(db, 'wigan');
    const council = await makePartner(db, place, 'Wigan Council');
    const hospital = await makePartner(db, place, 'Wigan Hospitals', 'health');
    const kwId = await makePerson(db, 'kw@wigan.test', [[place, 'key_worker', council]]);
    await makePerson(db, 'kw@hospital.test', [[place, 'key_worker', hospital]]);
    const agreement = await db.kysely
      .insertInto('family_agreements')
      .values({
        place_id: place,
        title: 'Supporting families',
        purposes: ['case_work'],
        data_categories: ['identity'],
        legal_basis: 'public_task',
        starts_on: '2012-01-01',
        created_by: kwId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Only the council is party: the hospital's key worker has no access basis.
    await db.kysely
      .insertInto('family_agreement_parties')
      .values({ place_id: place, agreement_id: agreement.id, partner_id: council })
      .execute();
    const family = await db.kysely
      .insertInto('families')
      .values({
        place_id: place,
        reference: 'WIG-1',
        household_name: 'The Sample family',
        taken_on: '2024-04-01',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    familyId = family.id;
    const event = (event_type: string, occurred_on: string, quantity = 1) => ({
      place_id: place,
      family_id: familyId,
      partner_id: council,
      recorded_by: kwId,
      event_type,
      occurred_on,
      quantity,
    });
    await db.kysely
      .insertInto('family_events')
      .values([
        event('police_callout', '2024-05-10'),
        event('police_callout', '2025-03-31'),
        event('ae_attendance', '2025-04-01'),
        // A code the catalogue no longer prices: counted as not costed, never as £0.
        event('retired_code', '2024-06-01', 2),
        // Before the period: not counted.
        event('police_callout', '2024-03-31'),
      ])
      .execute();
    await db.close();
  });
  after(() => db.drop());

  // [2024-04-01, 2026-04-01): two call-outs × £500 (2002/03 prices, as published) = £1,000 to the
  // police, both in 2024/25 (31 March 2025 is its last day); one A&E attendance × £109 on
  // 1 April 2025 = £109 to health, in 2025/26. Total £1,109 over 3 costed events; 2 × retired_code
  // not costed; the call-out of 31 March 2024 is before the period.
  const byAgency = { police: 100000, health: 10900 };
  const byYear = [
    { year: 2024, label: '2024/25', cost: 100000 },
    { year: 2025, label: '2025/26', cost: 10900 },
  ];
  const notCosted = [{ event_type: 'retired_code', quantity: 2 }];

  it('prints the same figures from placebudget families cost --json', async () => {
    const run = await runCli(
      ['families', 'cost', '--place', 'wigan', '--from', '2024-04-01', '--to', '2026-04-01', '--json'],
      db.env,
    );
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    assert.deepEqual(out.families, [
      { reference: 'WIG-1', total: 110900, by_agency: byAgency, by_year: byYear, not_costed: notCosted },
    ]);
    assert.deepEqual([out.from, out.to, out.price_base], ['2024-04-01', '2026-04-01', 'as published']);
  });

  describe('over the API and on the record page', () => {
    before(async () => {
      db = await db.reopen();
      app = await buildApp({ db, config: { ...loadConfig({}), secureCookies: false } });
      kw = await signInAs(db, (await person('kw@wigan.test')).id);
      outsider = await signInAs(db, (await person('kw@hospital.test')).id);
    });
    after(() => app.close());
    const person = (email: string) =>
      db.kysely.selectFrom('people').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    const costUrl = (query: string) => `/api/v1/places/wigan/families/${familyId}/cost?${query}`;

    it('totals by bearing agency and financial year, listing the not costed events, and audits the read', async () => {
      const res = await app.inject({ method: 'GET', url: costUrl(period), headers: kw.read });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        from: '2024-04-01',
        to: '2026-04-01',
        price_base: 'as published',
        total: 110900,
        events: 3,
        by_agency: byAgency,
        by_year: byYear,
        not_costed: notCosted,
      });
      const audit = await db.kysely
        .selectFrom('audit_log')
        .select(['person_id', 'detail'])
        .where('action', '=', 'family.cost.read')
        .where('subject', '=', `family:${familyId}`)
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.person_id, (await person('kw@wigan.test')).id);
      assert.deepEqual(
        { purpose: audit[0]!.detail.purpose, basis: audit[0]!.detail.basis, from: audit[0]!.detail.from },
        { purpose: 'case_work', basis: 'public_task', from: '2024-04-01' },
      );
    });

    it('shows the same figures on the record page, each event charged to the agency bearing its cost', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/places/wigan/families/${familyId}?${period}`,
        headers: kw.read,
      });
      assert.equal(res.statusCode, 200, res.body);
      const section = res.body.slice(res.body.indexOf('id="cost"'), res.body.indexOf('id="timeline"'));
      assert.match(section, /Cost of events from 1 April 2024 to 31 March 2026, unit costs as published/);
      for (const figure of ['£1,000.00', '£109.00', '£1,109.00', '2024/25', '2025/26', '2 × retired_code'])
        assert.ok(section.includes(figure), `${figure} in the cost section`);
      const timeline = res.body.slice(res.body.indexOf('id="timeline"'));
      // The A&E attendance, logged by the council's key worker, is charged to health.
      assert.match(timeline, /logged by Wigan Council[\s\S]*?Health/);
      assert.doesNotMatch(timeline, /<td[^>]*>\s*Wigan Council\s*<\/td>/);
    });

    it('refuses a professional without access with 404, on the API and the page', async () => {
      const api = await app.inject({ method: 'GET', url: costUrl(period), headers: outsider.read });
      assert.equal(api.statusCode, 404);
      const page = await app.inject({
        method: 'GET',
        url: `/places/wigan/families/${familyId}?${period}`,
        headers: outsider.read,
      });
      assert.equal(page.statusCode, 404);
    });

    it('refuses a bad period with a field message, on the API and the page', async () => {
      const refusals: [string, string, RegExp][] = [
        ['from=2025-04-01&to=2024-04-01', 'to', /^The end date must be after the start date$/],
        ['from=2010-04-01&to=2024-04-01', 'to', /^The period can be at most 10 years$/],
        ['from=2025-02-30&to=2025-04-01', 'from', /real day/],
      ];
      for (const [query, field, message] of refusals) {
        const res = await app.inject({ method: 'GET', url: costUrl(query), headers: kw.read });
        assert.equal(res.statusCode, 400, query);
        assert.match(res.json().fields[field], message, query);
      }
      const page = await app.inject({
        method: 'GET',
        url: `/places/wigan/families/${familyId}?from=2025-04-01&to=2024-04-01`,
        headers: kw.read,
      });
      assert.equal(page.statusCode, 400);
      assert.match(
        page.body,
        /govuk-error-summary[\s\S]*href="#to"[\s\S]*The end date must be after the start date/,
      );
    });
  });
});
