import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { makePartner, makePlace } from '../../test/support.ts';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe(`placebudget families cost on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    const place = await makePlace(db, 'salford');
    const police = await makePartner(db, place, 'Greater Manchester Police', 'police');
    const families = await db.kysely
      .insertInto('families')
      .values([
        { place_id: place, reference: 'SAL-1', household_name: 'Secret Household', taken_on: daysAgo(30) },
        { place_id: place, reference: 'SAL-2', household_name: 'Other Household', taken_on: daysAgo(30) },
      ])
      .returning('id')
      .execute();
    await db.kysely
      .insertInto('family_events')
      .values([
        {
          place_id: place,
          family_id: families[0]!.id,
          event_type: 'police_callout',
          occurred_on: daysAgo(10),
          quantity: 2,
          partner_id: police,
        },
        {
          place_id: place,
          family_id: families[0]!.id,
          event_type: 'ae_attendance',
          occurred_on: daysAgo(300),
          quantity: 1,
          partner_id: police,
        },
        {
          place_id: place,
          family_id: families[1]!.id,
          event_type: 'arrest',
          occurred_on: daysAgo(0),
          quantity: 1,
          partner_id: police,
        },
        // Outside the last 12 months: not counted.
        {
          place_id: place,
          family_id: families[1]!.id,
          event_type: 'eviction',
          occurred_on: daysAgo(400),
          quantity: 1,
          partner_id: police,
        },
      ])
      .execute();
    await db.close();
  });
  after(() => db.drop());

  it('prints per-family and total cost by agency for the last 12 months, without personal data', async () => {
    const run = await runCli(['families', 'cost', '--place', 'salford', '--json'], db.env);
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout);
    // SAL-1: 2 call-outs × £500 + 1 A&E × £109 = £1,109. SAL-2: 1 arrest × £593 (the eviction is 400 days ago).
    // Total £1,702: police £1,593, health £109.
    // by_year and not_costed are checked in family-cost.test.ts, on fixed dates.
    assert.deepEqual(
      out.families.map(({ reference, total, by_agency }: Record<string, unknown>) => ({
        reference,
        total,
        by_agency,
      })),
      [
        { reference: 'SAL-1', total: 110900, by_agency: { police: 100000, health: 10900 } },
        { reference: 'SAL-2', total: 59300, by_agency: { police: 59300 } },
      ],
    );
    assert.deepEqual(out.total, { total: 170200, by_agency: { police: 159300, health: 10900 } });
    assert.doesNotMatch(run.stdout, /Household/);
  });

  it('refuses an unknown place with exit code 2', async () => {
    const run = await runCli(['families', 'cost', '--place', 'nowhere', '--json'], db.env);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /No place with slug nowhere/);
  });
});
