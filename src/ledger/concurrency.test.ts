import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inPlace } from '../core/db.ts';
import { Conflict } from '../core/errors.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { contributionAccount, makeLedger, makePartner, makePlace } from '../../test/support.ts';
import { balancedTransaction } from './domain.ts';
import { listBalances } from './postings.ts';
import { listCommitments, raiseCommitment } from './commitments.ts';

const system = { personId: null };

/**
 * Twenty clients at once, each with its own database transaction (on PostgreSQL up to ten run
 * truly in parallel on the pool's connections; PGlite serialises them).
 */
describe(`concurrent commitments on ${engineName}`, () => {
  let db: TestDatabase;
  let placeId: number;
  before(async () => {
    db = await openTestDatabase();
    placeId = await makePlace(db, 'haverhill', 'neighbourhood');
    const council = await makePartner(db, placeId, 'St Edmundsbury Borough Council');
    await makeLedger(
      db,
      placeId,
      [
        { code: 'POT', name: 'Pot', kind: 'pot' },
        { code: 'COMMIT', name: 'Commitments', kind: 'commitment', service: 'Youth' },
        contributionAccount('C-COUNCIL', 'Council contribution', council),
      ],
      [
        balancedTransaction({
          key: 'in',
          date: '2012-04-02',
          memo: '',
          postings: [
            { account: 'POT', amount_pence: 1_000_00 },
            { account: 'C-COUNCIL', amount_pence: -1_000_00 },
          ],
        }),
      ],
    );
  });
  after(() => db.drop());

  const raise = (key: string, amount: number) =>
    inPlace(db, placeId, (tx) =>
      raiseCommitment(
        tx,
        placeId,
        {
          key,
          date: '2012-05-01',
          source: 'POT',
          commitment_account: 'COMMIT',
          amount_pence: amount,
          description: `Grant ${key}`,
        },
        system,
      ),
    );

  it('never lets 20 concurrent clients overdraw the pot, and loses no accepted commitment', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => raise(`client-${i}`, 70_00)),
    );
    const accepted = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
    // £1,000 in the pot, £70 each: 14 fit (£980), the other 6 are refused.
    assert.equal(accepted.length, 14);
    assert.ok(
      refused.every((r) => r instanceof Conflict),
      String(refused.find((r) => !(r instanceof Conflict))),
    );
    const balances = new Map(
      (await inPlace(db, placeId, (tx) => listBalances(tx, placeId))).map((b) => [
        b.account,
        b.balance_pence,
      ]),
    );
    assert.deepEqual([balances.get('POT'), balances.get('COMMIT')], [20_00, 980_00]);
    const stored = await inPlace(db, placeId, (tx) => listCommitments(tx, placeId));
    assert.deepEqual(
      stored.map((c) => c.id).sort((a, b) => a - b),
      accepted.map((c) => c.id).sort((a, b) => a - b),
    );
    const keys = await db.kysely
      .selectFrom('ledger_transactions')
      .select('idempotency_key')
      .where('kind', '=', 'commitment')
      .execute();
    assert.equal(keys.length, 14);
  });

  it('raises one commitment when 20 clients send the same key at once', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => raise('same-key', 1_00)));
    assert.equal(new Set(outcomes.map((c) => c.id)).size, 1);
    const balances = new Map(
      (await inPlace(db, placeId, (tx) => listBalances(tx, placeId))).map((b) => [
        b.account,
        b.balance_pence,
      ]),
    );
    // £20 left after the first test, less the one £1 commitment.
    assert.equal(balances.get('POT'), 19_00);
  });
});
