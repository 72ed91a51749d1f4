import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../app.ts';
import { workedExample } from '../cba/examples/index.ts';
import { loadConfig } from '../core/config.ts';
import type { PlaceFigures } from '../network/figures.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makeFundedNeighbourhood, makePerson, signInAs, type SignedIn } from '../../test/support.ts';
import { buildWiring } from './index.ts';
import { livePlaceFigures } from './place-figures.ts';

/** The live figures, except that reading a place's families fails (a SQL error) while it is in `failingIn`. */
const failingIn = new Set<string>();
const figures: PlaceFigures = {
  ...livePlaceFigures,
  async families(tx, place) {
    if (failingIn.has(place.slug)) await sql`select 1 / 0`.execute(tx);
    return livePlaceFigures.families(tx, place);
  },
};

describe(`place figures: each place's in its own cell, for one financial year, forecast from approved cases (${engineName})`, () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  const logged: string[] = [];
  let lead: SignedIn;
  let leadId: number;
  let places: { steady: number; troubled: number };
  let readers = 0;

  before(async () => {
    db = await openTestDatabase();
    app = await buildApp(
      { db, config: { ...loadConfig({}), secureCookies: false } },
      {
        logger: { level: 'error', stream: { write: (line: string) => logged.push(line) } },
        wiring: { ...buildWiring(), network: { figures } },
      },
    );
    // Each pot is paid in on 2026-01-02, in financial year 2025/26: £1,000.00 and £2,500.00.
    places = {
      steady: await makeFundedNeighbourhood(db, 'steady', 'Steady council', 100_000),
      troubled: await makeFundedNeighbourhood(db, 'troubled', 'Troubled council', 250_000),
    };
    leadId = await makePerson(db, 'lead@figures.test', [
      [places.steady, 'finance'],
      [places.troubled, 'finance'],
    ]);
    lead = await signInAs(db, leadId);
    await db.kysely
      .insertInto('benchmark_sharing')
      .values(Object.values(places).map((id) => ({ place_id: id, shares: true, decided_by: leadId })))
      .execute();
  });
  after(async () => {
    await app.close();
    await db.drop();
  });

  const api = (method: 'POST' | 'PUT', url: string, payload: object) =>
    app.inject({ method, url: `/api/v1/places${url}`, headers: lead.write, payload });

  /**
   * Every page and API that shows a place's figures, read by a new person each time (the network's
   * figures are limited to 10 reads a minute a person).
   */
  async function everything(query = '') {
    readers += 1;
    const who = await signInAs(
      db,
      await makePerson(db, `reader${readers}@figures.test`, [
        [places.steady, 'observer'],
        [places.troubled, 'observer'],
      ]),
    );
    const get = (url: string) => app.inject({ url: `${url}${query}`, headers: who.read });
    const responses = {
      steadyDashboard: await get('/api/v1/places/steady/dashboard'),
      troubledDashboard: await get('/api/v1/places/troubled/dashboard'),
      steadyPage: await get('/places/steady/dashboard'),
      troubledPage: await get('/places/troubled/dashboard'),
      network: await get('/network'),
      rollupPage: await get('/network/rollup'),
      benchmarks: await get('/api/v1/network/benchmarks'),
      rollup: await get('/api/v1/network/rollup'),
    };
    for (const [name, res] of Object.entries(responses))
      assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
    const json = (name: 'steadyDashboard' | 'troubledDashboard' | 'benchmarks' | 'rollup') =>
      responses[name].json();
    const { indicators: _i, ...steady } = json('steadyDashboard');
    return {
      steady,
      troubled: json('troubledDashboard'),
      troubledPage: responses.troubledPage.body,
      networkPage: responses.network.body,
      rollupPage: responses.rollupPage.body,
      benchmarks: json('benchmarks'),
      rollup: json('rollup') as { kind: string; pot: { value?: number }; moneyReporting: number }[],
    };
  }

  it('leaves every other place’s dashboard, network pages, roll-up and benchmarks as they were when a draft case cannot be computed, and says why in its own place', async () => {
    const before = await everything();
    const bad = workedExample();
    bad.title = 'Tenancy support';
    (bad.benefits as { unitCost: unknown }[])[0]!.unitCost = 'tenancy_sustained_year';
    assert.equal((await api('POST', '/troubled/cba/business-cases', bad)).statusCode, 201);

    const after = await everything();
    assert.deepEqual(after.steady, before.steady);
    assert.deepEqual(after.benchmarks, before.benchmarks);
    assert.deepEqual(after.rollup, before.rollup);
    // The troubled place's savings count nothing from the case, and say why.
    assert.equal(after.troubled.savings.available, false);
    assert.match(
      after.troubled.savings.reason,
      /Not counted: Tenancy support cannot be computed, so it stays a draft: No unit cost with code tenancy_sustained_year/,
    );
    assert.match(after.troubledPage, /Not available: No business case is approved yet/);
    assert.deepEqual(after.troubled.money, before.troubled.money);
  });

  it('reads the latest financial year with postings, so recording next year’s budget mode with nothing posted leaves the roll-up’s money as it was', async () => {
    // £1,000.00 + £2,500.00 pooled in 2025/26 = £3,500.00, from both places.
    const pooled = (rows: { kind: string; pot: { value?: number }; moneyReporting: number }[]) => {
      const all = rows.find((r) => r.kind === 'all')!;
      return [all.pot.value, all.moneyReporting];
    };
    assert.deepEqual(pooled((await everything()).rollup), [350_000, 2]);
    const mode = await api('POST', '/troubled/ledger/budgets', {
      financial_year: 2026,
      mode: 'pooled',
      effective_from: '2026-04-01',
    });
    assert.equal(mode.statusCode, 201, mode.body);

    const latest = await everything();
    assert.deepEqual(pooled(latest.rollup), [350_000, 2]);
    assert.equal(latest.troubled.year, 2025);
    assert.equal(latest.troubled.money.value.pot, 250_000);
    assert.equal(latest.troubled.money.source.label, 'Ledger: budget against actual, 2025/26');

    // Asked for the new year, each place says it has nothing there, and the roll-up adds nothing up.
    const empty = await everything('?year=2026');
    assert.deepEqual(pooled(empty.rollup), [undefined, 0]);
    assert.deepEqual(empty.troubled.money, {
      available: false,
      reason: 'Nothing is agreed or posted in the ledger for 2026/27.',
    });
    assert.match(empty.troubledPage, /Money, 2026\/27/);
    assert.match(empty.troubledPage, /<option value="2025">2025\/26<\/option>/);
    assert.match(empty.rollupPage, /Roll-up by kind of place, ledger figures for 2026\/27/);
    assert.match(empty.networkPage, /<input type="hidden" name="rank_by" value="indicator_progress">/);

    for (const url of ['/api/v1/places/troubled/dashboard?year=1999', '/places/troubled/dashboard?year=next'])
      assert.equal((await app.inject({ url, headers: lead.read })).statusCode, 400, url);
  });

  it('forecasts savings from approved cases only, once each, at the revision the board approved', async () => {
    const decision = async () =>
      (
        await db.kysely
          .insertInto('decisions')
          .values({
            place_id: places.steady,
            title: 'Invest in key workers',
            sign_off_rule: 'all',
            proposed_by: leadId,
            agreed_at: new Date(),
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    const { id } = (await api('POST', '/steady/cba/business-cases', workedExample())).json();
    const propose = async () =>
      (await api('POST', `/steady/cba/business-cases/${id}/agreements`, {})).json().id;
    const approve = async (aid: number) =>
      assert.equal(
        (
          await api('POST', `/steady/cba/business-cases/${id}/agreements/${aid}/approve`, {
            decision_id: await decision(),
          })
        ).statusCode,
        200,
      );
    const forecast = async () => {
      const { steady, rollup } = await everything();
      const all = rollup.find((r) => r.kind === 'all') as unknown as { savingsForecast: { value?: number } };
      assert.equal(all.savingsForecast.value, steady.savings.value?.forecast);
      return steady.savings.available ? steady.savings.value.forecast : 'not counted';
    };

    assert.equal(await forecast(), 'not counted', 'a draft counts for nothing');
    const first = await propose();
    // Revision 2 drops the police call-outs line. Fiscal benefits by year become £23,392.80,
    // £446,752.80, £340,912.80, £238,140.00 (README, less £54,000 and £27,000 of call-outs):
    // PV 23,392.80 + 446,752.80/1.035 + 340,912.80/1.035² + 238,140/1.035³ = £988,072.40.
    const revised = workedExample();
    revised.benefits = (revised.benefits as { unitCost: unknown }[]).filter(
      (b) => (b.unitCost as { code?: string }).code !== 'police_callout',
    );
    assert.equal(
      (await api('PUT', `/steady/cba/business-cases/${id}`, { revision: 1, model: revised })).statusCode,
      200,
    );
    await approve(first);
    // The agreement from revision 1: the README's PV of fiscal benefits, £1,068,159.36.
    assert.equal(await forecast(), 106_815_936);
    await approve(await propose());
    assert.equal(await forecast(), 98_807_240, 'the latest approval, revision 2, and the case once');
    await approve(await propose());
    assert.equal(await forecast(), 98_807_240, 'two approved agreements of one revision count once');
    const page = await app.inject({ url: '/places/steady/dashboard', headers: lead.read });
    assert.match(page.body, /Forecast savings \(approved business cases\)/);
    assert.match(page.body, /£988,072\.40/);
  });

  it('shows a place whose figures fail as not available, with a logged reference, and every other place as before', async () => {
    const before = await everything();
    failingIn.add('troubled');
    try {
      const after = await everything();
      assert.deepEqual(after.steady, before.steady);
      const reference = /The figures could not be worked out \(reference ([0-9a-f]{8})\)\./.exec(
        after.troubled.money.reason,
      )?.[1];
      assert.ok(reference, after.troubled.money.reason);
      for (const figure of ['money', 'families', 'savings'])
        assert.equal(after.troubled[figure].available, false, figure);
      assert.match(after.troubledPage, /Not available: The figures could not be worked out \(reference/);
      // Division by zero in the troubled place's data, logged by the reference its dashboard shows.
      assert.ok(
        logged.some((line) => line.includes(reference) && line.includes('"place":"troubled"')),
        'the failure is logged by its reference',
      );
      const troubled = after.benchmarks.benchmarks.find((b: { slug: string }) => b.slug === 'troubled');
      assert.match(
        troubled.measures.savings_share.text,
        /^Not available: The figures could not be worked out/,
      );
      const steady = (rows: { slug: string }[]) => rows.find((b) => b.slug === 'steady');
      assert.deepEqual(steady(after.benchmarks.benchmarks), steady(before.benchmarks.benchmarks));
      // £1,000.00 from the steady place alone.
      const all = after.rollup.find((r) => r.kind === 'all')!;
      assert.deepEqual([all.pot.value, all.moneyReporting], [100_000, 1]);
    } finally {
      failingIn.clear();
    }
  });
});
