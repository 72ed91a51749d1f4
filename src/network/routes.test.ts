import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import { loadConfig } from '../core/config.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { makePerson, signInAs, type SignedIn } from '../../test/support.ts';
import { seedDemo } from '../demo/seed.ts';
import { DEMO_PLACES } from '../demo/data.ts';
import { notAvailableYet, type FigureLog, type PlaceFigures } from './figures.ts';
import { inPlace, inSystem } from '../core/db.ts';
import { defaultCatalogue } from '../families/catalogue.ts';
import { cohort } from '../families/costing.ts';
import { budgetReport, postedYears } from '../ledger/reports.ts';
import { publish } from './publish.ts';
import { loadNetworkFigures } from './store.ts';

/** Reading a place's figures must not fail in these tests: a failure fails the test. */
const log: FigureLog = {
  error: ({ err }) => {
    throw err;
  },
};

/** One demo database on disk, used over HTTP and then, once closed, by the CLI (demo seeding is the slow part). */
describe(`learning network on the demo places, ${engineName}`, () => {
  let t: { db: TestDatabase; app: FastifyInstance };
  let admin: SignedIn;
  let observer: SignedIn;

  before(async () => {
    const db = await openTestDatabase({ onDisk: true });
    await seedDemo(db);
    t = { db, app: await buildApp({ db, config: { ...loadConfig({}), secureCookies: false } }) };
    const essex = await t.db.kysely
      .selectFrom('places')
      .select('id')
      .where('slug', '=', 'essex')
      .executeTakeFirstOrThrow();
    const admins = await t.db.kysely
      .selectFrom('people')
      .select('id')
      .where('email', '=', 'admin@placebudget.example')
      .executeTakeFirstOrThrow();
    admin = await signInAs(t.db, admins.id);
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@essex.test', [[essex.id, 'observer']]));
  });
  after(async () => {
    await t.app.close();
    await t.db.drop();
  });

  it('rolls up the demo places and partners, and says the ledger and families are not connected yet', async () => {
    const { rollup } = publish((await loadNetworkFigures(t.db, notAvailableYet, { log })).places);
    // Demo: 4 whole places with 7 + 7 + 8 + 7 = 29 partners; 10 neighbourhoods with
    // 3 + 4 + 3 + 3 + 4 + 4 + 3 + 4 + 3 + 4 = 35 partners; 64 in all.
    assert.deepEqual(
      rollup.map((r) => [r.kind, r.places, r.partners, r.pot.text, r.families.text, r.savingsRealised.text]),
      [
        ['all', 14, 64, 'Not available yet', 'Not available yet', 'Not available yet'],
        ['whole_place', 4, 29, 'Not available yet', 'Not available yet', 'Not available yet'],
        ['neighbourhood', 10, 35, 'Not available yet', 'Not available yet', 'Not available yet'],
      ],
    );
    assert.equal(
      DEMO_PLACES.reduce((sum, p) => sum + p.partners.length, 0),
      64,
    );
  });

  it('rolls up ledger, families and savings figures read through PlaceFigures inside each place', async () => {
    // A stand-in for the ledger and families modules: £1,000,000.00 pooled per partner it can see
    // (behind row-level security, so only the place's own), a quarter committed and half spent;
    // families: 12 in whole places, 4 in neighbourhoods; realised savings a tenth of spend.
    // No place filter on purpose: row-level security must limit the stand-in to the place asked about.
    const partnersOf = async (tx: Parameters<PlaceFigures['money']>[0]) =>
      (await tx.selectFrom('partners').select('id').execute()).length;
    const kindOf = async (tx: Parameters<PlaceFigures['money']>[0], id: number) =>
      (await tx.selectFrom('places').select('kind').where('id', '=', id).executeTakeFirstOrThrow()).kind;
    const source = { label: 'stand-in', href: '/' };
    const figures: PlaceFigures = {
      years: async () => ({ earliest: 2012, latest: 2012 }),
      async money(tx) {
        const pot = (await partnersOf(tx)) * 100_000_000;
        return { available: true, value: { pot, committed: pot / 4, spent: pot / 2, byPartner: [] }, source };
      },
      async families(tx, place) {
        const cohort = (await kindOf(tx, place.id)) === 'whole_place' ? 12 : 4;
        return {
          available: true,
          value: { cohort, costBefore: cohort * 4_500_000, costAfter: cohort * 3_000_000 },
          source,
        };
      },
      async savings(tx) {
        const spent = (await partnersOf(tx)) * 50_000_000;
        return {
          available: true,
          value: { forecast: spent / 5, realised: spent / 10, notCounted: [] },
          source,
        };
      },
    };
    const { rollup } = publish((await loadNetworkFigures(t.db, figures, { log })).places);
    // 64 partners × £1,000,000.00 = £64,000,000.00 pooled, £16,000,000.00 committed, £32,000,000.00 spent;
    // forecast £6,400,000.00, realised £3,200,000.00. Families: 4 × 12 = 48 in whole places; 10 × 4 = 40 in
    // neighbourhoods, each under 10 and so shown as "<10" with nothing left to subtract; 88 in all.
    assert.deepEqual(
      rollup.map((r) => [
        r.kind,
        r.pot.text,
        r.committed.text,
        r.spent.text,
        r.families.text,
        r.savingsForecast.text,
        r.savingsRealised.text,
      ]),
      [
        ['all', '£64,000,000.00', '£16,000,000.00', '£32,000,000.00', '88', '£6,400,000.00', '£3,200,000.00'],
        [
          'whole_place',
          '£29,000,000.00',
          '£7,250,000.00',
          '£14,500,000.00',
          '48',
          '£2,900,000.00',
          '£1,450,000.00',
        ],
        [
          'neighbourhood',
          '£35,000,000.00',
          '£8,750,000.00',
          '£17,500,000.00',
          '40',
          '£3,500,000.00',
          '£1,750,000.00',
        ],
      ],
    );
  });

  it('publishes only the places that opt in, with their indicator progress', async () => {
    assert.deepEqual(
      (await t.app.inject({ method: 'GET', url: '/api/v1/network/benchmarks', headers: admin.read })).json()
        .benchmarks,
      [],
    );
    const opt = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/essex/benchmark-sharing',
      headers: admin.write,
      payload: { shares: true },
    });
    assert.equal(opt.statusCode, 200);
    await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/greater-manchester/benchmark-sharing',
      headers: admin.write,
      payload: { shares: true },
    });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/network/benchmarks?rank_by=indicator_progress',
      headers: admin.read,
    });
    const rows = res
      .json()
      .benchmarks.map((b: { slug: string; rank: number; measures: Record<string, { text: string }> }) => [
        b.slug,
        b.rank,
        b.measures.indicator_progress!.text,
        b.measures.families!.text,
      ]);
    // Greater Manchester: 23,900 of 50,000 jobs = 47.8%. Essex: 60 of 100% reinvested = 60.0%.
    // Each demo area has fewer than 10 families with a whole year behind them: shown as "<10".
    assert.deepEqual(rows, [
      ['essex', 1, '60.0%', '<10'],
      ['greater-manchester', 2, '47.8%', '<10'],
    ]);
  });

  it('lets only an admin opt a place in', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/essex/benchmark-sharing',
      headers: observer.write,
      payload: { shares: false },
    });
    assert.equal(res.statusCode, 403);
  });

  it('publishes a practice note to the network and lists it by tag', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/practice-notes',
      headers: admin.write,
      payload: {
        title: 'One key worker per family',
        what_they_did: 'Named a lead professional for each family with a single plan across agencies.',
        cost: '120,000',
        what_changed: 'Police call-outs to the cohort fell by a third in a year.',
        contact: 'Family Solutions team, familysolutions@essex.example',
        tags: ['Early help', 'key worker'],
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const notes = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/network/practice-notes?tag=early%20help',
        headers: observer.read,
      })
    ).json();
    assert.deepEqual(
      notes.map((n: { title: string; cost_pence: number; tags: string[]; place_slug: string }) => [
        n.title,
        n.cost_pence,
        n.tags,
        n.place_slug,
      ]),
      [['One key worker per family', 12_000_000, ['early help', 'key worker'], 'essex']],
    );
  });

  it('rolls up exactly what the ledger and the families cohort hold for the demo places', async () => {
    // Computed here straight from the ledger's budget report and the families cohort, place by
    // place, for the latest financial year with postings in any place (2012/13 in the demo).
    let pot = 0,
      committed = 0,
      spent = 0,
      families = 0;
    const year = (await inSystem(t.db, (tx) => postedYears(tx, null)))!.latest;
    assert.equal(year, 2012);
    for (const place of await t.db.kysely.selectFrom('places').select(['id', 'slug']).execute()) {
      await inPlace(t.db, place.id, async (tx) => {
        const report = await budgetReport(tx, place.id, year);
        pot += report.totals.contributed;
        committed += report.totals.committed;
        spent += report.totals.actual;
        const today = new Date().toISOString().slice(0, 10);
        const c = await cohort(tx, place.id, defaultCatalogue, null);
        families += c.perFamily.filter(
          (f) => `${Number(f.taken_on.slice(0, 4)) + 1}${f.taken_on.slice(4)}` <= today,
        ).length;
      });
    }
    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/v1/network/rollup/rollup.csv',
      headers: admin.read,
    });
    const all = csv.body.split('\r\n')[1]!.split(',');
    assert.deepEqual(
      [all[0], all[4], all[5], all[6], all[8]],
      ['all', String(pot), String(committed), String(spent), String(families)],
    );
    assert.ok(pot > 0 && families >= 10, 'the demo has money and a cohort to roll up');
  });

  it('shows the network, roll-up and dashboard pages', async () => {
    const network = await t.app.inject({
      method: 'GET',
      url: '/network?rank_by=partners',
      headers: admin.read,
    });
    assert.equal(network.statusCode, 200);
    assert.match(network.body, /One key worker per family/);
    assert.match(network.body, /data-testid="benchmarks-table"/);
    const rollup = await t.app.inject({ method: 'GET', url: '/network/rollup', headers: admin.read });
    assert.match(rollup.body, /data-testid="rollup-table"/);
    const dashboard = await t.app.inject({
      method: 'GET',
      url: '/places/greater-manchester/dashboard',
      headers: admin.read,
    });
    assert.equal(dashboard.statusCode, 200);
    assert.match(dashboard.body, /href="\/places\/greater-manchester\/ledger\?year=2012"/);
    assert.match(
      dashboard.body,
      /href="\/places\/greater-manchester\/indicators\/\d+">Jobs supported by joint investment/,
    );
    assert.match(dashboard.body, /Data for: Progress from baseline to target/);
  });

  it('exports the roll-up as CSV with a Fiscal Data Package beside it', async () => {
    const csv = await t.app.inject({
      method: 'GET',
      url: '/api/v1/network/rollup/rollup.csv',
      headers: admin.read,
    });
    assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
    assert.match(
      csv.body.split('\r\n')[0]!,
      /^place_kind,places,partners,places_reporting_money,pooled_pence,/,
    );
    const pkg = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/network/rollup/datapackage.json',
        headers: admin.read,
      })
    ).json();
    assert.equal(pkg.resources[0].path, 'rollup.csv');
    assert.equal(pkg.model.measures.pooled.currency, 'GBP');
  });

  it('prints the published benchmarks as JSON from the CLI', async () => {
    await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/essex/benchmark-sharing',
      headers: admin.write,
      payload: { shares: false },
    });
    await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/greater-manchester/benchmark-sharing',
      headers: admin.write,
      payload: { shares: false },
    });
    await t.app.inject({
      method: 'PUT',
      url: '/api/v1/places/west-london-tri-borough/benchmark-sharing',
      headers: admin.write,
      payload: { shares: true },
    });
    await t.app.close();
    await t.db.close();
    const out = await runCli(['network', 'benchmarks', '--json'], t.db.env);
    assert.equal(out.status, 0, out.stderr);
    const body = JSON.parse(out.stdout);
    assert.equal(body.rank_by, 'indicator_progress');
    // Tri-borough: NEET (3.5 − 5.2)/(0 − 5.2) = 32.7%, GCSE (73 − 64)/16 = 56.25%, mean 44.5%;
    // NEET is off track and GCSE on track, so 1 of 2 on track.
    assert.deepEqual(
      body.benchmarks.map((b: { slug: string; measures: Record<string, { text: string }> }) => [
        b.slug,
        b.measures.indicator_progress!.text,
        b.measures.indicators_on_track!.text,
      ]),
      [['west-london-tri-borough', '44.5%', '1 of 2']],
    );
  });

  it('writes the roll-up CSV and its datapackage.json from the CLI', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-rollup-'));
    try {
      const out = await runCli(['network', 'rollup', '--out', dir], t.db.env);
      assert.equal(out.status, 0, out.stderr);
      assert.match(
        fs.readFileSync(path.join(dir, 'rollup.csv'), 'utf8').split('\r\n')[2]!,
        /^whole_place,4,29,4,\d+,/,
      );
      assert.equal(
        JSON.parse(fs.readFileSync(path.join(dir, 'datapackage.json'), 'utf8')).resources[0].path,
        'rollup.csv',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown measure on the CLI with exit code 2', async () => {
    const out = await runCli(['network', 'benchmarks', '--rank-by', 'happiness'], t.db.env);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--rank-by must be one of/);
  });
});
