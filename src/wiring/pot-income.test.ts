import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inPlace } from '../core/db.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makePerson, makePlace } from '../../test/support.ts';
import { ledgerPotIncome } from './pot-income.ts';
import { createAccounts } from '../ledger/accounts.ts';
import { listBalances } from '../ledger/postings.ts';

describe(`payment-by-results income into the pot on ${engineName}`, () => {
  let db: TestDatabase;
  let essex: number;
  let finance: number;
  before(async () => {
    db = await openTestDatabase();
    essex = await makePlace(db, 'essex');
    finance = await makePerson(db, 'finance@essex.test', [[essex, 'finance']]);
  });
  after(() => db.drop());

  const claim = (claimId: number) => ({
    placeId: essex,
    claimId,
    familyReference: 'ES-0001',
    amount: 80_000,
    approvedBy: finance,
  });

  it('refuses to pay a claim in before the pot and income accounts exist, changing nothing', async () => {
    await assert.rejects(
      inPlace(db, essex, (tx) => ledgerPotIncome.postClaim(tx, claim(1))),
      /needs a pot account and an income account/,
    );
  });

  it('debits the pot and credits income, once per claim however often it is approved', async () => {
    await inPlace(db, essex, (tx) =>
      createAccounts(
        tx,
        essex,
        [
          { code: 'POT', name: 'Pooled budget', kind: 'pot', partner_id: null, service: null },
          {
            code: 'INCOME-PBR',
            name: 'Payment-by-results income',
            kind: 'income',
            partner_id: null,
            service: null,
          },
        ],
        { personId: null },
      ),
    );
    const first = await inPlace(db, essex, (tx) => ledgerPotIncome.postClaim(tx, claim(7)));
    const again = await inPlace(db, essex, (tx) => ledgerPotIncome.postClaim(tx, claim(7)));
    assert.match(first!, /^transaction:\d+$/);
    assert.equal(again, first);
    const balances = await inPlace(db, essex, (tx) => listBalances(tx, essex));
    // £800.00 claim: the pot up by 80,000p, income credited by the same.
    assert.deepEqual(
      balances.map((b) => [b.account, b.balance_pence]),
      [
        ['INCOME-PBR', -80_000],
        ['POT', 80_000],
      ],
    );
  });
});
