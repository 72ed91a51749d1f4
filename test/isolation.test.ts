import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inPlace } from '../src/core/db.ts';
import { engineName } from './db.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from './support.ts';

/**
 * Tenant isolation, tested for every route that takes a place: a member of one place asking for
 * another place's URL gets the same 404 as for a place that does not exist, with nothing of the
 * other place in the answer.
 */
describe(`tenant isolation on ${engineName}`, () => {
  let t: TestApp;
  let essex: number;
  let devon: number;
  let essexAdmin: SignedIn;
  let devonPartner: number;

  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    devon = await makePlace(t.db, 'ilfracombe', 'neighbourhood');
    await makePartner(t.db, essex, 'Essex Police', 'police');
    devonPartner = await makePartner(t.db, devon, 'North Devon Council');
    await t.db.kysely
      .insertInto('place_facts')
      .values({ place_id: devon, label: 'Secret', value: 'devon-only-fact', source: 'test' })
      .execute();
    essexAdmin = await signInAs(t.db, await makePerson(t.db, 'admin@essex.test', [[essex, 'admin']]));
  });
  after(() => t.close());

  const placeRoutes = () => t.app.routeTable.filter((r) => r.url.includes(':slug') && r.method !== 'HEAD');

  it('covers a route for each kind of place-scoped work', () => {
    const urls = placeRoutes().map((r) => `${r.method} ${r.url}`);
    assert.ok(urls.includes('GET /api/v1/places/:slug'));
    assert.ok(urls.includes('POST /api/v1/places/:slug/partners'));
    assert.ok(urls.includes('GET /places/:slug'));
    assert.ok(urls.includes('POST /places/:slug/decisions/:id/sign-offs'));
  });

  it('answers 404 with nothing of the other place, for every place route, API and pages', async () => {
    for (const route of placeRoutes()) {
      const url = route.url.replace(':slug', 'ilfracombe').replace(/:[a-z_]+/g, '1');
      const res = await t.app.inject({
        method: route.method as 'GET',
        url,
        headers: { ...essexAdmin.write, 'content-type': 'application/json' },
        payload:
          route.method === 'GET'
            ? undefined
            : JSON.stringify({
                name: 'x',
                agency_type: 'police',
                title: 't',
                sign_off_rule: 'all',
                partner_id: devonPartner,
              }),
      });
      assert.equal(res.statusCode, 404, `${route.method} ${url} answered ${res.statusCode}`);
      assert.doesNotMatch(
        res.body,
        /devon-only-fact|North Devon Council|ilfracombe/i,
        `${route.method} ${url} leaked`,
      );
    }
    // Nothing was written to the other place by any of those requests.
    const devonPartners = await t.db.kysely
      .selectFrom('partners')
      .select('name')
      .where('place_id', '=', devon)
      .execute();
    assert.deepEqual(devonPartners, [{ name: 'North Devon Council' }]);
  });

  it('answers a place that does not exist exactly like a place the person is not a member of', async () => {
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/nowhere',
      headers: essexAdmin.read,
    });
    const other = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/ilfracombe',
      headers: essexAdmin.read,
    });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(JSON.parse(other.body), JSON.parse(missing.body));
  });

  it('serves the member their own place', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/places/essex', headers: essexAdmin.read });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      res.json().partners.map((p: { name: string }) => p.name),
      ['Essex Police'],
    );
  });
});

describe(`row-level security on ${engineName}`, () => {
  let t: TestApp;
  let essex: number;
  let devon: number;
  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    devon = await makePlace(t.db, 'ilfracombe', 'neighbourhood');
    await makePartner(t.db, essex, 'Essex Police', 'police');
    await makePartner(t.db, devon, 'North Devon Council');
  });
  after(() => t.close());

  it('stops a query that forgot its place filter from seeing another place’s rows', async () => {
    // No WHERE place_id: the policy alone decides what comes back.
    const seen = await inPlace(t.db, essex, (tx) =>
      tx.selectFrom('partners').select(['name', 'place_id']).execute(),
    );
    assert.deepEqual(seen, [{ name: 'Essex Police', place_id: essex }]);
    const counted = await inPlace(t.db, devon, (tx) =>
      sql<{ n: number }>`select count(*)::int as n from partners`.execute(tx),
    );
    assert.equal(counted.rows[0]!.n, 1);
  });

  it('refuses to write a row into another place', async () => {
    await assert.rejects(
      inPlace(t.db, essex, (tx) =>
        tx
          .insertInto('partners')
          .values({ place_id: devon, name: 'Intruder', agency_type: 'police' })
          .execute(),
      ),
      /row-level security/,
    );
    await assert.rejects(
      inPlace(t.db, essex, (tx) =>
        tx.updateTable('partners').set({ place_id: devon }).where('name', '=', 'Essex Police').execute(),
      ),
      /row-level security/,
    );
  });

  it('shows nothing at all when no place is set', async () => {
    const rows = await t.db.kysely.transaction().execute(async (tx) => {
      await sql`set local role placebudget_app`.execute(tx);
      return tx.selectFrom('partners').select('name').execute();
    });
    assert.deepEqual(rows, []);
  });
});
