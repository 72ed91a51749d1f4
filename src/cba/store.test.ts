import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inPlace } from '../core/db.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makePlace } from '../../test/support.ts';
import {
  findUnitCost,
  listUnitCosts,
  localUnitCostHistory,
  recordLocalUnitCost,
  withdrawLocalUnitCost,
} from './store.ts';
import { validateLocalUnitCost } from './unit-costs.ts';

describe(`unit cost database (${engineName})`, () => {
  let db: TestDatabase;
  let north: number;
  let south: number;
  before(async () => {
    db = await openTestDatabase();
    north = await makePlace(db, 'north-cba');
    south = await makePlace(db, 'south-cba');
  });
  after(() => db.drop());

  const policeCallout = {
    code: 'police_callout',
    outcome: 'Police call-out',
    unit: 'per incident',
    cost_pence: 30000,
    price_year: 2013,
    value_type: 'fiscal',
    agency: 'Police',
    cashable: false,
    source: 'North force activity-based costing 2013-14',
    confidence: 'Local estimate: force finance team, grade 3',
  };

  test('finds a national cost uplifted to the asked price year by the GDP deflators', async () => {
    const cost = await inPlace(db, north, (tx) =>
      findUnitCost(tx, { placeId: north, code: 'ae_attendance', priceYear: 2024 }),
    );
    // £114.00 in 2013 prices × (100 / 73.4795) = 15514.53... pence → 15515
    assert.equal(cost?.origin, 'national');
    assert.equal(cost?.cost_in_price_year_pence, 15515);
  });

  test('a place’s own figure replaces the national one for that place only, and withdrawing it restores the national one', async () => {
    await inPlace(db, north, (tx) =>
      recordLocalUnitCost(
        tx,
        north,
        null,
        validateLocalUnitCost({ ...policeCallout, code: 'ambulance_callout', agency: 'NHS' }),
      ),
    );
    const inNorth = await inPlace(db, north, (tx) =>
      findUnitCost(tx, { placeId: north, code: 'ambulance_callout', priceYear: 2013 }),
    );
    const inSouth = await inPlace(db, south, (tx) =>
      findUnitCost(tx, { placeId: south, code: 'ambulance_callout', priceYear: 2013 }),
    );
    assert.equal(inNorth?.cost_in_price_year_pence, 30000);
    assert.equal(inNorth?.replaces_national, true);
    assert.equal(inSouth?.cost_in_price_year_pence, 21600);

    await inPlace(db, north, (tx) => withdrawLocalUnitCost(tx, north, null, 'ambulance_callout'));
    const after = await inPlace(db, north, (tx) =>
      findUnitCost(tx, { placeId: north, code: 'ambulance_callout', priceYear: 2013 }),
    );
    assert.equal(after?.origin, 'national');
    const history = await inPlace(db, north, (tx) => localUnitCostHistory(tx, north, 'ambulance_callout'));
    assert.deepEqual(
      history.map((h) => [h.version, h.withdrawn]),
      [
        [2, true],
        [1, false],
      ],
    );
  });

  test('a code with no national figure is found only once the place records its own, newest version first', async () => {
    const before = await inPlace(db, south, (tx) =>
      findUnitCost(tx, { placeId: south, code: 'police_callout', priceYear: 2013 }),
    );
    assert.equal(before, undefined);
    await inPlace(db, south, (tx) =>
      recordLocalUnitCost(tx, south, null, validateLocalUnitCost(policeCallout)),
    );
    await inPlace(db, south, (tx) =>
      recordLocalUnitCost(tx, south, null, validateLocalUnitCost({ ...policeCallout, cost_pence: 32000 })),
    );
    const found = await inPlace(db, south, (tx) =>
      findUnitCost(tx, { placeId: south, code: 'police_callout', priceYear: 2013 }),
    );
    assert.equal(found?.version, 2);
    assert.equal(found?.cost_in_price_year_pence, 32000);
    const list = await inPlace(db, south, (tx) => listUnitCosts(tx, south, 2013));
    assert.equal(list.filter((c) => c.code === 'police_callout').length, 1);
    assert.ok(list.some((c) => c.code === 'prison_place_year' && c.origin === 'national'));
  });

  test('another place’s own costs are invisible, even asked for by its id (row-level security)', async () => {
    const leaked = await inPlace(db, north, (tx) => localUnitCostHistory(tx, south, 'police_callout'));
    assert.deepEqual(leaked, []);
  });

  test('refuses a unit cost without a source, with a field message', () => {
    assert.throws(
      () => validateLocalUnitCost({ ...policeCallout, source: '  ' }),
      (err: Error & { fields?: Record<string, string> }) => {
        assert.equal(err.fields?.source, 'Enter the source of the figure');
        return true;
      },
    );
    assert.throws(() => validateLocalUnitCost({ ...policeCallout, price_year: 1980 }), /problems/);
  });
});
