import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Invalid } from '../core/errors.ts';
import {
  balancedBatch,
  balancedTransaction,
  CSV_HEADER,
  csvRows,
  hledgerAmount,
  modeOn,
  riskSharePostings,
  splitByShares,
  transactionProblems,
} from './domain.ts';

const leg = (account: string, amount_pence: number) => ({ account, amount_pence });

describe('ledger domain', () => {
  it('cannot construct a transaction that does not balance', () => {
    assert.throws(
      () =>
        balancedTransaction({
          key: 'k',
          date: '2012-04-01',
          memo: '',
          postings: [leg('POT', 100), leg('C-POLICE', -99)],
        }),
      /sum to 1 pence/,
    );
    const t = balancedTransaction({
      key: ' k ',
      date: '2012-04-01',
      memo: ' m ',
      postings: [leg('POT', 100), leg('C-POLICE', -100)],
    });
    assert.equal(t.key, 'k');
    assert.equal(t.memo, 'm');
  });

  it('refuses fractional pence, zero legs, a single leg, impossible dates and bad account codes', () => {
    assert.deepEqual(
      transactionProblems({
        key: 'k',
        date: '2013-02-30',
        postings: [leg('POT', 0.5), leg('bad code', -0.5)],
      }),
      [
        'date must be a real date written YYYY-MM-DD',
        'posting 0: amount_pence must be a whole number of pence, not zero, at most 1000000000000 either way',
        'posting 1: account must be an account code',
        'posting 1: amount_pence must be a whole number of pence, not zero, at most 1000000000000 either way',
      ],
    );
    assert.deepEqual(transactionProblems({ key: 'k', date: '2012-04-01', postings: [leg('POT', 1)] }), [
      'postings must be a list of 2 to 100 postings',
    ]);
  });

  it('names every bad transaction of a batch by its index', () => {
    const good = { key: 'a', date: '2012-04-01', memo: '', postings: [leg('POT', 5), leg('C', -5)] };
    try {
      balancedBatch([good, { ...good, key: 'b', postings: [leg('POT', 5), leg('C', -4)] }, { ...good }]);
      assert.fail('expected Invalid');
    } catch (err) {
      assert.ok(err instanceof Invalid);
      assert.deepEqual(err.fields, {
        '[1]': 'postings do not balance: they sum to 1 pence, not 0',
        '[2]': 'key a is also used by transaction [0]',
      });
      assert.match(err.message, /^2 transactions rejected, nothing posted: \[1\] postings do not balance/);
    }
  });

  it('any list of legs with a last leg that evens it out balances; any change to one leg does not', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: -1e9, max: 1e9 }).filter((n) => n !== 0),
          { minLength: 1, maxLength: 5 },
        ),
        fc.integer({ min: 1, max: 1e6 }),
        (amounts, nudge) => {
          const total = amounts.reduce((s, a) => s + a, 0);
          // The changed leg must stay a leg (not zero), or it is refused for that instead.
          fc.pre(total !== 0 && amounts[0]! + nudge !== 0);
          const postings = [...amounts.map((a, i) => leg(`A${i}`, a)), leg('LAST', -total)];
          assert.deepEqual(transactionProblems({ key: 'k', date: '2012-04-01', postings }), []);
          postings[0] = leg('A0', amounts[0]! + nudge);
          assert.match(
            transactionProblems({ key: 'k', date: '2012-04-01', postings }).join(),
            /do not balance/,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splits an amount by shares into whole pence that add up exactly', () => {
    // £100.01 at 50% / 25% / 25%: 5000.5 / 2500.25 / 2500.25 → 5001 (largest remainder) / 2500 / 2500.
    const { parts, kept } = splitByShares(10_001, [
      { id: 1, basisPoints: 5000 },
      { id: 2, basisPoints: 2500 },
      { id: 3, basisPoints: 2500 },
    ]);
    assert.deepEqual(
      [...parts],
      [
        [1, 5001],
        [2, 2500],
        [3, 2500],
      ],
    );
    assert.equal(kept, 0);
    fc.assert(
      fc.property(
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.array(fc.integer({ min: 0, max: 2500 }), { maxLength: 4 }),
        (amount, bps) => {
          const { parts, kept } = splitByShares(
            amount,
            bps.map((basisPoints, id) => ({ id, basisPoints })),
          );
          const sum = [...parts.values()].reduce((s, p) => s + p, 0) + kept;
          assert.equal(sum, amount);
          for (const p of parts.values()) assert.ok(Math.sign(p) === 0 || Math.sign(p) === Math.sign(amount));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns an underspend to partners by their shares and keeps the rest for reinvestment', () => {
    // £1,000 left in ALLOC-FAM; police 30%, council 50% of underspend → £300, £500, £200 kept.
    const postings = riskSharePostings(
      { account: 'ALLOC-FAM', balance: 100_000 },
      [
        { partnerId: 1, contributionAccount: 'C-POLICE', overspendBp: 5000, underspendBp: 3000 },
        { partnerId: 2, contributionAccount: 'C-COUNCIL', overspendBp: 5000, underspendBp: 5000 },
      ],
      'REINVEST',
    );
    assert.deepEqual(postings, [
      leg('ALLOC-FAM', -100_000),
      leg('C-POLICE', 30_000),
      leg('C-COUNCIL', 50_000),
      leg('REINVEST', 20_000),
    ]);
    // An overspend of £10: partners cover it 50/50 from their contribution accounts.
    const over = riskSharePostings(
      { account: 'ALLOC-FAM', balance: -1_000 },
      [
        { partnerId: 1, contributionAccount: 'C-POLICE', overspendBp: 5000, underspendBp: 0 },
        { partnerId: 2, contributionAccount: 'C-COUNCIL', overspendBp: 5000, underspendBp: 0 },
      ],
      'REINVEST',
    );
    assert.deepEqual(over, [leg('ALLOC-FAM', 1_000), leg('C-POLICE', -500), leg('C-COUNCIL', -500)]);
    assert.equal(riskSharePostings({ account: 'ALLOC-FAM', balance: 0 }, [], 'REINVEST'), null);
  });

  it('knows the mode a budget was in on any date, keeping the history', () => {
    const history = [
      { mode: 'shadow' as const, effective_from: '2012-04-01' },
      { mode: 'pooled' as const, effective_from: '2012-10-01' },
    ];
    assert.equal(modeOn(history, '2012-03-31'), null);
    assert.equal(modeOn(history, '2012-09-30'), 'shadow');
    assert.equal(modeOn(history, '2012-10-01'), 'pooled');
  });

  it('writes hledger amounts exactly', () => {
    assert.equal(hledgerAmount(123_456), '£1234.56');
    assert.equal(hledgerAmount(-5), '-£0.05');
  });

  it('exports a memo a spreadsheet would run as a formula as text, and amounts as numbers', () => {
    const csv = csvRows({
      id: 7,
      key: '@key',
      date: '2013-01-15',
      kind: 'general',
      memo: '=HYPERLINK("http://evil.example","refund")',
      postings: [
        { account: 'POT', amount_pence: -1250 },
        { account: 'SPEND-01', amount_pence: 1250 },
      ],
    });
    assert.equal(CSV_HEADER, 'transaction_id,date,key,kind,memo,account,amount_pence');
    assert.equal(
      csv,
      `7,2013-01-15,'@key,general,"'=HYPERLINK(""http://evil.example"",""refund"")",POT,-1250\n` +
        `7,2013-01-15,'@key,general,"'=HYPERLINK(""http://evil.example"",""refund"")",SPEND-01,1250\n`,
    );
  });
});
