import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { workedExample } from './examples/index.ts';

const example = workedExample();

describe(`cost-benefit API (${engineName})`, () => {
  let t: TestApp;
  let analyst: SignedIn;
  let board: SignedIn;
  before(async () => {
    t = await startTestApp();
    const place = await makePlace(t.db, 'cba-town');
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@cba.test', [[place, 'analyst']]));
    board = await signInAs(t.db, await makePerson(t.db, 'board@cba.test', [[place, 'observer']]));
  });
  after(() => t.close());

  test('an analyst saves a business case and anyone on the board reads its results', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/cba-town/cba/business-cases',
      headers: analyst.write,
      payload: example,
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = created.json();
    const read = await t.app.inject({
      url: `/api/v1/places/cba-town/cba/business-cases/${id}`,
      headers: board.read,
    });
    assert.equal(read.statusCode, 200);
    // The README's worked example: NPBI £526,613.46
    assert.equal(read.json().results.net_present_budget_impact_pence, 52661346);
    const csv = await t.app.inject({
      url: `/api/v1/places/cba-town/cba/business-cases/${id}/results.csv`,
      headers: board.read,
    });
    assert.match(csv.headers['content-type'] as string, /text\/csv/);
    assert.match(csv.body, /net present budget impact,"£526,613.46"/);
  });

  test('the board cannot edit: 403', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/cba-town/cba/business-cases',
      headers: board.write,
      payload: example,
    });
    assert.equal(res.statusCode, 403);
  });

  test('a stale revision is refused with 409 and nothing is lost', async () => {
    const { id } = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/cba-town/cba/business-cases',
        headers: analyst.write,
        payload: example,
      })
    ).json();
    const first = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/places/cba-town/cba/business-cases/${id}`,
      headers: analyst.write,
      payload: { revision: 1, model: { ...example, title: 'Second' } },
    });
    assert.equal(first.statusCode, 200);
    const stale = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/places/cba-town/cba/business-cases/${id}`,
      headers: analyst.write,
      payload: { revision: 1, model: { ...example, title: 'Third' } },
    });
    assert.equal(stale.statusCode, 409);
    const read = await t.app.inject({
      url: `/api/v1/places/cba-town/cba/business-cases/${id}`,
      headers: analyst.read,
    });
    assert.equal(read.json().case.title, 'Second');
  });

  test('an invalid business case gets 400 with field paths', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/cba-town/cba/business-cases',
      headers: analyst.write,
      payload: { ...example, years: 0 },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().fields.years, 'Must be between 1 and 30');
  });

  test('a local unit cost recorded over the API is then used by the place’s business cases', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/cba-town/cba/unit-costs',
      headers: analyst.write,
      payload: {
        code: 'looked_after_child_year',
        outcome: 'Looked-after child',
        unit: 'per child per year',
        cost_pence: 5000000,
        price_year: 2013,
        value_type: 'fiscal',
        agency: 'Council',
        cashable: true,
        source: 'Council outturn 2013-14',
        confidence: 'Local audited outturn',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const list = await t.app.inject({
      url: '/api/v1/places/cba-town/cba/unit-costs?price_year=2013',
      headers: board.read,
    });
    const lac = list.json().find((c: { code: string }) => c.code === 'looked_after_child_year');
    assert.equal(lac.cost_in_price_year_pence, 5000000);
  });
});
