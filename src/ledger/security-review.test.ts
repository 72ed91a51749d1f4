import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { AUDIT_CHAIN_LOCK } from '../audit/store.ts';
import { inPlace } from '../core/db.ts';
import { engineName } from '../../test/db.ts';
import {
  contributionAccount,
  makeLedger,
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestAccount,
  type TestApp,
} from '../../test/support.ts';
import { balancedTransaction, type Posting } from './domain.ts';
import { listBalances, postTransactions } from './postings.ts';
import { raiseCommitment } from './commitments.ts';
import { closePeriod } from './periods.ts';

/**
 * The ledger findings of the external security review of 2026-12 (H4, M3, M4, L5), each shown
 * failing on the code the review attacked and passing now. See docs/security.md.
 */
const system = { personId: null };
const leg = (account: string, amount_pence: number): Posting => ({ account, amount_pence });
const txn = (key: string, date: string, postings: Posting[]) =>
  balancedTransaction({ key, date, memo: '', postings });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CHART: TestAccount[] = [
  { code: 'POT', name: 'Pot', kind: 'pot', service: null },
  { code: 'ALLOC-FAM', name: 'Families allocation', kind: 'allocation', service: 'Families' },
  { code: 'COMMIT-FAM', name: 'Families commitments', kind: 'commitment', service: 'Families' },
  { code: 'SPEND-FAM', name: 'Families spend', kind: 'spend', service: 'Families' },
  { code: 'INCOME', name: 'Payment by results', kind: 'income', service: null },
  { code: 'REINVEST', name: 'Savings reinvestment', kind: 'reinvestment', service: null },
];

describe(`security review 2026-12: the ledger findings, on ${engineName}`, () => {
  let t: TestApp;
  let count = 0;

  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  /** A place with two partners, the chart above, £1,000 paid into the pot and its people. */
  async function ledgerPlace() {
    const slug = `review-ledger-${++count}`;
    const placeId = await makePlace(t.db, slug);
    const police = await makePartner(t.db, placeId, 'Police', 'police');
    const council = await makePartner(t.db, placeId, 'Council', 'council');
    await makeLedger(
      t.db,
      placeId,
      [
        ...CHART,
        contributionAccount('C-POLICE', 'Police contribution', police),
        contributionAccount('C-COUNCIL', 'Council contribution', council),
      ],
      [txn('in', '2012-04-02', [leg('POT', 1_000_00), leg('C-POLICE', -400_00), leg('C-COUNCIL', -600_00)])],
    );
    const person = async (role: 'admin' | 'finance' | 'partner_rep', partner?: number) =>
      signInAs(
        t.db,
        await makePerson(t.db, `${role}-${partner ?? 0}@${slug}.test`, [[placeId, role, partner]]),
      );
    return {
      slug,
      placeId,
      police,
      council,
      admin: await person('admin'),
      finance: await person('finance'),
      policeRep: await person('partner_rep', police),
      councilRep: await person('partner_rep', council),
    };
  }

  const api = (method: 'GET' | 'POST', slug: string, path: string, who: SignedIn, payload?: object) =>
    t.app.inject({
      method,
      url: `/api/v1/places/${slug}${path}`,
      headers: payload ? who.write : who.read,
      ...(payload ? { payload } : {}),
    });

  const decision = async (
    placeId: number,
    admin: number,
    values: { kind?: string; financial_year?: number | null },
  ) =>
    (
      await t.db.kysely
        .insertInto('decisions')
        .values({
          place_id: placeId,
          title: 'A board decision',
          sign_off_rule: 'all',
          proposed_by: admin,
          agreed_at: new Date(),
          ...values,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;

  it('H4: re-opens a closed year only on an agreed decision made to re-open that year, and only once', async () => {
    const p = await ledgerPlace();
    const adminId = (
      await t.db.kysely
        .selectFrom('people')
        .select('id')
        .where('email', '=', `admin-0@${p.slug}.test`)
        .executeTakeFirstOrThrow()
    ).id;
    const unrelated = await decision(p.placeId, adminId, {});
    const otherYear = await decision(p.placeId, adminId, { kind: 'period_reopen', financial_year: 2013 });
    const reopen2012 = await decision(p.placeId, adminId, { kind: 'period_reopen', financial_year: 2012 });
    assert.equal((await api('POST', p.slug, '/ledger/periods/2012/close', p.finance, {})).statusCode, 200);

    const withUnrelated = await api('POST', p.slug, '/ledger/periods/2012/reopen', p.finance, {
      decision_id: unrelated,
    });
    assert.equal(withUnrelated.statusCode, 400);
    assert.match(withUnrelated.json().message, /not made to re-open 2012\/13/);
    assert.equal(
      (await api('POST', p.slug, '/ledger/periods/2012/reopen', p.finance, { decision_id: otherYear }))
        .statusCode,
      400,
    );
    assert.equal(
      (await api('POST', p.slug, '/ledger/periods/2012/reopen', p.finance, { decision_id: reopen2012 }))
        .statusCode,
      200,
    );
    const backdated = {
      transactions: [
        {
          key: 'back-1',
          date: '2012-06-01',
          memo: 'late invoice',
          postings: [leg('SPEND-FAM', 5), leg('POT', -5)],
        },
      ],
    };
    assert.equal((await api('POST', p.slug, '/ledger/transactions', p.finance, backdated)).statusCode, 201);
    assert.equal((await api('POST', p.slug, '/ledger/periods/2012/close', p.finance, {})).statusCode, 200);
    const again = await api('POST', p.slug, '/ledger/periods/2012/reopen', p.finance, {
      decision_id: reopen2012,
    });
    assert.equal(again.statusCode, 400);
    assert.match(again.json().message, /already re-opened the year once/);
    const periods = (await api('GET', p.slug, '/ledger/periods', p.finance)).json();
    const year = periods.find((x: { financial_year: number }) => x.financial_year === 2012);
    assert.equal(year.closed, true);
    assert.deepEqual(
      year.events.map((e: { action: string; decision_id: number | null }) => [e.action, e.decision_id]),
      [
        ['close', null],
        ['reopen', reopen2012],
        ['close', null],
      ],
    );
  });

  it('H4: an admin cannot make a decision agreed by signing for partners; each representative signs for their own', async () => {
    const p = await ledgerPlace();
    const forAll = await api('POST', p.slug, '/decisions', p.admin, {
      title: 'Re-open 2012/13',
      sign_off_rule: 'all',
      kind: 'period_reopen',
      financial_year: 2012,
      signed_off_by: [p.police, p.council],
    });
    assert.equal(forAll.statusCode, 400);
    assert.deepEqual(forAll.json().fields, {
      signed_off_by: 'You can only sign off for the partner you represent',
    });
    const created = await api('POST', p.slug, '/decisions', p.admin, {
      title: 'Re-open 2012/13',
      sign_off_rule: 'all',
      kind: 'period_reopen',
      financial_year: 2012,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(
      [created.json().met, created.json().kind, created.json().financial_year],
      [false, 'period_reopen', 2012],
    );
    const id = created.json().id;
    assert.equal(
      (await api('POST', p.slug, `/decisions/${id}/sign-offs`, p.admin, { partner_id: p.police })).statusCode,
      403,
    );
    assert.equal(
      (await api('POST', p.slug, `/decisions/${id}/sign-offs`, p.policeRep, { partner_id: p.council }))
        .statusCode,
      403,
    );
    assert.equal(
      (await api('POST', p.slug, `/decisions/${id}/sign-offs`, p.policeRep, { partner_id: p.police })).json()
        .met,
      false,
    );
    const agreed = (
      await api('POST', p.slug, `/decisions/${id}/sign-offs`, p.councilRep, { partner_id: p.council })
    ).json();
    assert.deepEqual([agreed.given, agreed.met], [2, true]);
    const signedBy = await t.db.kysely
      .selectFrom('decision_sign_offs')
      .select('signed_by')
      .where('decision_id', '=', id)
      .execute();
    assert.equal(signedBy.length, 2);
  });

  it('M3: a general journal can neither overdraw the pot nor move a commitment account', async () => {
    const p = await ledgerPlace();
    await inPlace(t.db, p.placeId, (tx) =>
      raiseCommitment(
        tx,
        p.placeId,
        {
          key: 'c1',
          date: '2012-05-01',
          source: 'POT',
          commitment_account: 'COMMIT-FAM',
          amount_pence: 400_00,
          description: 'Grant',
        },
        system,
      ),
    );
    const balances = async () =>
      new Map(
        (await inPlace(t.db, p.placeId, (tx) => listBalances(tx, p.placeId))).map((b) => [
          b.account,
          b.balance_pence,
        ]),
      );
    const before = await balances();
    assert.deepEqual([before.get('POT'), before.get('COMMIT-FAM')], [600_00, 400_00]);

    const drain = await api('POST', p.slug, '/ledger/transactions', p.finance, {
      transactions: [
        {
          key: 'drain',
          date: '2012-06-01',
          memo: '',
          postings: [leg('SPEND-FAM', 700_00), leg('POT', -700_00)],
        },
      ],
    });
    assert.equal(drain.statusCode, 409);
    assert.match(drain.json().message, /overdraw POT by 10000 pence/);
    const emptied = await api('POST', p.slug, '/ledger/transactions', p.finance, {
      transactions: [
        {
          key: 'empty',
          date: '2012-06-01',
          memo: '',
          postings: [leg('COMMIT-FAM', -400_00), leg('REINVEST', 400_00)],
        },
      ],
    });
    assert.equal(emptied.statusCode, 400);
    assert.match(
      emptied.body,
      /COMMIT-FAM is a commitment account: raise, spend or release a commitment instead of a journal/,
    );
    assert.deepEqual(await balances(), before);
    // Within what the pot holds, a journal still posts.
    const fits = await api('POST', p.slug, '/ledger/transactions', p.finance, {
      transactions: [
        {
          key: 'fits',
          date: '2012-06-01',
          memo: '',
          postings: [leg('SPEND-FAM', 600_00), leg('POT', -600_00)],
        },
      ],
    });
    assert.equal(fits.statusCode, 201, fits.body);
  });

  it('M4: a posting and the close of its year serialise: nothing is posted into a year after its close', async () => {
    const p = await ledgerPlace();
    const close = () => inPlace(t.db, p.placeId, (tx) => closePeriod(tx, p.placeId, 2012, system));
    const post = () =>
      inPlace(t.db, p.placeId, (tx) =>
        postTransactions(
          tx,
          p.placeId,
          [txn('race', '2012-06-01', [leg('SPEND-FAM', 7_77), leg('POT', -7_77)])],
          { actor: system },
        ),
      );
    let outcomes: PromiseSettledResult<unknown>[];
    if (t.db.engine === 'postgres') {
      // As the review showed it: hold the audit chain's lock so both transactions queue at their
      // last step, the close first; before the fix the posting then committed after the close.
      // Each step waits until the transactions before it are blocked, so the order holds under any load.
      outcomes = await t.db.kysely.connection().execute(async (holder) => {
        const blocked = async (n: number) => {
          for (let i = 0; i < 400; i++) {
            const r = await sql<{
              n: number;
            }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(
              holder,
            );
            if (Number(r.rows[0]!.n) >= n) return;
            await sleep(25);
          }
          throw new Error(`expected ${n} blocked transactions`);
        };
        await sql`select pg_advisory_lock(${AUDIT_CHAIN_LOCK})`.execute(holder);
        const closing = close();
        await blocked(1);
        const posting = post();
        await blocked(2);
        await sql`select pg_advisory_unlock(${AUDIT_CHAIN_LOCK})`.execute(holder);
        return Promise.allSettled([closing, posting]);
      });
      assert.equal(outcomes[0]!.status, 'fulfilled');
      assert.equal(
        outcomes[1]!.status,
        'rejected',
        'the posting waited for the close and then found the year closed',
      );
      assert.match(
        String(
          (outcomes[1] as PromiseRejectedResult).reason.fields?.transactions ??
            (outcomes[1] as PromiseRejectedResult).reason,
        ),
        /2012\/13 is closed/,
      );
    } else {
      outcomes = await Promise.allSettled([close(), post()]);
      assert.equal(outcomes[0]!.status, 'fulfilled');
    }
    // Whatever the engine: if the posting was saved, the close came after it and counted it.
    const entries = await t.db.kysely
      .selectFrom('audit_log')
      .select(['id', 'action'])
      .where('place_id', '=', p.placeId)
      .where('action', 'in', ['ledger.period.close', 'ledger.post'])
      .orderBy('id')
      .execute();
    const closedAt = entries.find((e) => e.action === 'ledger.period.close')!.id;
    const race = await t.db.kysely
      .selectFrom('ledger_transactions')
      .select('id')
      .where('place_id', '=', p.placeId)
      .where('idempotency_key', '=', 'race')
      .executeTakeFirst();
    if (race)
      assert.ok(
        entries.filter((e) => e.action === 'ledger.post').every((e) => e.id < closedAt),
        'a posting saved after its year closed',
      );
  });

  it('L5: no balance can pass £1tn, so the ledger pages never meet a number past 2^53', async () => {
    const p = await ledgerPlace();
    // The review's batch: £10bn legs, 50 each way per transaction; 100 of them would reach 5 × 10^15 pence.
    const transactions = Array.from({ length: 100 }, (_, k) => ({
      key: `big-${k}`,
      date: '2012-06-02',
      memo: '',
      postings: [
        ...Array.from({ length: 50 }, () => leg('REINVEST', 1e12)),
        ...Array.from({ length: 50 }, () => leg('INCOME', -1e12)),
      ],
    }));
    const big = await api('POST', p.slug, '/ledger/transactions', p.finance, { transactions });
    assert.equal(big.statusCode, 400);
    assert.match(big.json().message, /past 100000000000000 pence/);
    const balances = await api('GET', p.slug, '/ledger/balances', p.finance);
    assert.equal(balances.statusCode, 200);
    assert.equal(balances.json().find((b: { account: string }) => b.account === 'REINVEST').balance_pence, 0);
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: `/places/${p.slug}/ledger?year=2012`,
          headers: p.finance.read,
        })
      ).statusCode,
      200,
    );
    // Up to the bound it posts.
    const fits = await api('POST', p.slug, '/ledger/transactions', p.finance, {
      transactions: transactions.slice(0, 2),
    });
    assert.equal(fits.statusCode, 201, fits.body);
  });
});
