import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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
import { agreementPostings } from './investment.ts';
import { workedExample } from './examples/index.ts';

const example = workedExample();

test('an agreement posts as balanced, netted postings between contribution accounts and reinvestment', () => {
  const postings = agreementPostings(
    {
      basis: 'cashable fiscal benefits, present value',
      repayments: [
        { from: 'NHS', to: 'Council', amount_pence: 700 },
        { from: 'DWP', to: 'Council', amount_pence: 300 },
        { from: 'NHS', to: 'Police', amount_pence: 100 },
      ],
      to_reinvestment_pence: { NHS: 50 },
      investors_unrepaid_pence: {},
    },
    { NHS: 'C-NHS', DWP: 'C-DWP', Council: 'C-COUNCIL', Police: 'C-POLICE' },
    'REINVEST',
  );
  assert.deepEqual(postings, [
    { account: 'C-NHS', amount_pence: -850 },
    { account: 'C-COUNCIL', amount_pence: 1000 },
    { account: 'C-DWP', amount_pence: -300 },
    { account: 'C-POLICE', amount_pence: 100 },
    { account: 'REINVEST', amount_pence: 50 },
  ]);
  assert.equal(
    postings.reduce((s, p) => s + p.amount_pence, 0),
    0,
  );
});

describe(`investment agreements from a business case (${engineName})`, () => {
  let t: TestApp;
  let analyst: SignedIn;
  let finance: SignedIn;
  let placeId: number;
  let adminId: number;
  before(async () => {
    t = await startTestApp();
    placeId = await makePlace(t.db, 'invest');
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@invest.test', [[placeId, 'analyst']]));
    finance = await signInAs(t.db, await makePerson(t.db, 'finance@invest.test', [[placeId, 'finance']]));
    adminId = await makePerson(t.db, 'admin@invest.test', [[placeId, 'admin']]);
    const accounts: Record<string, unknown>[] = [
      { code: 'REINVEST', name: 'Savings reinvestment', kind: 'reinvestment' },
    ];
    for (const [name, type] of [
      ['Council', 'council'],
      ['Police', 'police'],
      ['NHS', 'health'],
      ['DWP', 'council'],
    ] as const) {
      const partner_id = await makePartner(t.db, placeId, name, type);
      accounts.push({
        code: `C-${name.toUpperCase()}`,
        name: `${name} contribution`,
        kind: 'contribution',
        partner_id,
      });
    }
    for (const account of accounts) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/invest/ledger/accounts',
        headers: finance.write,
        payload: account,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(() => t.close());

  const { form } = requests(() => t.app, { pages: '/places/invest' });
  const decision = async (agreed: boolean) =>
    (
      await t.db.kysely
        .insertInto('decisions')
        .values({
          place_id: placeId,
          title: agreed ? 'Approve the key-worker investment' : 'Not yet agreed',
          sign_off_rule: 'all',
          proposed_by: adminId,
          agreed_at: agreed ? new Date() : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;

  test('proposed from the results, approved by an agreed board decision, posted once through the ledger', async () => {
    const { id } = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/invest/cba/business-cases',
        headers: analyst.write,
        payload: example,
      })
    ).json();
    const run = (
      await t.app.inject({ url: `/api/v1/places/invest/cba/business-cases/${id}`, headers: analyst.read })
    ).json();
    const proposed = run.results.investment_agreement;
    assert.ok(proposed.repayments.length > 0);

    const made = await form(`/cba/business-cases/${id}/agreements`, analyst);
    assert.equal(made.statusCode, 303, made.body);
    const url = (made.headers.location as string).replace('/places/invest', '');
    const page = await t.app.inject({ url: `/places/invest${url}`, headers: analyst.read });
    assert.match(page.body, /Not yet: a programme-board decision must approve it/);
    assert.match(
      (await t.app.inject({ url: `/places/invest/cba/business-cases/${id}/results`, headers: analyst.read }))
        .body,
      /proposed, awaiting a board decision/,
    );

    // Finance cannot post before approval; the analyst cannot approve with an unagreed decision.
    assert.equal((await form(`${url}/post`, finance, { date: '2026-04-01' })).statusCode, 409);
    const pending = await form(`${url}/approve`, analyst, { decision_id: String(await decision(false)) });
    assert.equal(pending.statusCode, 400);
    assert.match(pending.body, /The decision has not been agreed by the board yet/);
    const agreedId = await decision(true);
    assert.equal((await form(`${url}/approve`, analyst, { decision_id: String(agreedId) })).statusCode, 303);

    // The accounts are suggested from the partners' names; a missing one is named on the form.
    const postPage = await t.app.inject({ url: `/places/invest${url}`, headers: finance.read });
    assert.match(postPage.body, /<option value="C-COUNCIL" selected>/);
    const missing = await form(`${url}/post`, finance, {
      date: '2026-04-01',
      account_0: '',
      account_1: 'C-DWP',
      account_2: 'C-POLICE',
      reinvestment_account: 'REINVEST',
    });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /href="#account_0">Select Council&#39;s contribution account/);
    const posted = await form(`${url}/post`, finance, {
      date: '2026-04-01',
      account_0: 'C-COUNCIL',
      account_1: 'C-DWP',
      account_2: 'C-POLICE',
      reinvestment_account: 'REINVEST',
    });
    assert.equal(posted.statusCode, 303, posted.body);
    assert.equal(
      (
        await form(`${url}/post`, finance, {
          date: '2026-04-01',
          account_0: 'C-COUNCIL',
          account_1: 'C-DWP',
          account_2: 'C-POLICE',
        })
      ).statusCode,
      409,
    );

    // The ledger holds one transaction carrying the decision, with what the case proposed.
    const tx = await t.db.kysely
      .selectFrom('ledger_transactions')
      .select(['id', 'decision_id', 'idempotency_key'])
      .where('place_id', '=', placeId)
      .execute();
    assert.equal(tx.length, 1);
    assert.equal(tx[0]!.decision_id, agreedId);
    const balances = Object.fromEntries(
      (await t.app.inject({ url: '/api/v1/places/invest/ledger/balances', headers: finance.read }))
        .json()
        .map((b: { account: string; balance_pence: number }) => [b.account, b.balance_pence]),
    );
    const to = (partner: string) =>
      proposed.repayments
        .filter((r: { to: string }) => r.to === partner)
        .reduce((s: number, r: { amount_pence: number }) => s + r.amount_pence, 0);
    assert.equal(balances['C-COUNCIL'], to('Council'));
    assert.equal(balances['C-POLICE'] ?? 0, to('Police'));
    const reinvested = Object.values(proposed.to_reinvestment_pence as Record<string, number>).reduce(
      (s, v) => s + v,
      0,
    );
    assert.equal(balances.REINVEST ?? 0, reinvested);
    assert.match(
      (await t.app.inject({ url: `/places/invest${url}`, headers: analyst.read })).body,
      new RegExp(`Ledger transaction ${tx[0]!.id}`),
    );
  });

  test('the same steps through the JSON API, and forecast needs linked families first', async () => {
    const { api } = requests(t.app, { api: '/api/v1/places/invest/cba/business-cases' });
    const { id } = (await api('POST', '', analyst, example)).json();
    const proposed = await api('POST', `/${id}/agreements`, analyst);
    assert.equal(proposed.statusCode, 201, proposed.body);
    const aid = proposed.json().id;
    assert.equal(
      (await api('POST', `/${id}/agreements/${aid}/approve`, analyst, { decision_id: await decision(false) }))
        .statusCode,
      400,
    );
    const approved = await api('POST', `/${id}/agreements/${aid}/approve`, analyst, {
      decision_id: await decision(true),
    });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.ok(approved.json().approved_at);
    const accounts = { Council: 'C-COUNCIL', DWP: 'C-DWP', Police: 'C-POLICE' };
    assert.equal(
      (
        await api('POST', `/${id}/agreements/${aid}/post`, analyst, {
          date: '2026-04-01',
          contribution_accounts: accounts,
        })
      ).statusCode,
      403,
    );
    const missing = await api('POST', `/${id}/agreements/${aid}/post`, finance, {
      date: '2026-04-01',
      contribution_accounts: accounts,
    });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.json().fields.reinvestment_account, /Select the savings reinvestment account/);
    const posted = await api('POST', `/${id}/agreements/${aid}/post`, finance, {
      date: '2026-04-01',
      contribution_accounts: accounts,
      reinvestment_account: 'REINVEST',
    });
    assert.equal(posted.statusCode, 200, posted.body);
    const [listed] = (await api('GET', `/${id}/agreements`, analyst)).json();
    assert.equal(listed.transaction_id, posted.json().transactionId);

    assert.equal((await api('GET', `/${id}/forecast`, analyst)).statusCode, 404);
    assert.equal(
      (await api('PUT', `/${id}/cohort`, analyst, { taken_on_from: '2014-02-30', taken_on_to: '2015-01-01' }))
        .statusCode,
      400,
    );
    assert.equal(
      (await api('PUT', `/${id}/cohort`, analyst, { taken_on_from: '2014-01-01', taken_on_to: '2015-01-01' }))
        .statusCode,
      200,
    );
    const forecast = await api('GET', `/${id}/forecast`, analyst);
    assert.equal(forecast.statusCode, 200, forecast.body);
    assert.deepEqual([forecast.json().families, forecast.json().rows], [0, []]);
  });

  test('keeps a case that cannot be computed a draft: no agreement is proposed or approved from it, and its list and page say why', async () => {
    const { api } = requests(t.app, { api: '/api/v1/places/invest/cba/business-cases' });
    const { id } = (await api('POST', '', analyst, { ...example, title: 'Tenancy support' })).json();
    const aid = (await api('POST', `/${id}/agreements`, analyst)).json().id;
    // Revision 2 names a unit cost the place does not have.
    const broken = workedExample();
    broken.title = 'Tenancy support';
    (broken.benefits as { unitCost: unknown }[])[0]!.unitCost = 'tenancy_sustained_year';
    assert.equal((await api('PUT', `/${id}`, analyst, { revision: 1, model: broken })).statusCode, 200);

    const why =
      /^This business case cannot be computed, so it stays a draft: No unit cost with code tenancy_sustained_year/;
    const listed = (await api('GET', '', analyst)).json().find((c: { id: number }) => c.id === id);
    assert.deepEqual([listed.approved, listed.computable], [false, false]);
    assert.match(listed.reason, /^No unit cost with code tenancy_sustained_year/);
    const proposed = await api('POST', `/${id}/agreements`, analyst);
    assert.equal(proposed.statusCode, 400);
    assert.match(proposed.json().fields.case, why);
    const approved = await api('POST', `/${id}/agreements/${aid}/approve`, analyst, {
      decision_id: await decision(true),
    });
    assert.equal(approved.statusCode, 400);
    assert.match(approved.json().fields.decision_id, why);
    const onForm = await form(`/cba/business-cases/${id}/agreements/${aid}/approve`, analyst, {
      decision_id: String(await decision(true)),
    });
    assert.equal(onForm.statusCode, 400);
    assert.match(onForm.body, /href="#decision_id">This business case cannot be computed/);
    assert.equal((await api('GET', `/${id}/agreements`, analyst)).json()[0].decision_id, null);

    const page = async (url: string) =>
      (await t.app.inject({ url: `/places/invest${url}`, headers: analyst.read })).body;
    assert.match(await page('/cba'), /Cannot be computed: No unit cost with code tenancy_sustained_year/);
    assert.match(
      await page(`/cba/business-cases/${id}`),
      /This case cannot be computed, so it stays a draft/,
    );
  });
});
