import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inPlace } from '../core/db.ts';
import { engineName } from '../../test/db.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { addMonths, todayIso } from '../core/dates.ts';

const today = todayIso();
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe(`family access rule, role × agreement × consent, on ${engineName}`, () => {
  let t: TestApp;
  const variants = ['none', 'consent', 'public_task', 'expired'] as const;
  const consentStates = ['none', 'given', 'withdrawn'] as const;
  const roles = ['kw_party', 'kw_other', 'rep_party', 'admin', 'analyst'] as const;
  const who = new Map<string, SignedIn>();
  const familyIds = new Map<string, number>();

  before(async () => {
    t = await startTestApp();
    for (const variant of variants) {
      const place = await makePlace(t.db, `matrix-${variant.replace('_', '-')}`);
      const party = await makePartner(t.db, place, `Council ${variant}`);
      const other = await makePartner(t.db, place, `Police ${variant}`, 'police');
      const kw = await makePerson(t.db, `kw-party@${variant}.test`, [[place, 'key_worker', party]]);
      const people = {
        kw_party: kw,
        kw_other: await makePerson(t.db, `kw-other@${variant}.test`, [[place, 'key_worker', other]]),
        rep_party: await makePerson(t.db, `rep@${variant}.test`, [[place, 'partner_rep', party]]),
        admin: await makePerson(t.db, `admin@${variant}.test`, [[place, 'admin']]),
        analyst: await makePerson(t.db, `analyst@${variant}.test`, [[place, 'analyst']]),
      };
      for (const [role, personId] of Object.entries(people))
        who.set(`${variant}|${role}`, await signInAs(t.db, personId));
      if (variant !== 'none') {
        await inPlace(t.db, place, async (tx) => {
          const a = await tx
            .insertInto('family_agreements')
            .values({
              place_id: place,
              title: `Agreement ${variant}`,
              purposes: ['case_work'],
              data_categories: ['identity'],
              legal_basis: variant === 'public_task' ? 'public_task' : 'consent',
              starts_on: '2012-01-01',
              ends_on: variant === 'expired' ? addMonths(today, -1) : null,
              created_by: people.admin,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          await tx
            .insertInto('family_agreement_parties')
            .values({ place_id: place, agreement_id: a.id, partner_id: party })
            .execute();
        });
      }
      for (const consent of consentStates) {
        await inPlace(t.db, place, async (tx) => {
          const f = await tx
            .insertInto('families')
            .values({
              place_id: place,
              reference: `F-${consent.toUpperCase()}`,
              household_name: `Household ${consent}`,
              taken_on: '2013-04-01',
              lead_partner_id: party,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          familyIds.set(`${variant}|${consent}`, f.id);
          const states = consent === 'none' ? [] : consent === 'given' ? ['given'] : ['given', 'withdrawn'];
          for (const state of states) {
            await tx
              .insertInto('family_consents')
              .values({
                place_id: place,
                family_id: f.id,
                purpose: 'case_work',
                state: state as 'given',
                given_by: 'Parent',
                recorded_on: '2013-04-01',
                recorded_by: kw,
              })
              .execute();
          }
        });
      }
    }
  });
  after(() => t.close());

  // A professional whose partner is party to an agreement in force reads when consent is given, or always
  // when the agreement rests on public task; everyone else, in every other cell, gets 404.
  const expected = (variant: string, role: string, consent: string) =>
    (role === 'kw_party' || role === 'rep_party') &&
    (variant === 'public_task' || (variant === 'consent' && consent === 'given'));

  it('answers 200 exactly where the rule allows and 404 everywhere else, API and page', async () => {
    let allowed = 0;
    for (const variant of variants) {
      for (const role of roles) {
        for (const consent of consentStates) {
          const slug = `matrix-${variant.replace('_', '-')}`;
          const familyId = familyIds.get(`${variant}|${consent}`)!;
          const headers = who.get(`${variant}|${role}`)!.read;
          const api = await t.app.inject({
            method: 'GET',
            url: `/api/v1/places/${slug}/families/${familyId}`,
            headers,
          });
          const page = await t.app.inject({
            method: 'GET',
            url: `/places/${slug}/families/${familyId}`,
            headers,
          });
          const want = expected(variant, role, consent);
          assert.equal(api.statusCode, want ? 200 : 404, `API ${variant} ${role} ${consent}`);
          assert.equal(page.statusCode, want ? 200 : 404, `page ${variant} ${role} ${consent}`);
          if (want) {
            allowed++;
            assert.equal(api.json().household_name, `Household ${consent}`);
          } else {
            assert.doesNotMatch(api.body + page.body, /Household/);
          }
        }
      }
    }
    // consent agreement: 2 professional roles × given = 2; public task: 2 roles × 3 consent states = 6.
    assert.equal(allowed, 8);
  });

  it('writes one audit entry saying who read which family and why, for every read', async () => {
    const slug = 'matrix-public-task';
    const familyId = familyIds.get('public_task|none')!;
    const count = async () =>
      await t.db.kysely
        .selectFrom('audit_log')
        .select(['person_id', 'detail'])
        .where('action', '=', 'family.read')
        .where('subject', '=', `family:${familyId}`)
        .execute();
    const beforeReads = (await count()).length;
    const headers = who.get('public_task|kw_party')!.read;
    await t.app.inject({ method: 'GET', url: `/api/v1/places/${slug}/families/${familyId}`, headers });
    await t.app.inject({ method: 'GET', url: `/places/${slug}/families/${familyId}`, headers });
    const refused = await t.app.inject({
      method: 'GET',
      url: `/api/v1/places/${slug}/families/${familyId}`,
      headers: who.get('public_task|kw_other')!.read,
    });
    assert.equal(refused.statusCode, 404);
    const entries = await count();
    assert.equal(entries.length, beforeReads + 2);
    const kw = await t.db.kysely
      .selectFrom('people')
      .select('id')
      .where('email', '=', 'kw-party@public_task.test')
      .executeTakeFirstOrThrow();
    assert.equal(entries.at(-1)!.person_id, kw.id);
    assert.deepEqual(
      { purpose: entries.at(-1)!.detail.purpose, basis: entries.at(-1)!.detail.basis },
      { purpose: 'case_work', basis: 'public_task' },
    );
  });
});

describe(`family costing, erasure and the CLI on ${engineName}`, () => {
  let t: TestApp;
  let kw: SignedIn;
  let admin: SignedIn;
  let familyId: number;

  before(async () => {
    t = await startTestApp();
    const place = await makePlace(t.db, 'salford');
    const council = await makePartner(t.db, place, 'Salford City Council');
    const police = await makePartner(t.db, place, 'Greater Manchester Police', 'police');
    kw = await signInAs(t.db, await makePerson(t.db, 'kw@salford.test', [[place, 'key_worker', council]]));
    const officer = await signInAs(
      t.db,
      await makePerson(t.db, 'officer@salford.test', [[place, 'partner_rep', police]]),
    );
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@salford.test', [[place, 'admin']]));
    const agreement = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/salford/family-agreements',
      headers: admin.write,
      payload: {
        title: 'Troubled families',
        purposes: ['case_work'],
        data_categories: ['identity', 'criminal_offence'],
        legal_basis: 'public_task',
        starts_on: '2012-01-01',
        party_ids: [council, police],
      },
    });
    assert.equal(agreement.statusCode, 201, agreement.body);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/salford/families',
      headers: kw.write,
      payload: {
        reference: 'SAL-1',
        household_name: 'The Example family',
        postcode: 'm5 4wt',
        taken_on: daysAgo(100),
        members: [{ name: 'Pat Example', date_of_birth: '07/03/1985', relationship: 'parent' }],
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    familyId = created.json().id;
    const csv = [
      'family_reference,event_type,occurred_on,quantity,note',
      `SAL-1,police_callout,${daysAgo(200)},3,noise`,
      `SAL-1,arrest,${daysAgo(150)},1,`,
      `SAL-1,police_callout,${daysAgo(50)},1,`,
    ].join('\n');
    const imported = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/salford/family-events/import',
      headers: officer.write,
      payload: { csv },
    });
    assert.equal(imported.statusCode, 201, imported.body);
    const logged = await t.app.inject({
      method: 'POST',
      url: `/api/v1/places/salford/families/${familyId}/events`,
      headers: kw.write,
      payload: { event_type: 'ae_attendance', occurred_on: daysAgo(20), quantity: 2 },
    });
    assert.equal(logged.statusCode, 201, logged.body);
  });
  after(() => t.close());

  it('refuses a whole import when one line is bad, naming the line', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/salford/family-events/import',
      headers: kw.write,
      payload: {
        csv: `family_reference,event_type,occurred_on\nSAL-1,arrest,${daysAgo(5)}\nSAL-1,teleport,${daysAgo(5)}\n`,
      },
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().fields['line 3'], /Unknown event type "teleport"/);
    const events = await t.db.kysely
      .selectFrom('family_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(events.n), 4);
  });

  it('costs the cohort before and after the date taken on', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/places/salford/family-cohort',
      headers: admin.read,
    });
    assert.equal(res.statusCode, 200);
    const c = res.json();
    // Before (taken on 100 days ago): 3 call-outs × £500 + 1 arrest × £593 = £2,093.
    // After: 1 call-out × £500 + 2 A&E × £109 = £718. Change = (718 − 2,093) / 2,093 = −65.69…% → −65.7%.
    assert.equal(c.before.total, 209300);
    assert.equal(c.after.total, 71800);
    assert.equal(c.changePct, -65.7);
    assert.deepEqual(c.after.byAgency, { police: 50000, health: 21800 });
  });

  it('erases the personal data and keeps the aggregate cost unchanged', async () => {
    const cohortTotal = async () =>
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/places/salford/family-cohort',
          headers: admin.read,
        })
      ).json();
    const beforeErase = await cohortTotal();
    const exported = await t.app.inject({
      method: 'GET',
      url: `/api/v1/places/salford/families/${familyId}/export`,
      headers: kw.read,
    });
    assert.equal(exported.statusCode, 200);
    assert.equal(exported.json().members[0].name, 'Pat Example');
    assert.equal(exported.json().events.length, 4);
    const erased = await t.app.inject({
      method: 'POST',
      url: `/api/v1/places/salford/families/${familyId}/erase`,
      headers: admin.write,
    });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.deepEqual(await cohortTotal(), beforeErase);
    const family = await t.db.kysely
      .selectFrom('families')
      .select(['household_name', 'postcode', 'address', 'reference'])
      .where('id', '=', familyId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(family, { household_name: null, postcode: null, address: null, reference: 'SAL-1' });
    const members = await t.db.kysely
      .selectFrom('family_members')
      .select(['name', 'date_of_birth'])
      .where('family_id', '=', familyId)
      .execute();
    assert.deepEqual(members, [{ name: null, date_of_birth: null }]);
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/v1/places/salford/families/${familyId}`,
      headers: kw.read,
    });
    assert.equal(after.statusCode, 404);
  });
});
