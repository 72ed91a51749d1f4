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

describe(`ledger forms on ${engineName}`, () => {
  let t: TestApp;
  let finance: SignedIn;
  let observer: SignedIn;
  let essex: number;
  let police: number;
  let financeId: number;

  before(async () => {
    t = await startTestApp();
    essex = await makePlace(t.db, 'essex');
    police = await makePartner(t.db, essex, 'Essex Police', 'police');
    financeId = await makePerson(t.db, 'finance@essex.test', [[essex, 'finance']]);
    finance = await signInAs(t.db, financeId);
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@essex.test', [[essex, 'observer']]));
    for (const account of [
      { code: 'POT', name: 'Pot', kind: 'pot' },
      { code: 'C-POLICE', name: 'Police', kind: 'contribution', partner_id: police },
      { code: 'ALLOC-FAM', name: 'Families', kind: 'allocation', service: 'Families' },
      { code: 'COMMIT-FAM', name: 'Families commitments', kind: 'commitment', service: 'Families' },
      { code: 'SPEND-FAM', name: 'Families spend', kind: 'spend', service: 'Families' },
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/essex/ledger/accounts',
        headers: finance.write,
        payload: account,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(() => t.close());

  const { form, page } = requests(() => t.app, { pages: '/places/essex' });
  const balances = async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/essex/ledger/balances',
      headers: finance.read,
    });
    return Object.fromEntries(
      res.json().map((b: { account: string; balance_pence: number }) => [b.account, b.balance_pence]),
    );
  };

  it('posts a balanced journal transaction typed in pounds', async () => {
    const shown = await page('/ledger/transactions/new', finance);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /name="key"[^>]*value="web-/);
    // 3 lines: £30,000.00 + £1,250.50 into the pot, £31,250.50 credited to the police contribution.
    const res = await form('/ledger/transactions', finance, {
      date: '2026-04-02',
      memo: 'Police contribution',
      key: 'police-q1',
      account_1: 'POT',
      amount_1: '30,000.00',
      account_2: 'POT',
      amount_2: '£1,250.50',
      account_3: 'C-POLICE',
      amount_3: '-31,250.50',
      account_4: '',
      amount_4: '',
    });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, '/places/essex/ledger#balances');
    const after = await balances();
    assert.equal(after.POT, 3_125_050);
    assert.equal(after['C-POLICE'], -3_125_050);
  });

  it('shows the error summary for an unbalanced journal, keeps what was typed, and posts nothing', async () => {
    const before = await balances();
    const res = await form('/ledger/transactions', finance, {
      date: '2026-04-03',
      memo: 'Allocate to families',
      key: 'alloc-1',
      account_1: 'ALLOC-FAM',
      amount_1: '20,000.00',
      account_2: 'POT',
      amount_2: '-19,999.99',
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /govuk-error-summary/);
    // 20,000.00 - 19,999.99 = £0.01 out.
    assert.match(res.body, /The lines do not balance: debits and credits differ by £0\.01/);
    assert.match(res.body, /value="19,999\.99"|value="-19,999\.99"/);
    assert.match(res.body, /value="Allocate to families"/);
    assert.deepEqual(await balances(), before);
    const journal = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/essex/ledger/transactions',
      headers: finance.read,
    });
    assert.equal(journal.json().length, 1);
  });

  it('names the journal line whose amount is not in pounds and pence', async () => {
    const res = await form('/ledger/transactions', finance, {
      date: '2026-04-03',
      key: 'typo-1',
      account_1: 'POT',
      amount_1: '12.3.4',
      account_2: 'C-POLICE',
      amount_2: 'ten pounds',
    });
    assert.equal(res.statusCode, 400);
    assert.match(
      res.body,
      /href="#amount_1">Enter the amount for line 1 in pounds and pence, like 1,250\.00/,
    );
    assert.match(
      res.body,
      /href="#amount_2">Enter the amount for line 2 in pounds and pence, like 1,250\.00/,
    );
    assert.doesNotMatch(res.body, /Enter an amount in pounds and pence/);
  });

  it('raises a commitment, spends part of it and releases the rest', async () => {
    // Allocate £20,000.00 from the pot to families first.
    const allocated = await form('/ledger/transactions', finance, {
      date: '2026-04-03',
      memo: 'Allocate',
      key: 'alloc-2',
      account_1: 'ALLOC-FAM',
      amount_1: '20000',
      account_2: 'POT',
      amount_2: '-20000',
    });
    assert.equal(allocated.statusCode, 303, allocated.body);

    const tooMuch = await form('/ledger/commitments', finance, {
      key: 'k-big',
      source: 'ALLOC-FAM',
      commitment_account: 'COMMIT-FAM',
      amount: '20,000.01',
      description: 'Too big',
      date: '2026-04-04',
    });
    assert.equal(tooMuch.statusCode, 400);
    assert.match(tooMuch.body, /more than the £20,000.00 available in ALLOC-FAM/);

    const raised = await form('/ledger/commitments', finance, {
      key: 'k-fiw',
      source: 'ALLOC-FAM',
      commitment_account: 'COMMIT-FAM',
      amount: '7,500.25',
      description: 'Family intervention worker',
      date: '2026-04-04',
    });
    assert.equal(raised.statusCode, 303, raised.body);
    // £20,000.00 - £7,500.25 = £12,499.75 left in the allocation.
    let b = await balances();
    assert.equal(b['ALLOC-FAM'], 1_249_975);
    assert.equal(b['COMMIT-FAM'], 750_025);

    const ledger = await page('/ledger', finance);
    const id = /\/ledger\/commitments\/(\d+)"/.exec(ledger.body)?.[1];
    assert.ok(id, 'the ledger page links the open commitment');
    assert.equal((await page(`/ledger/commitments/${id}`, finance)).statusCode, 200);

    const overspend = await form(`/ledger/commitments/${id}/spend`, finance, {
      key: 'k-over',
      spend_account: 'SPEND-FAM',
      spend_amount: '7,500.26',
      spend_date: '2026-05-01',
    });
    assert.equal(overspend.statusCode, 400);
    assert.match(overspend.body, /Enter at most £7,500\.25, what is still outstanding/);
    const spent = await form(`/ledger/commitments/${id}/spend`, finance, {
      key: 'k-spend',
      spend_account: 'SPEND-FAM',
      spend_amount: '5,000.00',
      spend_date: '2026-05-01',
      memo: 'Invoice 17',
    });
    assert.equal(spent.statusCode, 303, spent.body);
    // £7,500.25 - £5,000.00 = £2,500.25 still committed.
    b = await balances();
    assert.equal(b['SPEND-FAM'], 500_000);
    assert.equal(b['COMMIT-FAM'], 250_025);

    const released = await form(`/ledger/commitments/${id}/release`, finance, {
      key: 'k-release',
      release_date: '2026-05-02',
    });
    assert.equal(released.statusCode, 303, released.body);
    // The £2,500.25 left goes back: £12,499.75 + £2,500.25 = £15,000.00.
    b = await balances();
    assert.equal(b['COMMIT-FAM'], 0);
    assert.equal(b['ALLOC-FAM'], 1_500_000);
  });

  it('shows the close confirmation before closing the year', async () => {
    const shown = await page('/ledger/periods/2026/close', finance);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Check before you close 2026\/27/);
    // No reinvestment account yet: the store refuses to share the £15,000.00 underspend, so no close button.
    assert.match(shown.body, /Add a savings reinvestment account before closing the year/);
    assert.doesNotMatch(shown.body, /periods\/2026\/close" novalidate/);

    const api = (url: string, payload: object) =>
      t.app.inject({ method: 'POST', url: `/api/v1/places/essex${url}`, headers: finance.write, payload });
    assert.equal(
      (
        await api('/ledger/accounts', {
          code: 'REINVEST',
          name: 'Savings reinvestment',
          kind: 'reinvestment',
        })
      ).statusCode,
      201,
    );
    const decision = await t.db.kysely
      .insertInto('decisions')
      .values({
        place_id: essex,
        title: 'Pool the budget',
        sign_off_rule: 'all',
        proposed_by: financeId,
        agreed_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.equal(
      (
        await api('/ledger/budgets', {
          financial_year: 2026,
          mode: 'pooled',
          effective_from: '2026-04-01',
          decision_id: decision.id,
        })
      ).statusCode,
      201,
    );
    const agreement = await api('/ledger/agreements', {
      financial_year: 2026,
      partner_id: police,
      funding_stream: 'Troubled families',
      amount_pence: 3_125_050,
      form: 'cash',
      overspend_share_bp: 4000,
      underspend_share_bp: 4000,
      decision_id: decision.id,
      contribution_account: 'C-POLICE',
    });
    assert.equal(agreement.statusCode, 201, agreement.body);

    // The £15,000.00 left in ALLOC-FAM is an underspend: police take 40% = £6,000.00, reinvestment the other £9,000.00.
    const preview = await page('/ledger/periods/2026/close', finance);
    assert.match(preview.body, /ALLOC-FAM: underspend £15,000\.00/);
    assert.match(preview.body, /C-POLICE[\s\S]*?£6,000\.00[\s\S]*?REINVEST[\s\S]*?£9,000\.00/);
    assert.deepEqual((await balances()).REINVEST ?? 0, 0, 'the preview posts nothing');

    const closed = await form('/ledger/periods/2026/close', finance, {});
    assert.equal(closed.statusCode, 303, closed.body);
    const b = await balances();
    assert.equal(b['ALLOC-FAM'], 0);
    assert.equal(b.REINVEST, 900_000);
    // -£31,250.50 put in, £6,000.00 returned: -£25,250.50.
    assert.equal(b['C-POLICE'], -2_525_050);
    assert.match((await page('/ledger/periods/2026/close', finance)).body, /2026\/27 is already closed/);
  });

  it('refuses the forms to an observer with 403 and hides the links', async () => {
    assert.equal((await page('/ledger/transactions/new', observer)).statusCode, 403);
    const res = await form('/ledger/transactions', observer, {
      date: '2026-04-02',
      key: 'x',
      account_1: 'POT',
      amount_1: '1',
      account_2: 'C-POLICE',
      amount_2: '-1',
    });
    assert.equal(res.statusCode, 403);
    assert.equal((await form('/ledger/commitments', observer, { source: 'ALLOC-FAM' })).statusCode, 403);
    assert.equal((await form('/ledger/periods/2026/close', observer, {})).statusCode, 403);
    const ledger = await page('/ledger', observer);
    assert.equal(ledger.statusCode, 200);
    assert.doesNotMatch(ledger.body, /transactions\/new/);
  });
});
