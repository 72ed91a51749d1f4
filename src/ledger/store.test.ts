import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { inPlace } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import {
  contributionAccount,
  makeLedger,
  makePartner,
  makePerson,
  makePlace,
  type TestAccount,
} from '../../test/support.ts';
import { balancedTransaction, type Posting } from './domain.ts';
import { listBalances, postTransactions, reverseTransaction } from './postings.ts';
import { listCommitments, raiseCommitment, releaseCommitment, spendCommitment } from './commitments.ts';
import { addAgreement, setBudgetMode } from './agreements.ts';
import { closePeriod, reopenPeriod } from './periods.ts';

const system = { personId: null };
const leg = (account: string, amount_pence: number): Posting => ({ account, amount_pence });
const txn = (key: string, date: string, postings: Posting[], memo = '') =>
  balancedTransaction({ key, date, memo, postings });

const CHART: TestAccount[] = [
  { code: 'POT', name: 'Pot', kind: 'pot', service: null },
  { code: 'ALLOC-FAM', name: 'Families allocation', kind: 'allocation', service: 'Families' },
  { code: 'ALLOC-JOBS', name: 'Jobs allocation', kind: 'allocation', service: 'Jobs' },
  { code: 'COMMIT-FAM', name: 'Families commitments', kind: 'commitment', service: 'Families' },
  { code: 'SPEND-FAM', name: 'Families spend', kind: 'spend', service: 'Families' },
  { code: 'SPEND-JOBS', name: 'Jobs spend', kind: 'spend', service: 'Jobs' },
  { code: 'INCOME', name: 'Payment by results', kind: 'income', service: null },
  { code: 'REINVEST', name: 'Savings reinvestment', kind: 'reinvestment', service: null },
];

let placeCount = 0;
/** A fresh place with two partners and the chart above, so each property run starts clean. */
async function ledgerPlace(db: TestDatabase) {
  const placeId = await makePlace(db, `ledger-${++placeCount}`);
  const police = await makePartner(db, placeId, 'Police', 'police');
  const council = await makePartner(db, placeId, 'Council', 'council');
  await makeLedger(db, placeId, [
    ...CHART,
    contributionAccount('C-POLICE', 'Police contribution', police),
    contributionAccount('C-COUNCIL', 'Council contribution', council),
  ]);
  return { placeId, police, council };
}

async function snapshot(db: TestDatabase, placeId: number) {
  return inPlace(db, placeId, async (tx) => ({
    balances: await listBalances(tx, placeId),
    transactions: (
      await tx
        .selectFrom('ledger_transactions')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('place_id', '=', placeId)
        .executeTakeFirstOrThrow()
    ).n,
    commitments: await listCommitments(tx, placeId),
  }));
}

/** The invariants the issue names, read straight from the tables. */
async function assertLedgerHolds(db: TestDatabase, placeId: number) {
  await inPlace(db, placeId, async (tx) => {
    const unbalanced = await sql<{
      id: number;
    }>`select transaction_id as id from ledger_postings where place_id = ${placeId} group by transaction_id having sum(amount_pence) <> 0`.execute(
      tx,
    );
    assert.deepEqual(unbalanced.rows, [], 'every transaction balances');
    const maintained = await listBalances(tx, placeId);
    assert.equal(
      maintained.reduce((s, b) => s + b.balance_pence, 0),
      0,
      'the trial balance is zero',
    );
    const summed = await listBalances(tx, placeId, '9999-12-31');
    assert.deepEqual(maintained, summed, 'maintained balances equal the sum of postings');
  });
}

describe(`ledger store on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.drop());

  it('posts a balanced batch once, answers a repeated key with the first result and refuses a reused key with other content', async () => {
    const { placeId } = await ledgerPlace(db);
    const batch = [
      txn('c1', '2012-04-02', [leg('POT', 50_000_00), leg('C-POLICE', -50_000_00)]),
      txn('a1', '2012-04-03', [leg('ALLOC-FAM', 30_000_00), leg('POT', -30_000_00)]),
    ];
    const first = await inPlace(db, placeId, (tx) => postTransactions(tx, placeId, batch, { actor: system }));
    const again = await inPlace(db, placeId, (tx) => postTransactions(tx, placeId, batch, { actor: system }));
    assert.deepEqual(
      again.map((r) => [r.id, r.status]),
      first.map((r) => [r.id, 'already_posted']),
    );
    // £50,000 in from the police, £30,000 of it allocated to families: £20,000 left in the pot.
    const balances = await inPlace(db, placeId, (tx) => listBalances(tx, placeId));
    assert.deepEqual(
      balances.filter((b) => b.balance_pence !== 0),
      [
        { account: 'ALLOC-FAM', balance_pence: 30_000_00 },
        { account: 'C-POLICE', balance_pence: -50_000_00 },
        { account: 'POT', balance_pence: 20_000_00 },
      ],
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        postTransactions(tx, placeId, [txn('c1', '2012-04-02', [leg('POT', 1), leg('C-POLICE', -1)])], {
          actor: system,
        }),
      ),
      /\[0\] key c1 was already used for a different transaction/,
    );
  });

  it('rejects a whole batch with the index and reason when one transaction names an unknown account', async () => {
    const { placeId } = await ledgerPlace(db);
    const before = await snapshot(db, placeId);
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        postTransactions(
          tx,
          placeId,
          [
            txn('ok', '2012-05-01', [leg('POT', 100), leg('C-POLICE', -100)]),
            txn('bad', '2012-05-01', [leg('POT', 100), leg('NOPE', -100)]),
          ],
          { actor: system },
        ),
      ),
      (err: AppError) => err.fields?.['[1]'] === 'unknown account NOPE',
    );
    assert.deepEqual(await snapshot(db, placeId), before);
  });

  it('makes the database itself refuse unbalanced postings, edits and deletions', async () => {
    const { placeId } = await ledgerPlace(db);
    await inPlace(db, placeId, (tx) =>
      postTransactions(tx, placeId, [txn('c1', '2012-04-02', [leg('POT', 500), leg('C-POLICE', -500)])], {
        actor: system,
      }),
    );
    const before = await snapshot(db, placeId);
    await assert.rejects(
      inPlace(db, placeId, async (tx) => {
        const t = await tx
          .insertInto('ledger_transactions')
          .values({
            place_id: placeId,
            idempotency_key: 'raw',
            fingerprint: 'x',
            kind: 'general',
            effective_date: '2012-04-03',
            decision_id: null,
            reverses_id: null,
            commitment_id: null,
            recorded_by: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const accounts = await tx
          .selectFrom('ledger_accounts')
          .select('id')
          .where('place_id', '=', placeId)
          .limit(2)
          .execute();
        await tx
          .insertInto('ledger_postings')
          .values(
            accounts.map((a, i) => ({
              place_id: placeId,
              transaction_id: t.id,
              leg: i + 1,
              account_id: a.id,
              amount_pence: i ? -99 : 100,
              effective_date: '2012-04-03',
            })),
          )
          .execute();
      }),
      /does not balance \(postings sum to 1 pence\)/,
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        tx.updateTable('ledger_postings').set({ amount_pence: 1 }).where('place_id', '=', placeId).execute(),
      ),
      /permission denied/,
    );
    await assert.rejects(
      db.kysely.updateTable('ledger_postings').set({ amount_pence: 1 }).execute(),
      /ledger_postings is immutable/,
    );
    await assert.rejects(db.kysely.deleteFrom('ledger_transactions').execute(), /immutable/);
    assert.deepEqual(await snapshot(db, placeId), before);
    await assertLedgerHolds(db, placeId);
  });

  it('runs commitments in two phases: raised, spent in part, released, never above what is available', async () => {
    const { placeId } = await ledgerPlace(db);
    await inPlace(db, placeId, (tx) =>
      postTransactions(
        tx,
        placeId,
        [
          txn('c', '2012-04-02', [leg('POT', 1_000_00), leg('C-COUNCIL', -1_000_00)]),
          txn('a', '2012-04-02', [leg('ALLOC-FAM', 600_00), leg('POT', -600_00)]),
        ],
        { actor: system },
      ),
    );
    const raise = (key: string, amount: number) =>
      inPlace(db, placeId, (tx) =>
        raiseCommitment(
          tx,
          placeId,
          {
            key,
            date: '2012-05-01',
            source: 'ALLOC-FAM',
            commitment_account: 'COMMIT-FAM',
            amount_pence: amount,
            description: 'Key worker contract',
          },
          system,
        ),
      );
    const c = await raise('r1', 400_00);
    assert.equal((await raise('r1', 400_00)).id, c.id, 'same key, same commitment');
    // £600 allocated, £400 committed: £200.01 more is too much.
    await assert.rejects(raise('r2', 200_01), /more than the 20000 pence available in ALLOC-FAM/);
    await inPlace(db, placeId, (tx) =>
      spendCommitment(
        tx,
        placeId,
        c.id,
        {
          key: 's1',
          date: '2012-06-01',
          spend_account: 'SPEND-FAM',
          amount_pence: 150_00,
          memo: 'First invoice',
        },
        system,
      ),
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        spendCommitment(
          tx,
          placeId,
          c.id,
          { key: 's2', date: '2012-06-01', spend_account: 'SPEND-FAM', amount_pence: 250_01, memo: '' },
          system,
        ),
      ),
      /Only 25000 pence of this commitment is outstanding/,
    );
    const released = await inPlace(db, placeId, (tx) =>
      releaseCommitment(tx, placeId, c.id, { key: 'x1', date: '2012-07-01' }, system),
    );
    assert.deepEqual(
      [released.spent_pence, released.released_pence, released.outstanding_pence],
      [150_00, 250_00, 0],
    );
    // £600 − £150 spent = £450 back in the allocation; nothing committed.
    const b = new Map(
      (await inPlace(db, placeId, (tx) => listBalances(tx, placeId))).map((r) => [
        r.account,
        r.balance_pence,
      ]),
    );
    assert.deepEqual([b.get('ALLOC-FAM'), b.get('COMMIT-FAM'), b.get('SPEND-FAM')], [450_00, 0, 150_00]);
    await assertLedgerHolds(db, placeId);
  });

  it('corrects by reversal, once, and keeps the original', async () => {
    const { placeId } = await ledgerPlace(db);
    const [t] = await inPlace(db, placeId, (tx) =>
      postTransactions(
        tx,
        placeId,
        [txn('c', '2012-04-02', [leg('POT', 123), leg('C-POLICE', -123)], 'typo')],
        { kind: 'contribution', actor: system },
      ),
    );
    const r = await inPlace(db, placeId, (tx) =>
      reverseTransaction(tx, placeId, t!.id, { key: 'rev', date: '2012-04-03' }, system),
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        reverseTransaction(tx, placeId, t!.id, { key: 'rev2', date: '2012-04-03' }, system),
      ),
      /already reversed by transaction/,
    );
    const again = await inPlace(db, placeId, (tx) =>
      reverseTransaction(tx, placeId, t!.id, { key: 'rev', date: '2012-04-03' }, system),
    );
    assert.equal(again.id, r.id);
    const balances = await inPlace(db, placeId, (tx) => listBalances(tx, placeId));
    assert.ok(balances.every((b) => b.balance_pence === 0));
    assert.deepEqual(
      (await inPlace(db, placeId, (tx) => listBalances(tx, placeId, '2012-04-02'))).find(
        (b) => b.account === 'POT',
      ),
      { account: 'POT', balance_pence: 123 },
    );
  });

  it('closes a year, splitting the underspend by the agreements’ risk shares, and refuses postings until a board decision re-opens it', async () => {
    const { placeId, police, council } = await ledgerPlace(db);
    const admin = await makePerson(db, `admin-${placeId}@test`, [[placeId, 'admin']]);
    const decision = await db.kysely
      .insertInto('decisions')
      .values({
        place_id: placeId,
        title: 'Pool the budget',
        sign_off_rule: 'all',
        proposed_by: admin,
        agreed_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const pending = await db.kysely
      .insertInto('decisions')
      .values({
        place_id: placeId,
        title: 'Not yet agreed',
        kind: 'period_reopen',
        financial_year: 2012,
        sign_off_rule: 'all',
        proposed_by: admin,
        agreed_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const reopen = await db.kysely
      .insertInto('decisions')
      .values({
        place_id: placeId,
        title: 'Re-open 2012/13',
        kind: 'period_reopen',
        financial_year: 2012,
        sign_off_rule: 'all',
        proposed_by: admin,
        agreed_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await inPlace(db, placeId, async (tx) => {
      await setBudgetMode(
        tx,
        placeId,
        {
          financial_year: 2012,
          mode: 'pooled',
          effective_from: '2012-04-01',
          decision_id: decision.id,
          host_partner_id: council,
        },
        system,
      );
      const agreement = {
        financial_year: 2012,
        funding_stream: 'Troubled families',
        form: 'cash' as const,
        ring_fence: null,
        host_partner_id: council,
        exit_terms: '',
        decision_id: decision.id,
      };
      await addAgreement(
        tx,
        placeId,
        {
          ...agreement,
          partner_id: police,
          amount_pence: 40_000_00,
          overspend_share_bp: 4000,
          underspend_share_bp: 4000,
          contribution_account: 'C-POLICE',
        },
        system,
      );
      await addAgreement(
        tx,
        placeId,
        {
          ...agreement,
          partner_id: council,
          amount_pence: 60_000_00,
          overspend_share_bp: 6000,
          underspend_share_bp: 3000,
          contribution_account: 'C-COUNCIL',
        },
        system,
      );
      await postTransactions(
        tx,
        placeId,
        [
          txn('in', '2012-04-02', [
            leg('POT', 100_000_00),
            leg('C-POLICE', -40_000_00),
            leg('C-COUNCIL', -60_000_00),
          ]),
          txn('al', '2012-04-03', [
            leg('ALLOC-FAM', 80_000_00),
            leg('ALLOC-JOBS', 20_000_00),
            leg('POT', -100_000_00),
          ]),
          txn('sf', '2013-01-10', [leg('SPEND-FAM', 70_000_00), leg('ALLOC-FAM', -70_000_00)]),
          txn('sj', '2013-02-10', [leg('SPEND-JOBS', 20_500_00), leg('ALLOC-JOBS', -20_500_00)]),
        ],
        { actor: system },
      );
    });
    const result = await inPlace(db, placeId, (tx) => closePeriod(tx, placeId, 2012, system));
    // Families £10,000 underspent: police 40% = £4,000, council 30% = £3,000 back; £3,000 kept.
    // Jobs £500 overspent: police 40% = £200, council 60% = £300 more.
    assert.deepEqual(
      result.risk_share.map((r) => [r.allocation, r.balance_pence]),
      [
        ['ALLOC-FAM', 10_000_00],
        ['ALLOC-JOBS', -500_00],
      ],
    );
    const b = new Map(
      (await inPlace(db, placeId, (tx) => listBalances(tx, placeId))).map((r) => [
        r.account,
        r.balance_pence,
      ]),
    );
    assert.deepEqual(
      ['ALLOC-FAM', 'ALLOC-JOBS', 'C-POLICE', 'C-COUNCIL', 'REINVEST'].map((a) => b.get(a)),
      [0, 0, -40_000_00 + 4_000_00 - 200_00, -60_000_00 + 3_000_00 - 300_00, 3_000_00],
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        postTransactions(tx, placeId, [txn('late', '2013-03-01', [leg('POT', 1), leg('C-POLICE', -1)])], {
          actor: system,
        }),
      ),
      /\[0\] financial year 2012\/13 is closed/,
    );
    // The database refuses too, whatever the application forgot.
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        tx
          .insertInto('ledger_transactions')
          .values({
            place_id: placeId,
            idempotency_key: 'raw',
            fingerprint: 'x',
            kind: 'general',
            effective_date: '2013-03-01',
            decision_id: null,
            reverses_id: null,
            commitment_id: null,
            recorded_by: null,
          })
          .execute(),
      ),
      /financial year 2012\/13 is closed/,
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) => reopenPeriod(tx, placeId, 2012, pending.id, system)),
      /not been agreed/,
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) => reopenPeriod(tx, placeId, 2012, decision.id, system)),
      /not made to re-open 2012\/13/,
    );
    await inPlace(db, placeId, (tx) => reopenPeriod(tx, placeId, 2012, reopen.id, system));
    await inPlace(db, placeId, (tx) =>
      postTransactions(tx, placeId, [txn('late', '2013-03-01', [leg('POT', 1), leg('C-POLICE', -1)])], {
        actor: system,
      }),
    );
    await assertLedgerHolds(db, placeId);
  });

  it('keeps every transaction balanced, the trial balance at zero and balances equal to postings under any sequence of operations; refused ones change nothing', async () => {
    const accounts = [
      'POT',
      'ALLOC-FAM',
      'ALLOC-JOBS',
      'SPEND-FAM',
      'SPEND-JOBS',
      'INCOME',
      'C-POLICE',
      'C-COUNCIL',
      'REINVEST',
    ];
    const amount = fc.integer({ min: 1, max: 1_000_000 });
    const op = fc.oneof(
      fc.record({
        op: fc.constant('post' as const),
        legs: fc.array(fc.tuple(fc.constantFrom(...accounts), amount, fc.boolean()), {
          minLength: 1,
          maxLength: 3,
        }),
        last: fc.constantFrom(...accounts),
      }),
      fc.record({ op: fc.constant('unknown' as const), amount }),
      fc.record({ op: fc.constant('raw_unbalanced' as const), amount }),
      fc.record({ op: fc.constant('raise' as const), amount, source: fc.constantFrom('POT', 'ALLOC-FAM') }),
      fc.record({ op: fc.constant('spend' as const), amount, pick: fc.nat() }),
      fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('reverse' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        const { placeId } = await ledgerPlace(db);
        const model = new Map<string, number>();
        const apply = (postings: Posting[]) =>
          postings.forEach((p) => model.set(p.account, (model.get(p.account) ?? 0) + p.amount_pence));
        const posted: { id: number; postings: Posting[] }[] = [];
        let n = 0;
        for (const o of ops) {
          const key = `k${++n}`;
          const before = await snapshot(db, placeId);
          try {
            await inPlace(db, placeId, async (tx) => {
              switch (o.op) {
                case 'post': {
                  const legs = o.legs.map(([a, x, neg]) => leg(a, neg ? -x : x));
                  const total = legs.reduce((s, l) => s + l.amount_pence, 0);
                  const postings = total === 0 ? legs : [...legs, leg(o.last, -total)];
                  if (postings.length < 2) throw new AppError('invalid', 'too few legs');
                  const [r] = await postTransactions(tx, placeId, [txn(key, '2012-06-01', postings)], {
                    actor: system,
                  });
                  posted.push({ id: r!.id, postings });
                  apply(postings);
                  return;
                }
                case 'unknown':
                  await postTransactions(
                    tx,
                    placeId,
                    [txn(key, '2012-06-01', [leg('POT', o.amount), leg('NOWHERE', -o.amount)])],
                    { actor: system },
                  );
                  return;
                case 'raw_unbalanced': {
                  const t = await tx
                    .insertInto('ledger_transactions')
                    .values({
                      place_id: placeId,
                      idempotency_key: key,
                      fingerprint: 'x',
                      kind: 'general',
                      effective_date: '2012-06-01',
                      decision_id: null,
                      reverses_id: null,
                      commitment_id: null,
                      recorded_by: null,
                    })
                    .returning('id')
                    .executeTakeFirstOrThrow();
                  const [a, b] = await tx
                    .selectFrom('ledger_accounts')
                    .select('id')
                    .where('place_id', '=', placeId)
                    .limit(2)
                    .execute();
                  await tx
                    .insertInto('ledger_postings')
                    .values([
                      {
                        place_id: placeId,
                        transaction_id: t.id,
                        leg: 1,
                        account_id: a!.id,
                        amount_pence: o.amount,
                        effective_date: '2012-06-01',
                      },
                      {
                        place_id: placeId,
                        transaction_id: t.id,
                        leg: 2,
                        account_id: b!.id,
                        amount_pence: -o.amount - 1,
                        effective_date: '2012-06-01',
                      },
                    ])
                    .execute();
                  return;
                }
                case 'raise': {
                  await raiseCommitment(
                    tx,
                    placeId,
                    {
                      key,
                      date: '2012-06-01',
                      source: o.source,
                      commitment_account: 'COMMIT-FAM',
                      amount_pence: o.amount,
                      description: 'c',
                    },
                    system,
                  );
                  apply([leg('COMMIT-FAM', o.amount), leg(o.source, -o.amount)]);
                  return;
                }
                case 'spend':
                case 'release': {
                  const open = (await listCommitments(tx, placeId)).filter((c) => c.outstanding_pence > 0);
                  const c = open[o.pick % Math.max(1, open.length)];
                  if (!c) throw new AppError('invalid', 'no commitment');
                  if (o.op === 'spend') {
                    await spendCommitment(
                      tx,
                      placeId,
                      c.id,
                      {
                        key,
                        date: '2012-06-01',
                        spend_account: 'SPEND-FAM',
                        amount_pence: o.amount,
                        memo: '',
                      },
                      system,
                    );
                    apply([leg('SPEND-FAM', o.amount), leg('COMMIT-FAM', -o.amount)]);
                  } else {
                    await releaseCommitment(tx, placeId, c.id, { key, date: '2012-06-01' }, system);
                    apply([leg(c.source, c.outstanding_pence), leg('COMMIT-FAM', -c.outstanding_pence)]);
                  }
                  return;
                }
                case 'reverse': {
                  const t = posted[o.pick % Math.max(1, posted.length)];
                  if (!t) throw new AppError('invalid', 'nothing to reverse');
                  await reverseTransaction(tx, placeId, t.id, { key, date: '2012-06-02' }, system);
                  apply(t.postings.map((p) => leg(p.account, -p.amount_pence)));
                  return;
                }
              }
            });
          } catch (err) {
            if (!(err instanceof AppError) && !/does not balance/.test(String(err))) throw err;
            assert.deepEqual(await snapshot(db, placeId), before, `refused ${o.op} changed nothing`);
          }
        }
        await assertLedgerHolds(db, placeId);
        const balances = await inPlace(db, placeId, (tx) => listBalances(tx, placeId));
        for (const b of balances)
          assert.equal(b.balance_pence, model.get(b.account) ?? 0, `balance of ${b.account}`);
        const pot = balances.find((b) => b.account === 'POT')!;
        assert.ok(
          pot.balance_pence >= 0 || ops.some((o) => o.op === 'post' || o.op === 'reverse'),
          'only free-form postings can overdraw the pot',
        );
      }),
      { numRuns: 30 },
    );
  });
});
