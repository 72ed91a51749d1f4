import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { inPlace } from '../core/db.ts';
import { balancedTransaction } from '../ledger/domain.ts';
import { createAccounts } from '../ledger/accounts.ts';
import { postTransactions } from '../ledger/postings.ts';
import { engineName } from '../../test/db.ts';
import { STANDARDS_FIXTURES, SYNTHETIC_FIXTURES } from '../../test/fixtures.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = formats as unknown as <T>(ajv: T) => T;
/** A county's purchase-card month, in the shape Warwickshire publishes it (test/fixtures/README.md). */
const PCARD = fs.readFileSync(SYNTHETIC_FIXTURES.purchaseCards2021);

describe(`the services API (${engineName})`, () => {
  let t: TestApp;
  let placeId: number;
  let council: number;
  let police: number;
  let charity: number;
  let decision: number;
  let admin: SignedIn;
  let finance: SignedIn;
  let observer: SignedIn;
  const url = (rest: string) => `/api/v1/places/warwickshire${rest}`;

  before(async () => {
    t = await startTestApp();
    placeId = await makePlace(t.db, 'warwickshire');
    council = await makePartner(t.db, placeId, 'Warwickshire County Council');
    police = await makePartner(t.db, placeId, 'Warwickshire Police', 'police');
    charity = (
      await t.db.kysely
        .insertInto('partners')
        .values({ place_id: placeId, name: 'Nuneaton Foodbank', agency_type: 'voluntary' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    const adminId = await makePerson(t.db, 'admin@example.org', [[placeId, 'admin']]);
    admin = await signInAs(t.db, adminId);
    finance = await signInAs(t.db, await makePerson(t.db, 'finance@example.org', [[placeId, 'finance']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@example.org', [[placeId, 'observer']]));
    decision = (
      await t.db.kysely
        .insertInto('decisions')
        .values({
          place_id: placeId,
          title: 'Pool family support',
          sign_off_rule: 'all',
          proposed_by: adminId,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });
  after(() => t.close());

  let familySupport: number;
  test('keeps the catalogue: services, annual costs by partner and year, the review decision with its board decision', async () => {
    const add = (payload: object) =>
      t.app.inject({ method: 'POST', url: url('/services'), headers: admin.write, payload });
    const a = await add({
      name: 'Family support',
      client_group: 'Families',
      outcome_area: 'Safer homes',
      funded_by: [council],
    });
    assert.equal(a.statusCode, 201, a.body);
    familySupport = a.json().id;
    const b = await add({
      name: 'Domestic abuse outreach',
      client_group: 'families',
      outcome_area: 'Safer homes',
      funded_by: [police],
    });
    assert.equal(b.statusCode, 201);
    assert.equal((await add({ name: '' })).statusCode, 400);
    assert.equal(
      (
        await t.app.inject({
          method: 'POST',
          url: url('/services'),
          headers: observer.write,
          payload: { name: 'No' },
        })
      ).statusCode,
      403,
    );

    const cost = (serviceId: number, partner_id: number, year: number, cost_pence: number) =>
      t.app.inject({
        method: 'PUT',
        url: url(`/services/${serviceId}/costs`),
        headers: admin.write,
        payload: { partner_id, year, cost_pence },
      });
    assert.equal((await cost(familySupport, council, 2020, 100_000_00)).statusCode, 200);
    assert.equal((await cost(familySupport, council, 2021, 120_000_00)).statusCode, 200);
    assert.equal((await cost(b.json().id, police, 2021, 30_000_01)).statusCode, 200);

    const review = await t.app.inject({
      method: 'PUT',
      url: url(`/services/${familySupport}`),
      headers: admin.write,
      payload: {
        name: 'Family support',
        client_group: 'Families',
        outcome_area: 'Safer homes',
        review: 'pool',
        decision_id: decision,
        funded_by: [],
        delivered_by: [charity],
      },
    });
    assert.equal(review.statusCode, 200, review.body);
    const shown = review.json();
    assert.equal(shown.review, 'pool');
    assert.equal(shown.decision_title, 'Pool family support');
    // The council stays a funder: it has costs recorded.
    assert.deepEqual(
      shown.funded_by.map((p: { id: number }) => p.id),
      [council],
    );
    assert.equal(shown.annual_cost_pence, 120_000_00);

    const overlaps = (await t.app.inject({ url: url('/services/overlaps'), headers: observer.read })).json();
    assert.equal(overlaps.length, 1);
    // £120,000.00 (2021/22, the latest year) + £30,000.01 = 15,000,001p.
    assert.equal(overlaps[0].combined_cost_pence, 150_000_01);

    const oruk = await t.app.inject({ url: url('/services/export?format=oruk'), headers: observer.read });
    assert.equal(oruk.json().length, 2);
    const other = await t.app.inject({
      method: 'PUT',
      url: url(`/services/${familySupport}`),
      headers: admin.write,
      payload: { name: 'X', decision_id: 999999 },
    });
    assert.equal(other.statusCode, 400);
  });

  test('imports a whole Open Referral UK directory over the API, all or nothing, and again without duplicates', async () => {
    const file = fs.readFileSync(SYNTHETIC_FIXTURES.serviceDirectory, 'utf8');
    const send = (who: SignedIn, payload: string) =>
      t.app.inject({
        method: 'POST',
        url: url('/services/import'),
        headers: { ...who.write, 'content-type': 'application/json' },
        payload,
      });
    const before = (await t.app.inject({ url: url('/services'), headers: admin.read })).json().length;
    assert.equal((await send(observer, file)).statusCode, 403);
    const broken = await send(
      admin,
      JSON.stringify([
        { id: 'a', name: 'Fine' },
        { id: '', name: 'No id' },
      ]),
    );
    assert.equal(broken.statusCode, 400);
    assert.match(broken.json().message, /1 services cannot be imported, so none were: service 2: no id/);
    const first = await send(admin, file);
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { added: 738, updated: 0 });
    assert.deepEqual((await send(admin, file)).json(), { added: 0, updated: 738 });
    assert.equal(
      (await t.app.inject({ url: url('/services'), headers: admin.read })).json().length,
      before + 738,
    );
  });

  test('previews a spend file, imports it once, and classifies it', async () => {
    const csv = { ...finance.write, 'content-type': 'text/csv' };
    const query = `?file_name=p-card.csv&partner_id=${council}`;
    const preview = await t.app.inject({
      method: 'POST',
      url: url(`/spend/preview${query}`),
      headers: csv,
      payload: PCARD,
    });
    assert.equal(preview.statusCode, 200, preview.body);
    // The figures of src/spend/import.test.ts, computed independently there.
    assert.deepEqual(
      {
        rows: preview.json().rows,
        total: preview.json().total_pence,
        encoding: preview.json().encoding,
        header: preview.json().header_line,
        importId: preview.json().import_id,
      },
      { rows: 300, total: 16774269, encoding: 'windows-1252', header: 2, importId: null },
    );
    assert.equal(preview.json().columns.amount, 'Net Amount');
    assert.deepEqual((await t.app.inject({ url: url('/spend/imports'), headers: finance.read })).json(), []);

    assert.equal(
      (
        await t.app.inject({
          method: 'POST',
          url: url(`/spend/imports${query}`),
          headers: { ...observer.write, 'content-type': 'text/csv' },
          payload: PCARD,
        })
      ).statusCode,
      403,
    );
    const first = await t.app.inject({
      method: 'POST',
      url: url(`/spend/imports${query}`),
      headers: csv,
      payload: PCARD,
    });
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().added, 300);
    const again = await t.app.inject({
      method: 'POST',
      url: url(`/spend/imports${query}`),
      headers: csv,
      payload: PCARD,
    });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().already_imported, true);
    const imports = (await t.app.inject({ url: url('/spend/imports'), headers: observer.read })).json();
    assert.equal(imports.length, 1);
    assert.equal(imports[0].partner_name, 'Warwickshire County Council');

    const unclassifiedBefore = (
      await t.app.inject({ url: url('/spend/unclassified'), headers: observer.read })
    ).json();
    const people = unclassifiedBefore.find((u: { expense_area: string }) => u.expense_area === 'People');
    assert.ok(people);
    const rule = await t.app.inject({
      method: 'POST',
      url: url('/classification-rules'),
      headers: admin.write,
      payload: { field: 'expense_area', value: ' PEOPLE ', service_id: familySupport },
    });
    assert.equal(rule.statusCode, 201, rule.body);
    const rules = (await t.app.inject({ url: url('/classification-rules'), headers: observer.read })).json();
    assert.deepEqual(
      rules.map((r: { value: string }) => r.value),
      ['people'],
    );
    const unclassified = (
      await t.app.inject({ url: url('/spend/unclassified'), headers: observer.read })
    ).json();
    assert.ok(!unclassified.some((u: { expense_area: string }) => u.expense_area === 'People'));
    const byService = (await t.app.inject({ url: url('/spend/by-service'), headers: observer.read })).json();
    const classified = byService.filter((r: { service_id: number | null }) => r.service_id === familySupport);
    assert.equal(
      classified.reduce((sum: number, r: { amount_pence: number }) => sum + r.amount_pence, 0),
      people.amount_pence,
    );
    assert.deepEqual(
      [...new Set(classified.map((r: { partner_name: string }) => r.partner_name))],
      ['Warwickshire County Council'],
    );

    const csvOut = await t.app.inject({ url: url('/spend/transparency.csv'), headers: observer.read });
    const lines = csvOut.body.trimEnd().split('\r\n');
    assert.equal(lines.length, 301);
    assert.equal(
      lines[0],
      'Body Name,Date,Transaction Number,Amount,Supplier Name,Expense Area,Expense Type,Expense Code,Source File,Source Line',
    );
    assert.match(lines[1]!, /^,\d\d\/12\/2021,\d+,-?\d+\.\d\d,/);

    assert.equal(
      (
        await t.app.inject({
          method: 'DELETE',
          url: url(`/classification-rules/${rule.json().id}`),
          headers: admin.write,
        })
      ).statusCode,
      204,
    );
  });

  test('saves and corrects a publisher’s mapping profile', async () => {
    const save = (columns: object) =>
      t.app.inject({
        method: 'PUT',
        url: url('/spend/profiles/Warwickshire p-card'),
        headers: finance.write,
        payload: { partner_id: council, columns },
      });
    assert.equal((await save({ amount: 'Net Amount', date: 'Date' })).statusCode, 200);
    const corrected = await save({ amount: 'Net Amount', date: 'Date', supplier: 'Supplier' });
    assert.deepEqual(corrected.json().columns, { date: 'Date', amount: 'Net Amount', supplier: 'Supplier' });
    const preview = await t.app.inject({
      method: 'POST',
      url: url('/spend/preview?profile=Warwickshire%20p-card'),
      headers: { ...finance.write, 'content-type': 'text/csv' },
      payload: PCARD,
    });
    assert.equal(preview.json().rows, 300);
    const missing = await t.app.inject({
      method: 'POST',
      url: url('/spend/preview?profile=Nobody'),
      headers: { ...finance.write, 'content-type': 'text/csv' },
      payload: PCARD,
    });
    assert.equal(missing.statusCode, 400);
  });

  test('publishes grants to community organisations as valid 360Giving, and reconciles spend with the ledger', async () => {
    await inPlace(t.db, placeId, async (tx) => {
      const actor = { personId: null };
      await createAccounts(
        tx,
        placeId,
        [
          { code: 'POT', name: 'Pooled budget', kind: 'pot', partner_id: null, service: null },
          {
            code: 'GRANT-FOODBANK',
            name: 'Family support spend',
            kind: 'spend',
            partner_id: null,
            service: 'family support',
          },
        ],
        actor,
      );
      const txn = (key: string, date: string, amount: number) =>
        balancedTransaction({
          key,
          date,
          memo: `Winter grant ${key}`,
          postings: [
            { account: 'GRANT-FOODBANK', amount_pence: amount },
            { account: 'POT', amount_pence: -amount },
          ],
        });
      await postTransactions(
        tx,
        placeId,
        [txn('g1', '2021-12-10', 250_000), txn('g2', '2022-01-10', 100_050)],
        { kind: 'spend', actor },
      );
    });
    const grants = await t.app.inject({ url: url('/grants/360giving.json'), headers: finance.read });
    assert.equal(grants.statusCode, 200);
    // Formats on: awardDate is oneOf date-time or a date pattern, and only checking the format tells them apart.
    const ajv = addFormats(new Ajv2020({ strict: false }));
    // The files name the 2020-12 meta-schema as http://, which Ajv knows as https://: the dialect is the same.
    const read = (file: string) => ({
      ...JSON.parse(fs.readFileSync(file, 'utf8')),
      $schema: undefined,
    });
    const grantSchema = read(STANDARDS_FIXTURES.threeSixtyGivingGrant);
    const packageSchema = read(STANDARDS_FIXTURES.threeSixtyGivingPackage);
    // The package schema refers to the grant schema by its 1.4.2 address.
    ajv.addSchema({ ...grantSchema, $id: packageSchema.properties.grants.items.$ref });
    const valid = ajv.validate(packageSchema, grants.json());
    assert.ok(valid, JSON.stringify(ajv.errors));
    assert.deepEqual(
      grants
        .json()
        .grants.map((g: { amountAwarded: number; recipientOrganization: { name: string }[] }) => [
          g.amountAwarded,
          g.recipientOrganization[0]!.name,
        ]),
      [
        [2500, 'Nuneaton Foodbank'],
        [1000.5, 'Nuneaton Foodbank'],
      ],
    );
    assert.equal(
      (
        await t.app.inject({
          url: url('/grants/360giving.json'),
          headers: (await signInAs(t.db, await makePerson(t.db, 'res@example.org', [[placeId, 'resident']])))
            .read,
        })
      ).statusCode,
      403,
    );

    await t.app.inject({
      method: 'POST',
      url: url('/classification-rules'),
      headers: admin.write,
      payload: { field: 'expense_area', value: 'people', service_id: familySupport },
    });
    const report = (await t.app.inject({ url: url('/spend/reconciliation'), headers: finance.read })).json();
    const december = report.find((r: { month: string }) => r.month === '2021-12');
    const january = report.find((r: { month: string }) => r.month === '2022-01');
    assert.equal(december.service, 'Family support');
    assert.equal(december.ledger_pence, 250_000);
    assert.equal(december.difference_pence, december.spend_file_pence - 250_000);
    assert.deepEqual(december.partners, ['Warwickshire County Council']);
    assert.deepEqual(
      [january.spend_file_pence, january.ledger_pence, january.difference_pence],
      [0, 100_050, -100_050],
    );
  });
});
