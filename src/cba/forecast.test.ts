import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
import { parseBusinessCase, runModel } from './domain.ts';
import { compareForecast } from './forecast.ts';
import { nationalUnitCost } from '../reference/figures.ts';
import { workedExample } from './examples/index.ts';

const example = workedExample();

test('forecast and realised falls are valued at the line’s own unit cost (hand-computed)', () => {
  const model = parseBusinessCase(example);
  const rows = compareForecast(model, runModel(model, nationalUnitCost), [
    { code: 'police_callout', before: 50, after: 35 },
    { code: 'school_exclusion_fixed', before: 4, after: 1 },
  ]);
  // Only the police line counts an event the families recorded. Its forecast fall is
  // 0.8 engagement × 0.25 success × (1 − 0.2 deadweight) × (1 − 0.25 optimism bias, grade 5) = 12%:
  // 6 of the 50 call-outs at £300 = £1,800; realised 15 fewer = £4,500, a 30% fall.
  assert.deepEqual(rows, [
    {
      index: 3,
      outcome: 'Fewer police call-outs to the families',
      code: 'police_callout',
      assumed_cohort: 1500,
      baseline_events: 50,
      forecast_reduction: 0.12,
      realised_reduction: 0.3,
      forecast_avoided: 6,
      realised_avoided: 15,
      value_type: 'fiscal',
      forecast_value_pence: 180000,
      realised_value_pence: 450000,
    },
  ]);
});

describe(`forecast against realised on the results page (${engineName})`, () => {
  let t: TestApp;
  let analyst: SignedIn;
  let placeId: number;
  before(async () => {
    t = await startTestApp();
    placeId = await makePlace(t.db, 'realised');
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@realised.test', [[placeId, 'analyst']]));
    const police = await makePartner(t.db, placeId, 'Police', 'police');
    const family = async (reference: string, taken_on: string, events: [string, string, number][]) => {
      const { id } = await t.db.kysely
        .insertInto('families')
        .values({ place_id: placeId, reference, taken_on })
        .returning('id')
        .executeTakeFirstOrThrow();
      for (const [event_type, occurred_on, quantity] of events) {
        await t.db.kysely
          .insertInto('family_events')
          .values({
            place_id: placeId,
            family_id: id,
            event_type,
            occurred_on,
            quantity,
            partner_id: police,
            recorded_by: null,
          })
          .execute();
      }
    };
    await family('FAM-1', '2014-04-01', [
      ['police_callout', '2013-06-01', 3],
      ['police_callout', '2014-06-01', 1],
      ['ae_attendance', '2013-09-01', 2],
    ]);
    await family('FAM-2', '2014-05-01', [
      ['police_callout', '2014-01-10', 2],
      ['police_callout', '2016-01-10', 4],
    ]);
    await family('FAM-3', '2099-01-01', [['police_callout', '2098-06-01', 9]]);
    await family('FAM-4', '2010-01-01', [['police_callout', '2009-06-01', 9]]);
  });
  after(() => t.close());

  test('an analyst links the families taken on in a window; the results compare forecast with realised', async () => {
    const { id } = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/realised/cba/business-cases',
        headers: analyst.write,
        payload: example,
      })
    ).json();
    const results = `/places/realised/cba/business-cases/${id}/results`;
    assert.match(
      (await t.app.inject({ url: results, headers: analyst.read })).body,
      /No families are linked to this case yet/,
    );
    const link = (fields: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: `/places/realised/cba/business-cases/${id}/cohort`,
        headers: analyst.read,
        payload: { _csrf: analyst.csrfToken, ...fields },
      });
    const bad = await link({ taken_on_from: '2014-13-01', taken_on_to: '2013-01-01' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#taken_on_from"/);
    assert.equal((await link({ taken_on_from: '2014-01-01', taken_on_to: '2099-12-31' })).statusCode, 303);
    const page = (await t.app.inject({ url: results, headers: analyst.read })).body;
    // FAM-1 and FAM-2 count (FAM-2's 2016 call-outs are outside its year after); FAM-3 is too recent; FAM-4 is outside the window.
    assert.match(page, /with a full year since: 2 \(1 more taken on too recently to count\)/);
    const table = page.slice(page.indexOf('data-testid="forecast"'));
    // Police call-outs: 5 before, 1 after: 4 avoided (80%) against the forecast 12% of 5 = 0.6.
    assert.match(
      table,
      /Fewer police call-outs[\s\S]*?>\s*5\s*<[\s\S]*?12%[\s\S]*?80%[\s\S]*?0\.6[\s\S]*?>\s*4\s*<[\s\S]*?£180\.00[\s\S]*?£1,200\.00/,
    );
    assert.match(table, /Fewer A&amp;E attendances/);
  });
});
