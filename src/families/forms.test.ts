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
import { secretVariable } from './matching-key.ts';

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe(`families forms on ${engineName}`, () => {
  let t: TestApp;
  let kw: SignedIn;
  let officer: SignedIn;
  let admin: SignedIn;
  let finance: SignedIn;
  let analyst: SignedIn;
  let outsider: SignedIn;
  let council: number;
  let police: number;
  let familyId: number;
  let placeId: number;

  before(async () => {
    process.env[secretVariable('salford')] = 'a-test-matching-secret-of-at-least-32-characters';
    t = await startTestApp();
    const place = (placeId = await makePlace(t.db, 'salford'));
    council = await makePartner(t.db, place, 'Salford City Council');
    police = await makePartner(t.db, place, 'Greater Manchester Police', 'police');
    kw = await signInAs(t.db, await makePerson(t.db, 'kw@salford.test', [[place, 'key_worker', council]]));
    officer = await signInAs(
      t.db,
      await makePerson(t.db, 'officer@salford.test', [[place, 'partner_rep', police]]),
    );
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@salford.test', [[place, 'admin']]));
    finance = await signInAs(t.db, await makePerson(t.db, 'finance@salford.test', [[place, 'finance']]));
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@salford.test', [[place, 'analyst']]));
    const elsewhere = await makePlace(t.db, 'essex');
    const essexCouncil = await makePartner(t.db, elsewhere, 'Essex County Council');
    outsider = await signInAs(
      t.db,
      await makePerson(t.db, 'kw@essex.test', [[elsewhere, 'key_worker', essexCouncil]]),
    );
  });
  after(async () => {
    delete process.env[secretVariable('salford')];
    await t.close();
  });

  /** Forms are posted the way a browser posts them: URL-encoded, repeated names for checkboxes. */
  const { browserForm: form, page, fileForm } = requests(() => t.app, { pages: '/places/salford' });
  /** A file upload form: multipart, as a browser sends an <input type="file">. */
  const upload = (url: string, who: SignedIn, csv: string) =>
    fileForm(url, who, { name: 'list.csv', bytes: csv });
  const audited = async (action: string) =>
    Number(
      (
        await t.db.kysely
          .selectFrom('audit_log')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('action', '=', action)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('records a data-sharing agreement through the form, and refuses one with no partners', async () => {
    const empty = await form('/families/agreements/new', admin, {
      title: 'Protocol',
      purposes: ['case_work'],
      legal_basis: 'public_task',
      starts_on: '1/1/2012',
    });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#data_categories">Select the categories of data shared/);
    assert.match(empty.body, /href="#party_ids">Select the partners that are party to the agreement/);
    assert.match(empty.body, /value="Protocol"/);
    assert.equal((await page('/families/agreements/new', kw)).statusCode, 403);
    const res = await form('/families/agreements/new', admin, {
      title: 'Salford information sharing protocol',
      purposes: ['case_work', 'evaluation'],
      data_categories: ['identity', 'criminal_offence'],
      legal_basis: 'public_task',
      starts_on: '1/1/2012',
      party_ids: [String(council), String(police)],
    });
    assert.equal(res.statusCode, 303, res.body);
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/salford/family-agreements',
      headers: admin.read,
    });
    assert.deepEqual(
      list
        .json()
        .map((a: { title: string; purposes: string[]; party_ids: number[]; starts_on: string }) => [
          a.title,
          a.purposes,
          a.party_ids,
          a.starts_on,
        ]),
      [
        [
          'Salford information sharing protocol',
          ['case_work', 'evaluation'],
          [council, police].sort((a, b) => a - b),
          '2012-01-01',
        ],
      ],
    );
  });

  it('opens a family record, naming the member row that is wrong and keeping what was typed', async () => {
    const bad = await form('/families/new', kw, {
      reference: 'SAL-7',
      household_name: 'The Example family',
      postcode: 'M5 4WT',
      taken_on: daysAgo(100),
      status: 'active',
      member_1_name: 'Pat Example',
      member_1_date_of_birth: '7/3/1985',
      member_1_relationship: 'parent',
      member_3_name: 'Sam Example',
      member_3_date_of_birth: '31/02/2010',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#member_3_date_of_birth">Member 3: Enter a date of birth, like 1985-03-07/);
    assert.match(bad.body, /value="Pat Example"/);
    assert.match(bad.body, /value="31\/02\/2010"/);
    const res = await form('/families/new', kw, {
      reference: 'sal-7',
      household_name: 'The Example family',
      address: '1 Example Street, Salford',
      postcode: 'm54wt',
      taken_on: daysAgo(100),
      status: 'active',
      lead_professional_id: '',
      member_1_name: 'Pat Example',
      member_1_date_of_birth: '7/3/1985',
      member_1_relationship: 'parent',
      member_3_name: 'Sam Example',
      member_3_date_of_birth: '2010-02-28',
      member_3_relationship: 'child',
    });
    assert.equal(res.statusCode, 303, res.body);
    familyId = Number(/\/families\/(\d+)$/.exec(res.headers.location as string)?.[1]);
    assert.ok(familyId > 0, `redirected to the family page: ${res.headers.location}`);
    const record = await t.app.inject({
      method: 'GET',
      url: `/api/v1/places/salford/families/${familyId}`,
      headers: kw.read,
    });
    assert.equal(record.json().reference, 'SAL-7');
    assert.equal(record.json().postcode, 'M5 4WT');
    assert.equal(record.json().lead_professional, 'kw');
    assert.equal(record.json().lead_partner, 'Salford City Council');
    assert.deepEqual(
      record
        .json()
        .members.map((m: { name: string; date_of_birth: string; relationship: string }) => [
          m.name,
          m.date_of_birth,
          m.relationship,
        ]),
      [
        ['Pat Example', '1985-03-07', 'parent'],
        ['Sam Example', '2010-02-28', 'child'],
      ],
    );
    assert.equal((await page('/families/new', analyst)).statusCode, 403);
  });

  it('logs events through the form and the family page costs them', async () => {
    const shown = await page(`/families/${familyId}/events/new`, officer);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Police call-out[^<]*\(£500\.00 each\)|\(£500\.00 each\)/);
    const future = await form(`/families/${familyId}/events/new`, officer, {
      event_type: 'police_callout',
      occurred_on: '2099-01-01',
      quantity: '0',
    });
    assert.equal(future.statusCode, 400);
    assert.match(future.body, /href="#occurred_on">The date of the event cannot be in the future/);
    assert.match(future.body, /href="#quantity">Enter a whole number from 1 to 1000/);
    // Before the date taken on: 3 call-outs × £500 = £1,500.00; after it, 2 A&E attendances × £109 = £218.00.
    assert.equal(
      (
        await form(`/families/${familyId}/events/new`, officer, {
          event_type: 'police_callout',
          occurred_on: daysAgo(150),
          quantity: '3',
          note: 'Noise',
        })
      ).statusCode,
      303,
    );
    assert.equal(
      (
        await form(`/families/${familyId}/events/new`, kw, {
          event_type: 'ae_attendance',
          occurred_on: daysAgo(20),
          quantity: '2',
        })
      ).statusCode,
      303,
    );
    const family = await page(`/families/${familyId}`, kw);
    assert.match(family.body, /£1,500\.00/);
    assert.match(family.body, /£218\.00/);
    const cohort = (
      await t.app.inject({ method: 'GET', url: '/api/v1/places/salford/family-cohort', headers: admin.read })
    ).json();
    assert.equal(cohort.before.total, 150_000);
    assert.equal(cohort.after.total, 21_800);
    // (218 − 1,500) / 1,500 = −85.47% → −85.5%.
    assert.equal(cohort.changePct, -85.5);
    // Another place's key worker learns nothing: the form is a 404 like the family.
    assert.equal(
      (
        await t.app.inject({
          method: 'GET',
          url: `/places/salford/families/${familyId}/events/new`,
          headers: outsider.read,
        })
      ).statusCode,
      404,
    );
  });

  it('imports an agency’s CSV all or nothing, naming each bad line in the error summary', async () => {
    const bad = await upload(
      '/families/import',
      officer,
      `family_reference,event_type,occurred_on,quantity\nSAL-7,arrest,${daysAgo(120)},1\nSAL-7,teleport,${daysAgo(5)},1\nNOPE-1,arrest,${daysAgo(5)},1\n`,
    );
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.body, /2 lines of the file could not be imported; nothing was saved/);
    assert.match(bad.body, /href="#problem-3">Line 3: Unknown event type &quot;teleport&quot;/);
    assert.match(bad.body, /href="#problem-4">Line 4: No family with reference NOPE-1/);
    assert.match(bad.body, /id="problem-3"/);
    const events = async () =>
      Number(
        (
          await t.db.kysely
            .selectFrom('family_events')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.equal(await events(), 2);
    const good = await upload(
      '/families/import',
      officer,
      `family_reference,event_type,occurred_on,quantity\nSAL-7,arrest,${daysAgo(120)},1\nSAL-7,police_callout,${daysAgo(10)},2\n`,
    );
    assert.equal(good.statusCode, 303, good.body);
    assert.equal(good.headers.location, '/places/salford/families?imported=2');
    assert.equal(await events(), 4);
    const csrfless = await t.app.inject({
      method: 'POST',
      url: '/places/salford/families/import',
      headers: { ...officer.read, 'content-type': 'multipart/form-data; boundary=x' },
      payload:
        '--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nfamily_reference\r\n--x--\r\n',
    });
    assert.equal(csrfless.statusCode, 403);
  });

  it('adds a professional, records consent and closes the record, each audited', async () => {
    const before = await audited('family.professional.add');
    const missing = await form(`/families/${familyId}/professionals/new`, kw, { name: '', role: '' });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /href="#partner_id">Select the agency they work for/);
    const added = await form(`/families/${familyId}/professionals/new`, kw, {
      name: 'Jo Officer',
      role: 'Neighbourhood officer',
      partner_id: String(police),
    });
    assert.equal(added.statusCode, 303);
    assert.equal(await audited('family.professional.add'), before + 1);
    const consent = await form(`/families/${familyId}/consents/new`, kw, {
      purpose: 'evaluation',
      state: 'given',
      given_by: 'Pat Example',
      recorded_on: daysAgo(1),
    });
    assert.equal(consent.statusCode, 303, consent.body);
    const record = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/places/salford/families/${familyId}`,
        headers: kw.read,
      })
    ).json();
    assert.deepEqual(
      record.professionals.map((p: { name: string; partner_name: string }) => [p.name, p.partner_name]),
      [['Jo Officer', 'Greater Manchester Police']],
    );
    assert.deepEqual(record.consent_state, { evaluation: 'given' });
    const noReason = await form(`/families/${familyId}/close`, kw, { closure_reason: '  ' });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.body, /href="#closure_reason">Enter the reason the family’s record is closed/);
  });

  it('runs an outcome goal to an approved claim, paid into the pot as income', async () => {
    for (const account of [
      { code: 'POT', name: 'Pot', kind: 'pot' },
      { code: 'INC-PBR', name: 'Payment by results', kind: 'income' },
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/places/salford/ledger/accounts',
        headers: finance.write,
        payload: account,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    assert.equal(
      (
        await form(`/families/${familyId}/goals/new`, kw, {
          outcome: 'school_attendance',
          description: 'Both children attend 85% of sessions for three terms',
        })
      ).statusCode,
      303,
    );
    const goalId = (
      await t.db.kysely
        .selectFrom('family_goals')
        .select('id')
        .where('family_id', '=', familyId)
        .executeTakeFirstOrThrow()
    ).id;
    const early = await form(`/families/${familyId}/goals/${goalId}/claim`, kw, {
      amount: '800.00',
      evidence: 'Attendance records',
    });
    assert.equal(early.statusCode, 400);
    assert.match(early.body, /Record the goal as met before claiming for it/);
    assert.equal(
      (await form(`/families/${familyId}/goals/${goalId}/met`, kw, { met_on: daysAgo(2) })).statusCode,
      303,
    );
    const claimed = await form(`/families/${familyId}/goals/${goalId}/claim`, kw, {
      amount: '800.00',
      evidence: 'Attendance records for three terms',
    });
    assert.equal(claimed.statusCode, 303, claimed.body);
    const claimId = (await t.db.kysely.selectFrom('family_claims').select('id').executeTakeFirstOrThrow()).id;
    const claims = await page('/families/claims', analyst);
    assert.match(claims.body, /£800\.00/);
    assert.doesNotMatch(claims.body, /Check and decide/);
    assert.match((await page('/families/claims', finance)).body, new RegExp(`/families/claims/${claimId}"`));
    const check = await page(`/families/claims/${claimId}`, finance);
    assert.match(check.body, /Approving pays £800\.00 into the pot/);
    assert.equal((await page(`/families/claims/${claimId}`, analyst)).statusCode, 403);
    assert.equal(
      (await form(`/families/claims/${claimId}/decision`, analyst, { decision: 'approved' })).statusCode,
      403,
    );
    const approved = await form(`/families/claims/${claimId}/decision`, finance, { decision: 'approved' });
    assert.equal(approved.statusCode, 303, approved.body);
    const balances = (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/places/salford/ledger/balances',
        headers: finance.read,
      })
    ).json();
    assert.deepEqual(
      Object.fromEntries(
        balances.map((b: { account: string; balance_pence: number }) => [b.account, b.balance_pence]),
      ),
      { POT: 80_000, 'INC-PBR': -80_000 },
    );
    const again = await form(`/families/claims/${claimId}/decision`, finance, { decision: 'approved' });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /This claim has already been approved/);
  });

  it('proposes households under the place’s stored matching rule, which only an admin changes', async () => {
    const councilList =
      'name,date_of_birth,postcode,criteria\nPat Example,07/03/1985,M5 4WT,worklessness\nAlex Other,1990-01-01,M6 1AA,worklessness\n';
    const policeList =
      'name,date_of_birth,postcode,criteria\n PAT  EXAMPLE ,7 Mar 1985,m54wt,crime_asb;domestic_abuse\nAlex Other,01/01/1990,M61AA,crime_asb\n';
    assert.equal(
      (await upload('/families/matching/lists', admin, councilList)).statusCode,
      400,
      'an admin acts for no single agency',
    );
    assert.equal((await upload('/families/matching/lists', officer, policeList)).statusCode, 303);
    const bad = await upload(
      '/families/matching/lists',
      officer,
      'name,date_of_birth,postcode,criteria\nPat,not a date,M5 4WT,flying\n',
    );
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Line 2: enter a date of birth like 07\/03\/1985; unknown criteria flying/);
    const rep = await signInAs(
      t.db,
      await makePerson(t.db, 'rep@salford.test', [[placeId, 'partner_rep', council]]),
    );
    assert.equal((await upload('/families/matching/lists', rep, councilList)).statusCode, 303);
    // Pat's household: worklessness + crime_asb + domestic_abuse = 3 criteria; Alex's: worklessness + crime_asb = 2.
    const proposals = async () =>
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/places/salford/family-matching/proposals',
          headers: analyst.read,
        })
      ).json();
    assert.deepEqual(
      (await proposals()).proposals.map((p: { criteria: string[] }) => p.criteria.length),
      [3, 2],
    );
    assert.equal((await proposals()).threshold, 2);
    assert.equal((await page('/families/matching/settings', analyst)).statusCode, 403);
    const wrong = await form('/families/matching/settings', admin, { match_threshold: '7' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /Enter a whole number of criteria from 1 to 6/);
    assert.equal(
      (await form('/families/matching/settings', admin, { match_threshold: '3' })).statusCode,
      303,
    );
    assert.deepEqual(
      (await proposals()).proposals.map((p: { criteria: string[] }) => p.criteria.length),
      [3],
    );
    const shown = await page('/families/matching', analyst);
    assert.match(shown.body, /<strong>3 or more<\/strong>/);
    assert.doesNotMatch(shown.body, /Pat|Example/);
    assert.equal(await audited('family.settings'), 1);
  });
  it('closes the record with its reason, and ending the agreement shuts every professional out', async () => {
    const withdrawn = await form(`/families/${familyId}/consents/new`, kw, {
      purpose: 'evaluation',
      state: 'withdrawn',
      given_by: 'Pat Example',
    });
    assert.equal(withdrawn.statusCode, 303, withdrawn.body);
    const closed = await form(`/families/${familyId}/close`, kw, {
      closure_reason: 'Goals met; stepped down to universal services',
    });
    assert.equal(closed.statusCode, 303, closed.body);
    const record = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/places/salford/families/${familyId}`,
        headers: kw.read,
      })
    ).json();
    assert.deepEqual(
      [record.status, record.closure_reason, record.consent_state],
      ['closed', 'Goals met; stepped down to universal services', { evaluation: 'withdrawn' }],
    );
    const agreementId = (
      await t.db.kysely.selectFrom('family_agreements').select('id').executeTakeFirstOrThrow()
    ).id;
    const early = await form(`/families/agreements/${agreementId}/end`, admin, { ends_on: '2011-12-31' });
    assert.equal(early.statusCode, 400);
    assert.match(early.body, /href="#ends_on">Enter a date on or after 2012-01-01/);
    assert.equal(
      (await form(`/families/agreements/${agreementId}/end`, admin, { ends_on: daysAgo(1) })).statusCode,
      303,
    );
    assert.equal((await page(`/families/${familyId}`, kw)).statusCode, 404);
    assert.equal((await page(`/families/${familyId}/events/new`, officer)).statusCode, 404);
    assert.equal(await audited('family_agreement.end'), 1);
  });
});
