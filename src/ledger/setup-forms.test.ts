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

describe(`ledger set-up and correction forms on ${engineName}`, () => {
  let t: TestApp;
  let finance: SignedIn;
  let observer: SignedIn;
  let place: number;
  let police: number;
  let council: number;
  let agreed: number;
  let proposed: number;
  let reopens: number;

  before(async () => {
    t = await startTestApp();
    place = await makePlace(t.db, 'essex');
    police = await makePartner(t.db, place, 'Essex Police', 'police');
    council = await makePartner(t.db, place, 'Essex County Council');
    const financeId = await makePerson(t.db, 'finance@essex.test', [[place, 'finance']]);
    finance = await signInAs(t.db, financeId);
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@essex.test', [[place, 'observer']]));
    const decision = (title: string, agreedAt: Date | null, reopens: number | null = null) =>
      t.db.kysely
        .insertInto('decisions')
        .values({
          place_id: place,
          title,
          sign_off_rule: 'all',
          proposed_by: financeId,
          agreed_at: agreedAt,
          kind: reopens ? 'period_reopen' : 'general',
          financial_year: reopens,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
    agreed = (await decision('Pool the PCSO budget', new Date('2026-03-20T12:00:00Z'))).id;
    proposed = (await decision('Re-open 2025/26 for a late invoice', null, 2025)).id;
    reopens = (await decision('Re-open 2025/26 for the PCSO invoice', new Date('2026-05-20T12:00:00Z'), 2025))
      .id;
  });
  after(() => t.close());

  const { browserForm: form } = requests(() => t.app, { pages: '/places/essex' });
  const api = async (url: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/v1/places/essex${url}`, headers: finance.read })).json();

  it('opens accounts, mapping a partner’s own code, and names every problem first', async () => {
    const bad = await form('/ledger/accounts/new', finance, {
      code: 'C POLICE',
      name: '',
      kind: 'contribution',
      partner_code: 'PCC-4410',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#code">Enter a code of letters, digits/);
    assert.match(bad.body, /href="#name">Enter the account’s name/);
    assert.match(bad.body, /href="#partner_id">Select the partner whose contribution this account holds/);
    assert.match(bad.body, /href="#code_partner_id">Select the partner whose own code this is/);
    assert.match(bad.body, /value="PCC-4410"/);
    for (const fields of [
      {
        code: 'C-POLICE',
        name: 'Police contribution',
        kind: 'contribution',
        partner_id: String(police),
        partner_code: 'PCC-4410',
      },
      { code: 'C-COUNCIL', name: 'Council contribution', kind: 'contribution', partner_id: String(council) },
      {
        code: 'POT',
        name: 'Pot',
        kind: 'pot',
        code_partner_id: String(council),
        partner_code: 'ECC 9001/POOL',
      },
      { code: 'REINVEST', name: 'Savings reinvestment', kind: 'reinvestment' },
    ] as Record<string, string>[]) {
      const res = await form('/ledger/accounts/new', finance, fields);
      assert.equal(res.statusCode, 303, res.body);
    }
    const codes = await t.db.kysely
      .selectFrom('ledger_partner_codes as c')
      .innerJoin('ledger_accounts as a', (j) =>
        j.onRef('a.place_id', '=', 'c.place_id').onRef('a.id', '=', 'c.account_id'),
      )
      .select(['a.code', 'c.partner_id', 'c.partner_code'])
      .orderBy('a.code')
      .execute();
    assert.deepEqual(codes, [
      { code: 'C-POLICE', partner_id: police, partner_code: 'PCC-4410' },
      { code: 'POT', partner_id: council, partner_code: 'ECC 9001/POOL' },
    ]);
    const mapped = await t.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'ledger.account.map')
      .execute();
    assert.equal(mapped.length, 2);
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: '/places/essex/ledger/accounts/new',
          headers: observer.read,
        })
      ).statusCode,
      403,
    );
  });

  it('starts a shadow budget and switches it to pooled from a date, keeping the history', async () => {
    assert.equal(
      (
        await form('/ledger/budgets/new', finance, {
          financial_year: '2026',
          mode: 'shadow',
          effective_from: '2026-04-01',
        })
      ).statusCode,
      303,
    );
    const noHost = await form('/ledger/budgets/new', finance, {
      financial_year: '2026',
      mode: 'pooled',
      effective_from: '2026-10-01',
    });
    assert.equal(noHost.statusCode, 400);
    assert.match(noHost.body, /href="#host_partner_id">Select the host partner that holds the pooled money/);
    const outside = await form('/ledger/budgets/new', finance, {
      financial_year: '2026',
      mode: 'pooled',
      effective_from: '2027-04-01',
      host_partner_id: String(council),
    });
    assert.equal(outside.statusCode, 400);
    assert.match(outside.body, /Enter a date in 2026\/27/);
    const pooled = await form('/ledger/budgets/new', finance, {
      financial_year: '2026',
      mode: 'pooled',
      effective_from: '2026-10-01',
      host_partner_id: String(council),
      decision_id: String(agreed),
    });
    assert.equal(pooled.statusCode, 303, pooled.body);
    const [budget] = await api('/ledger/budgets');
    assert.equal(budget.host_partner, 'Essex County Council');
    assert.deepEqual(
      budget.history.map((h: { mode: string; effective_from: string; decision_id: number | null }) => [
        h.mode,
        h.effective_from,
        h.decision_id,
      ]),
      [
        ['shadow', '2026-04-01', null],
        ['pooled', '2026-10-01', agreed],
      ],
    );
  });

  it('records a contribution agreement with risk shares typed in per cent', async () => {
    const bad = await form('/ledger/agreements/new', finance, {
      financial_year: '2026',
      partner_id: String(police),
      funding_stream: 'Police – PCSO budget',
      contribution_account: 'C-POLICE',
      amount: 'lots',
      form: 'cash',
      overspend_share: '140',
      underspend_share: '12.5',
      decision_id: String(proposed),
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#amount">Enter the amount per year in pounds and pence/);
    assert.match(bad.body, /href="#overspend_share">Enter the overspend share as a percentage from 0 to 100/);
    assert.doesNotMatch(bad.body, /basis points|in pence/);
    const notAgreed = await form('/ledger/agreements/new', finance, {
      financial_year: '2026',
      partner_id: String(police),
      funding_stream: 'Police – PCSO budget',
      contribution_account: 'C-POLICE',
      amount: '120,000.00',
      form: 'cash',
      overspend_share: '40',
      underspend_share: '12.5',
      decision_id: String(proposed),
    });
    assert.equal(notAgreed.statusCode, 400);
    assert.match(notAgreed.body, /href="#decision_id">The decision has not been agreed by the board yet/);
    const res = await form('/ledger/agreements/new', finance, {
      financial_year: '2026',
      partner_id: String(police),
      funding_stream: 'Police – PCSO budget',
      contribution_account: 'C-POLICE',
      amount: '120,000.00',
      form: 'cash',
      ring_fence: 'Neighbourhood policing',
      overspend_share: '40',
      underspend_share: '12.5',
      exit_terms: 'Six months’ notice',
      decision_id: String(agreed),
    });
    assert.equal(res.statusCode, 303, res.body);
    const [agreement] = await api('/ledger/agreements?year=2026');
    assert.deepEqual(
      [
        agreement.amount_pence,
        agreement.overspend_share_bp,
        agreement.underspend_share_bp,
        agreement.decision_id,
        agreement.ring_fence,
      ],
      [12_000_000, 4000, 1250, agreed, 'Neighbourhood policing'],
    );
    // 40% is agreed; another 60.01% would take overspend shares past 100%.
    const over = await form('/ledger/agreements/new', finance, {
      financial_year: '2026',
      partner_id: String(council),
      funding_stream: 'Council – Troubled Families',
      contribution_account: 'C-COUNCIL',
      amount: '80,000.00',
      form: 'cash',
      overspend_share: '60.01',
      underspend_share: '0',
      decision_id: String(agreed),
    });
    assert.equal(over.statusCode, 400);
    assert.match(
      over.body,
      /href="#overspend_share">Overspend shares would total more than 100%: 40% is already agreed/,
    );
  });

  it('reverses a transaction from its page, with the reason, once', async () => {
    const posted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/ledger/transactions',
      headers: finance.write,
      payload: {
        transactions: [
          {
            key: 'wrong-partner',
            date: '2026-04-10',
            memo: 'Police contribution, Q1',
            postings: [
              { account: 'POT', amount_pence: 3_000_000 },
              { account: 'C-COUNCIL', amount_pence: -3_000_000 },
            ],
          },
        ],
      },
    });
    assert.equal(posted.statusCode, 201, posted.body);
    const id = posted.json()[0].id;
    const shown = await t.app.inject({
      method: 'GET',
      url: `/places/essex/ledger/transactions/${id}`,
      headers: finance.read,
    });
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /£30,000\.00/);
    assert.match(shown.body, /Reverse this transaction/);
    const observed = await t.app.inject({
      method: 'GET',
      url: `/places/essex/ledger/transactions/${id}`,
      headers: observer.read,
    });
    assert.equal(observed.statusCode, 200);
    assert.doesNotMatch(observed.body, /Reverse this transaction/);
    assert.equal(
      (await form(`/ledger/transactions/${id}/reverse`, observer, { date: '2026-04-11', reason: 'x' }))
        .statusCode,
      403,
    );
    const noReason = await form(`/ledger/transactions/${id}/reverse`, finance, {
      key: 'rev-1',
      date: '2026-04-11',
      reason: '',
    });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.body, /href="#reason">Enter why the transaction is reversed/);
    const reversed = await form(`/ledger/transactions/${id}/reverse`, finance, {
      key: 'rev-1',
      date: '2026-04-11',
      reason: 'Posted to the council, not the police',
    });
    assert.equal(reversed.statusCode, 303, reversed.body);
    const balances = Object.fromEntries(
      (await api('/ledger/balances')).map((b: { account: string; balance_pence: number }) => [
        b.account,
        b.balance_pence,
      ]),
    );
    assert.equal(balances.POT, 0);
    assert.equal(balances['C-COUNCIL'], 0);
    const reversal = await t.app.inject({
      method: 'GET',
      url: reversed.headers.location as string,
      headers: finance.read,
    });
    assert.match(reversal.body, new RegExp(`Reversal of ${id}: Posted to the council, not the police`));
    const again = await form(`/ledger/transactions/${id}/reverse`, finance, {
      key: 'rev-2',
      date: '2026-04-12',
      reason: 'Again',
    });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, new RegExp(`Transaction ${id} was already reversed by transaction \\d+`));
  });

  it('re-opens a closed year only with an agreed board decision', async () => {
    const closed = await t.app.inject({
      method: 'POST',
      url: '/places/essex/ledger/periods/2025/close',
      headers: { ...finance.read, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${finance.csrfToken}`,
    });
    assert.equal(closed.statusCode, 303, closed.body);
    const none = await form('/ledger/periods/2025/reopen', finance, { decision_id: '' });
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /href="#decision_id">Select the board decision that re-opens the year/);
    const notAgreed = await form('/ledger/periods/2025/reopen', finance, { decision_id: String(proposed) });
    assert.equal(notAgreed.statusCode, 400);
    assert.match(notAgreed.body, /The decision has not been agreed by the board yet/);
    assert.equal(
      (await form('/ledger/periods/2025/reopen', finance, { decision_id: String(reopens) })).statusCode,
      303,
    );
    const period = (await api('/ledger/periods')).find(
      (p: { financial_year: number }) => p.financial_year === 2025,
    );
    assert.equal(period.closed, false);
    assert.deepEqual(
      period.events.map((e: { action: string; decision_id: number | null }) => [e.action, e.decision_id]),
      [
        ['close', null],
        ['reopen', reopens],
      ],
    );
    const open = await form('/ledger/periods/2025/reopen', finance, { decision_id: String(reopens) });
    assert.equal(open.statusCode, 400);
    assert.match(open.body, /2025\/26 is not closed/);
  });
});
