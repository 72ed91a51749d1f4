import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

describe(`ledger API and pages on ${engineName}`, () => {
  let t: TestApp;
  let police: number;
  let council: number;
  let finance: SignedIn;
  let observer: SignedIn;
  let policeRep: SignedIn;

  before(async () => {
    t = await startTestApp();
    const essex = await makePlace(t.db, 'essex');
    police = await makePartner(t.db, essex, 'Essex Police', 'police');
    council = await makePartner(t.db, essex, 'Essex County Council', 'council');
    finance = await signInAs(t.db, await makePerson(t.db, 'finance@essex.test', [[essex, 'finance']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@essex.test', [[essex, 'observer']]));
    policeRep = await signInAs(
      t.db,
      await makePerson(t.db, 'rep@police.test', [[essex, 'partner_rep', police]]),
    );
  });
  after(() => t.close());

  const { post } = requests(() => t.app, { api: '/api/v1/places/essex' });
  const { get } = requests(() => t.app);

  it('lets finance open accounts and post; observers read but cannot post', async () => {
    for (const account of [
      { code: 'POT', name: 'Pot', kind: 'pot' },
      { code: 'C-POLICE', name: 'Police', kind: 'contribution', partner_id: police },
      { code: 'C-COUNCIL', name: 'Council', kind: 'contribution', partner_id: council },
      { code: 'ALLOC-FAM', name: 'Families', kind: 'allocation', service: 'Families' },
      { code: 'SPEND-FAM', name: 'Families spend', kind: 'spend', service: 'Families' },
    ]) {
      const res = await post('/ledger/accounts', finance, account);
      assert.equal(res.statusCode, 201, res.body);
    }
    assert.equal(
      (await post('/ledger/accounts', observer, { code: 'X', name: 'X', kind: 'pot' })).statusCode,
      403,
    );
    const batch = {
      transactions: [
        {
          key: 'c1',
          date: '2012-04-02',
          memo: 'Police',
          postings: [
            { account: 'POT', amount_pence: 30_000_00 },
            { account: 'C-POLICE', amount_pence: -30_000_00 },
          ],
        },
        {
          key: 'c2',
          date: '2012-04-02',
          memo: 'Council',
          postings: [
            { account: 'POT', amount_pence: 70_000_00 },
            { account: 'C-COUNCIL', amount_pence: -70_000_00 },
          ],
        },
        {
          key: 'a1',
          date: '2012-04-05',
          memo: 'Allocate',
          postings: [
            { account: 'ALLOC-FAM', amount_pence: 80_000_00 },
            { account: 'POT', amount_pence: -80_000_00 },
          ],
        },
        {
          key: 's1',
          date: '2012-10-05',
          memo: 'Spend',
          postings: [
            { account: 'SPEND-FAM', amount_pence: 50_000_00 },
            { account: 'ALLOC-FAM', amount_pence: -50_000_00 },
          ],
        },
      ],
    };
    const res = await post('/ledger/transactions', finance, batch);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal((await post('/ledger/transactions', observer, batch)).statusCode, 403);
    const bad = await post('/ledger/transactions', finance, {
      transactions: [
        {
          key: 'x',
          date: '2012-04-02',
          postings: [
            { account: 'POT', amount_pence: 1 },
            { account: 'C-POLICE', amount_pence: -2 },
          ],
        },
      ],
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json().fields, { '[0]': 'postings do not balance: they sum to -1 pence, not 0' });
    const balances = await get('/api/v1/places/essex/ledger/balances', observer);
    assert.deepEqual(
      balances.json().find((b: { account: string }) => b.account === 'ALLOC-FAM'),
      { account: 'ALLOC-FAM', balance_pence: 30_000_00 },
    );
  });

  it('refuses a commitment above the available balance with 409', async () => {
    const res = await post('/ledger/accounts', finance, {
      code: 'COMMIT-FAM',
      name: 'Families commitments',
      kind: 'commitment',
      service: 'Families',
    });
    assert.equal(res.statusCode, 201);
    const over = await post('/ledger/commitments', finance, {
      key: 'k1',
      date: '2012-11-01',
      source: 'ALLOC-FAM',
      commitment_account: 'COMMIT-FAM',
      amount_pence: 30_000_01,
      description: 'Too much',
    });
    assert.equal(over.statusCode, 409);
    const ok = await post('/ledger/commitments', finance, {
      key: 'k2',
      date: '2012-11-01',
      source: 'ALLOC-FAM',
      commitment_account: 'COMMIT-FAM',
      amount_pence: 10_000_00,
      description: 'Key workers',
    });
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('reports budget, actual and forecast by service and by partner', async () => {
    const res = await get('/api/v1/places/essex/ledger/report?year=2012', observer);
    assert.equal(res.statusCode, 200);
    const report = res.json();
    // £80,000 allocated; £50,000 spent; £10,000 committed: forecast £60,000, £20,000 under.
    assert.deepEqual(report.services, [
      {
        service: 'Families',
        budget: 80_000_00,
        actual: 50_000_00,
        committed: 10_000_00,
        forecast: 60_000_00,
        variance: 20_000_00,
      },
    ]);
    // Police put in 30% of £100,000: 30% of the £50,000 spent is £15,000.
    const policeLine = report.partners.find((p: { partner: string }) => p.partner === 'Essex Police');
    assert.deepEqual(
      [policeLine.contributed, policeLine.actual_share, policeLine.forecast_share],
      [30_000_00, 15_000_00, 18_000_00],
    );
  });

  it('shows a partner rep their own partner’s statement and no other', async () => {
    const own = await get(`/api/v1/places/essex/ledger/partners/${police}/statement?year=2012`, policeRep);
    assert.equal(own.statusCode, 200);
    assert.deepEqual(
      own.json().lines.map((l: { amount_pence: number }) => l.amount_pence),
      [30_000_00],
    );
    assert.equal(
      (await get(`/api/v1/places/essex/ledger/partners/${council}/statement?year=2012`, policeRep))
        .statusCode,
      403,
    );
    assert.equal((await get('/api/v1/places/essex/ledger/balances', policeRep)).statusCode, 403);
    const page = await get(`/places/essex/ledger/partners/${police}?year=2012`, policeRep);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Statement for Essex Police/);
  });

  it('draws the flow of money as a Sankey with its table', async () => {
    const page = await get('/places/essex/ledger?year=2012', observer);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<svg[^>]*>/);
    assert.match(page.body, /Money flowing from partners into the pot and out to services/);
    assert.match(page.body, /Essex Police[\s\S]*£30,000\.00/);
  });
});
