import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
  type TestApp,
} from '../../test/support.ts';
import { moneyForViewer, type MoneyFigures } from '../network/figures.ts';
import { postTransactions } from '../ledger/postings.ts';
import { addAgreement, setBudgetMode } from '../ledger/agreements.ts';
import { balancedTransaction } from '../ledger/domain.ts';
import { ERASED_FIELDS } from './record.ts';

/**
 * The families, dashboard and caching findings of the external security review of 2026-12
 * (H2, H3, M5, M6, L7), each shown failing on the code the review attacked and passing now.
 * See docs/security.md.
 */
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const SECRET = 'Jane Doe, DOB 02/03/1985, moved to a refuge';

describe(`security review 2026-12: families, dashboard and caching, on ${engineName}`, () => {
  let t: TestApp;
  let place: number;
  let council: number;
  let police: number;
  let outsiderPartner: number;
  let kw: SignedIn;
  let outsider: SignedIn;
  let admin: SignedIn;
  let observer: SignedIn;
  let analyst: SignedIn;
  let finance: SignedIn;
  let policeRep: SignedIn;
  let kept: number;
  let erased: number;
  const slug = 'review-families';
  const api = (method: 'GET' | 'POST', path: string, who: SignedIn, payload?: object) =>
    t.app.inject({
      method,
      url: `/api/v1/places/${slug}${path}`,
      headers: payload ? who.write : who.read,
      ...(payload ? { payload } : {}),
    });
  const ok = async (res: Promise<{ statusCode: number; body: string; json(): { id?: number } }>) => {
    const r = await res;
    assert.ok(r.statusCode < 300, r.body);
    return r.json();
  };

  before(async () => {
    t = await startTestApp();
    place = await makePlace(t.db, slug);
    council = await makePartner(t.db, place, 'Council');
    police = await makePartner(t.db, place, 'Police', 'police');
    outsiderPartner = await makePartner(t.db, place, 'Outside Agency');
    kw = await signInAs(t.db, await makePerson(t.db, 'kw@review.test', [[place, 'key_worker', council]]));
    outsider = await signInAs(
      t.db,
      await makePerson(t.db, 'outsider@review.test', [[place, 'partner_rep', outsiderPartner]]),
    );
    policeRep = await signInAs(
      t.db,
      await makePerson(t.db, 'police@review.test', [[place, 'partner_rep', police]]),
    );
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@review.test', [[place, 'admin']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@review.test', [[place, 'observer']]));
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@review.test', [[place, 'analyst']]));
    finance = await signInAs(t.db, await makePerson(t.db, 'finance@review.test', [[place, 'finance']]));
    await ok(
      api('POST', '/family-agreements', admin, {
        title: 'Troubled families',
        purposes: ['case_work'],
        data_categories: ['identity'],
        legal_basis: 'public_task',
        starts_on: '2012-01-01',
        party_ids: [council, police],
      }),
    );
    kept = (
      await ok(
        api('POST', '/families', kw, {
          reference: 'REV-1',
          household_name: 'The Kept family',
          taken_on: daysAgo(400),
        }),
      )
    ).id!;
    erased = (
      await ok(
        api('POST', '/families', kw, {
          reference: 'REV-2',
          household_name: 'The Doe family',
          address: '1 Any Street',
          postcode: 'M5 4WT',
          taken_on: daysAgo(400),
          members: [{ name: 'Jane Doe', date_of_birth: '02/03/1985', relationship: 'mother' }],
        }),
      )
    ).id!;
    const csv = [
      'family_reference,event_type,occurred_on,quantity,note',
      `REV-1,police_callout,${daysAgo(500)},2,`,
      `REV-2,police_callout,${daysAgo(450)},1,"${SECRET}"`,
      `REV-2,arrest,${daysAgo(100)},1,`,
    ].join('\n');
    await ok(api('POST', '/family-events/import', kw, { csv }));
  });
  after(() => t.close());

  it('H2: the events CSV import refuses a family the importer may not act on, with the same answer as a missing one', async () => {
    const eventsOf = async () =>
      Number(
        (
          await t.db.kysely
            .selectFrom('family_events')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('place_id', '=', place)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await eventsOf();
    const line = (ref: string) =>
      `family_reference,event_type,occurred_on,quantity,note\n${ref},police_callout,${daysAgo(5)},1,written by an outsider\n`;
    const existing = await api('POST', '/family-events/import', outsider, { csv: line('REV-1') });
    const missing = await api('POST', '/family-events/import', outsider, { csv: line('REV-9') });
    assert.equal(existing.statusCode, 400);
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(existing.json().fields, { 'line 2': 'No family with reference REV-1' });
    assert.deepEqual(missing.json().fields, { 'line 2': 'No family with reference REV-9' });
    // A single event by the same person is refused the same way: the bulk path follows the same rule.
    assert.equal(
      (
        await api('POST', `/families/${kept}/events`, outsider, {
          event_type: 'police_callout',
          occurred_on: daysAgo(5),
        })
      ).statusCode,
      404,
    );
    // The page form too.
    const boundary = 'review-boundary';
    const payload = [
      `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${outsider.csrfToken}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="events.csv"\r\nContent-Type: text/csv\r\n\r\n${line('REV-1')}\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const page = await t.app.inject({
      method: 'POST',
      url: `/places/${slug}/families/import`,
      headers: { ...outsider.read, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /No family with reference REV-1/);
    assert.equal(await eventsOf(), before);
    // Someone with access still imports, all lines or none.
    assert.equal(
      (await api('POST', '/family-events/import', policeRep, { csv: line('REV-1') })).statusCode,
      201,
    );
  });

  it('H3: erasure blanks every personal field, and no free text about a family reaches the audit log', async () => {
    await ok(
      api('POST', `/families/${erased}/professionals`, kw, {
        partner_id: council,
        name: 'Sam Social-Worker',
        role: 'Social worker',
      }),
    );
    await ok(
      api('POST', `/families/${erased}/consents`, kw, {
        purpose: 'case_work',
        state: 'given',
        given_by: 'Jane Doe (mother)',
      }),
    );
    const goal = (
      await ok(
        api('POST', `/families/${erased}/goals`, kw, {
          outcome: 'school_attendance',
          description: 'Get Tommy Doe (age 9) back to St Mary school',
        }),
      )
    ).id!;
    await ok(api('POST', `/families/${erased}/goals/${goal}/met`, kw, { met_on: daysAgo(10) }));
    await ok(
      api('POST', `/families/${erased}/goals/${goal}/claims`, kw, {
        amount: 80000,
        evidence: 'Tommy Doe attendance letter from St Mary school',
      }),
    );
    await ok(api('POST', `/families/${erased}/close`, kw, { closure_reason: SECRET }));
    await ok(api('POST', `/families/${erased}/erase`, admin, {}));

    // The audit log, as the admin (who may not read families) sees it and as stored: no free text.
    const audit = await api('GET', '/audit', admin);
    assert.equal(audit.statusCode, 200);
    const stored = JSON.stringify(
      await t.db.kysely.selectFrom('audit_log').select('detail').where('place_id', '=', place).execute(),
    );
    for (const text of ['Jane Doe', 'refuge', 'Tommy', 'St Mary', 'Sam Social-Worker']) {
      assert.doesNotMatch(audit.body, new RegExp(text), `audit API shows "${text}"`);
      assert.doesNotMatch(stored, new RegExp(text), `audit log holds "${text}"`);
    }
    const close = await t.db.kysely
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'family.close')
      .where('subject', '=', `family:${erased}`)
      .executeTakeFirstOrThrow();
    assert.deepEqual(close.detail, { status: 'closed', reason_length: SECRET.length });

    // Every personal field of every families table, for the erased family, is empty.
    const blank = (v: unknown) => v === null || v === '';
    for (const [table, columns] of Object.entries(ERASED_FIELDS)) {
      const idColumn = table === 'families' ? 'id' : 'family_id';
      const rows = await inPlace(t.db, place, (tx) =>
        tx
          .selectFrom(table as 'families')
          .select(columns as unknown as 'id'[])
          .where(idColumn as 'id', '=', erased)
          .execute(),
      );
      assert.ok(rows.length > 0, `${table} has rows for the family`);
      for (const row of rows)
        for (const c of columns)
          assert.ok(
            blank((row as Record<string, unknown>)[c]),
            `${table}.${c} kept ${JSON.stringify((row as Record<string, unknown>)[c])}`,
          );
    }
    const everything =
      JSON.stringify(
        await t.db.kysely.selectFrom('families').selectAll().where('id', '=', erased).execute(),
      ) +
      JSON.stringify(
        await t.db.kysely.selectFrom('family_goals').selectAll().where('family_id', '=', erased).execute(),
      );
    assert.doesNotMatch(everything, /Doe|refuge|Tommy/);
  });

  it('M6: cohort per-family rows go only to professionals with access, never for erased families, and are audited', async () => {
    const reads = async () =>
      (
        await t.db.kysely
          .selectFrom('audit_log')
          .select('detail')
          .where('action', '=', 'family.cohort.read')
          .where('place_id', '=', place)
          .execute()
      ).map((r) => r.detail);
    const totals = (await api('GET', '/family-cohort', kw)).json();
    assert.deepEqual(
      totals.perFamily.map((f: { reference: string }) => f.reference),
      ['REV-1'],
      'the erased REV-2 is left out',
    );
    assert.deepEqual(await reads(), [
      {
        purpose: 'case_work',
        families: [kept],
        fields: ['reference', 'taken_on', 'before', 'after', 'professionals', 'agencies'],
      },
    ]);
    for (const who of [observer, analyst, admin, finance, outsider]) {
      const res = await api('GET', '/family-cohort', who);
      assert.equal(res.statusCode, 200);
      const c = res.json();
      assert.deepEqual(c.perFamily, []);
      assert.deepEqual(
        [c.families, c.before, c.after],
        [totals.families, totals.before, totals.after],
        'the aggregates are the same for everyone',
      );
      const page = await t.app.inject({
        method: 'GET',
        url: `/places/${slug}/families/cohort`,
        headers: who.read,
      });
      assert.equal(page.statusCode, 200);
      assert.doesNotMatch(page.body, /REV-[12]/);
    }
    assert.equal((await reads()).length, 1, 'aggregate-only reads hold no personal data and write no entry');
    assert.match(
      (await t.app.inject({ method: 'GET', url: `/places/${slug}/families/cohort`, headers: kw.read })).body,
      /REV-1/,
    );
  });

  it('M5: the dashboard shows a partner’s pot, committed and spent only to those who may read its statement', async () => {
    const system = { personId: null };
    await makeLedger(t.db, place, [
      { code: 'POT', name: 'Pot', kind: 'pot' },
      contributionAccount('C-COUNCIL', 'Council contribution', council),
      contributionAccount('C-POLICE', 'Police contribution', police),
    ]);
    await inPlace(t.db, place, async (tx) => {
      const decision = await tx
        .insertInto('decisions')
        .values({
          place_id: place,
          title: 'Pool the budget',
          sign_off_rule: 'all',
          proposed_by: (
            await tx
              .selectFrom('people')
              .select('id')
              .where('email', '=', 'admin@review.test')
              .executeTakeFirstOrThrow()
          ).id,
          agreed_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await setBudgetMode(
        tx,
        place,
        {
          financial_year: 2012,
          mode: 'pooled',
          effective_from: '2012-04-01',
          decision_id: decision.id,
          host_partner_id: council,
        },
        system,
      );
      const terms = {
        financial_year: 2012,
        funding_stream: 'Troubled families',
        form: 'cash' as const,
        ring_fence: null,
        host_partner_id: council,
        exit_terms: '',
        decision_id: decision.id,
        overspend_share_bp: 5000,
        underspend_share_bp: 5000,
      };
      await addAgreement(
        tx,
        place,
        { ...terms, partner_id: council, amount_pence: 600_000_00, contribution_account: 'C-COUNCIL' },
        system,
      );
      await addAgreement(
        tx,
        place,
        { ...terms, partner_id: police, amount_pence: 400_000_00, contribution_account: 'C-POLICE' },
        system,
      );
      await postTransactions(
        tx,
        place,
        [
          balancedTransaction({
            key: 'in',
            date: '2012-04-02',
            memo: '',
            postings: [
              { account: 'POT', amount_pence: 1_000_000_00 },
              { account: 'C-COUNCIL', amount_pence: -600_000_00 },
              { account: 'C-POLICE', amount_pence: -400_000_00 },
            ],
          }),
        ],
        { kind: 'contribution', actor: system },
      );
    });
    const partnersSeen = async (who: SignedIn) => {
      const res = await api('GET', '/dashboard', who);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().money.available, true);
      return res
        .json()
        .money.value.byPartner.map((p: { partnerId: number }) => p.partnerId)
        .sort((a: number, b: number) => a - b);
    };
    assert.deepEqual(
      await partnersSeen(finance),
      [council, police].sort((a, b) => a - b),
    );
    assert.deepEqual(
      await partnersSeen(observer),
      [council, police].sort((a, b) => a - b),
    );
    assert.equal((await api('GET', `/ledger/partners/${council}/statement`, policeRep)).statusCode, 403);
    assert.deepEqual(await partnersSeen(policeRep), [police]);
    assert.equal((await api('GET', `/ledger/partners/${council}/statement`, kw)).statusCode, 403);
    assert.deepEqual(await partnersSeen(kw), []);
    const page = await t.app.inject({
      method: 'GET',
      url: `/places/${slug}/dashboard`,
      headers: policeRep.read,
    });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, />Council</);
    // The rule itself, on figures of two partners.
    const money = {
      available: true as const,
      value: {
        pot: 3,
        committed: 0,
        spent: 0,
        byPartner: [1, 2].map((partnerId) => ({
          partnerId,
          name: `P${partnerId}`,
          pot: 1,
          committed: 0,
          spent: 0,
        })),
      } satisfies MoneyFigures,
      source: { label: '', href: '' },
    };
    const seen = (roles: ('partner_rep' | 'key_worker' | 'analyst')[], partnerIds: number[]) => {
      const f = moneyForViewer(money, { roles, partnerIds });
      return f.available ? f.value.byPartner.map((p) => p.partnerId) : null;
    };
    assert.deepEqual(
      [seen(['partner_rep'], [2]), seen(['key_worker'], [1]), seen(['analyst'], [])],
      [[2], [], [1, 2]],
    );
  });

  it('L7: family pages and API, the subject access export and every CSV download are sent with Cache-Control: no-store', async () => {
    const urls: [string, SignedIn][] = [
      [`/places/${slug}/families/${kept}`, kw],
      [`/api/v1/places/${slug}/families/${kept}`, kw],
      [`/api/v1/places/${slug}/families/${kept}/export`, kw],
      [`/places/${slug}/families/${kept}/export`, kw],
      [`/api/v1/places/${slug}/families`, kw],
      [`/places/${slug}/families/cohort`, observer],
      [`/api/v1/network/rollup/rollup.csv`, observer],
    ];
    for (const [url, who] of urls) {
      const res = await t.app.inject({ method: 'GET', url, headers: who.read });
      assert.ok(res.statusCode < 400, `${url}: ${res.statusCode}`);
      assert.equal(res.headers['cache-control'], 'no-store', url);
    }
  });
});
