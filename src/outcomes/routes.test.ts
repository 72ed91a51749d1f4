import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  requests,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { workedExample } from '../cba/examples/index.ts';

describe(`indicators API and pages on ${engineName}`, () => {
  let t: TestApp;
  let analyst: SignedIn;
  let resident: SignedIn;
  let indicatorId: number;

  const { post, get } = requests(() => t.app);

  before(async () => {
    t = await startTestApp();
    const tri = await makePlace(t.db, 'west-london-tri-borough');
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@tri.test', [[tri, 'analyst']]));
    resident = await signInAs(t.db, await makePerson(t.db, 'resident@tri.test', [[tri, 'resident']]));
  });
  after(() => t.close());

  it('adds an indicator with a straight-line trajectory and writes the audit trail', async () => {
    const res = await post('/api/v1/places/west-london-tri-borough/indicators', analyst, {
      title: 'Pupils achieving five or more A*–C GCSEs',
      definition: 'Share of pupils at the end of key stage 4',
      unit: '% of pupils',
      source: 'DfE school performance tables',
      better: 'higher',
      frequency: 'annual',
      baseline_value: 64,
      baseline_date: '2012-03-31',
      target_value: 80,
      target_date: '2015-03-31',
    });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    indicatorId = body.id;
    // 64 + 16 × 365/1095 = 69.33 and 64 + 16 × 730/1095 = 74.67.
    assert.deepEqual(
      body.trajectory.map((p: { expected: number }) => Math.round(p.expected * 100) / 100),
      [69.33, 74.67, 80],
    );
    assert.equal(body.status, 'no_data');
    const audit = await t.db.kysely
      .selectFrom('audit_log')
      .select('subject')
      .where('action', '=', 'indicator.create')
      .execute();
    assert.deepEqual(audit, [{ subject: `indicator:${indicatorId}` }]);
  });

  it('records values, imports a CSV all or nothing, and rates the latest against the trajectory', async () => {
    const url = `/api/v1/places/west-london-tri-borough/indicators/${indicatorId}`;
    const bad = await post(`${url}/actuals/import`, analyst, {
      csv: 'period_end,value\n2013-03-31,69.1\n2014-03-31,lots\n',
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().fields.csv, 'Line 3: Enter the value as a number, like 64.2');
    assert.equal((await get(url, analyst)).json().actuals.length, 0, 'nothing from the bad file was kept');

    const good = await post(`${url}/actuals/import`, analyst, {
      csv: 'period_end,value\n2013-03-31,69.1\n2014-03-31,64\n',
    });
    assert.deepEqual(good.json(), { recorded: 2, corrected: 0 });
    // 2014: expected 74.67, actual 64 is 10.67/74.67 = 14.3% short: at risk.
    assert.equal((await get(url, analyst)).json().status, 'at_risk');

    // A correction for 2014 (73: 2.2% short) puts it back on track; both revisions stay.
    const corrected = await post(`${url}/actuals`, analyst, {
      period_end: '2014-03-31',
      value: 73,
      note: 'validated figure',
    });
    assert.equal(corrected.statusCode, 201);
    assert.equal(corrected.json().status, 'on_track');
    const revisions = await t.db.kysely
      .selectFrom('indicator_actuals')
      .select(['revision', 'value'])
      .where('period_end', '=', '2014-03-31')
      .orderBy('revision')
      .execute();
    assert.deepEqual(
      revisions.map((r) => [r.revision, Number(r.value)]),
      [
        [1, 64],
        [2, 73],
      ],
    );
  });

  it('links the indicator to a business case of this place by id, once, named after it by default', async () => {
    const example = workedExample();
    const caseId = (
      await post('/api/v1/places/west-london-tri-borough/cba/business-cases', analyst, example)
    ).json().id;
    const url = `/api/v1/places/west-london-tri-borough/indicators/${indicatorId}/links`;
    const res = await post(url, analyst, { kind: 'business_case', ref_id: caseId });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(res.json().links, [{ kind: 'business_case', ref_id: caseId, label: example.title }]);
    assert.equal((await post(url, analyst, { kind: 'business_case', ref_id: caseId })).statusCode, 400);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `${url}/business_case/${caseId}`,
      headers: analyst.write,
    });
    assert.equal(removed.statusCode, 204);
  });

  it('refuses a link to something the place does not have, naming the field', async () => {
    const url = `/api/v1/places/west-london-tri-borough/indicators/${indicatorId}/links`;
    for (const [kind, message] of [
      ['service', 'There is no service with that reference number in this place'],
      ['spend', 'There is no pot account with that reference number in this place'],
      ['business_case', 'There is no business case with that reference number in this place'],
    ]) {
      const res = await post(url, analyst, { kind, ref_id: 999999 });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().fields.ref_id, message);
    }
    assert.equal(
      (await get(`/api/v1/places/west-london-tri-borough/indicators/${indicatorId}`, analyst)).json().links
        .length,
      0,
    );
  });

  it('lets a resident read indicators but not change them', async () => {
    assert.equal((await get('/api/v1/places/west-london-tri-borough/indicators', resident)).statusCode, 200);
    const res = await post(
      `/api/v1/places/west-london-tri-borough/indicators/${indicatorId}/actuals`,
      resident,
      { period_end: '2015-03-31', value: 80 },
    );
    assert.equal(res.statusCode, 403);
  });

  it('shows the indicator page with its chart, table, status and the rule', async () => {
    const page = await get(`/places/west-london-tri-borough/indicators/${indicatorId}`, analyst);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /On track/);
    assert.match(page.body, /How the status is worked out/);
    assert.match(page.body, /<svg[^>]*>/);
    assert.match(
      page.body,
      /Data for: Pupils achieving five or more A\*–C GCSEs: trajectory and actual values/,
    );
  });

  it('re-shows the import form with numbered errors and keeps what was pasted', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/places/west-london-tri-borough/indicators/${indicatorId}/actuals/import`,
      headers: analyst.read,
      payload: { _csrf: analyst.csrfToken, csv: 'period_end,value\n2015-03-31,eighty\n' },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /govuk-error-summary/);
    assert.match(res.body, /Line 2: Enter the value as a number/);
    assert.match(res.body, /2015-03-31,eighty/);
  });

  it('shows the new-indicator form’s error summary', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/places/west-london-tri-borough/indicators',
      headers: analyst.read,
      payload: {
        _csrf: analyst.csrfToken,
        title: 'Jobs',
        baseline_value: '0',
        baseline_date: '2012-03-31',
        target_value: '50000',
        target_date: '2011-03-31',
      },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /href="#target_date">The target date must be after the baseline date/);
    assert.match(res.body, /href="#definition">Enter the definition/);
  });
});
