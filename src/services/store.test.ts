import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { inPlace } from '../core/db.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { STANDARDS_FIXTURES, SYNTHETIC_FIXTURES } from '../../test/fixtures.ts';
import { makePartner, makePerson, makePlace } from '../../test/support.ts';
import { validateNewService } from './domain.ts';
import { importSpend } from '../spend/store.ts';
import { addRule, spendByServiceByPartnerByMonth, unclassifiedSpend } from '../spend/classification.ts';
import {
  addService,
  exportServices,
  importOruk,
  listOverlaps,
  setServiceCost,
  toOruk,
  listServices,
} from './store.ts';

describe(`the service map (${engineName})`, () => {
  let db: TestDatabase;
  let placeId: number;
  let council: number;
  let police: number;
  let person: number;
  before(async () => {
    db = await openTestDatabase();
    placeId = await makePlace(db, 'devon');
    council = await makePartner(db, placeId, 'Devon County Council');
    police = await makePartner(db, placeId, 'Devon and Cornwall Police', 'police');
    person = await makePerson(db, 'admin@example.org', [[placeId, 'admin']]);
  });
  after(() => db.drop());

  test('imports a 738-service Open Referral UK list once, and again without duplicates', async () => {
    const document = JSON.parse(fs.readFileSync(SYNTHETIC_FIXTURES.serviceDirectory, 'utf8'));
    const other = await makePlace(db, 'north-lincolnshire');
    const first = await inPlace(db, other, (tx) => importOruk(tx, other, document, null));
    assert.deepEqual(first, { added: 738, updated: 0 });
    const second = await inPlace(db, other, (tx) => importOruk(tx, other, document, null));
    assert.deepEqual(second, { added: 0, updated: 738 });
    const services = await inPlace(db, other, (tx) => listServices(tx, other));
    assert.equal(services.length, 738);
    // The first item's description is HTML in the file ("Drug &amp; Alcohol"): the map keeps text.
    const recovery = services.find((s) => s.oruk_id === 'bca5bd0b-2840-4caa-b8ab-89f7e36f5066')!;
    assert.match(recovery.description, /^Struggling with Drug & Alcohol Addiction\?/);
  });

  test('finds overlapping services of different partners with their combined cost', async () => {
    const input = (name: string, partner: number) =>
      validateNewService({
        name,
        client_group: 'Families with complex needs',
        outcome_area: 'Reduce offending',
        funded_by: [partner],
      });
    await inPlace(db, placeId, async (tx) => {
      const a = await addService(tx, placeId, input('Family intervention project', council), person);
      const b = await addService(tx, placeId, input('Integrated offender management', police), person);
      await addService(
        tx,
        placeId,
        { ...input('Youth club', council), outcome_area: 'Positive activities' },
        person,
      );
      await setServiceCost(
        tx,
        placeId,
        { serviceId: a, partnerId: council, year: 2025, costPence: 45_000_000 },
        person,
      );
      await setServiceCost(
        tx,
        placeId,
        { serviceId: b, partnerId: police, year: 2025, costPence: 30_000_050 },
        person,
      );
    });
    const overlaps = await inPlace(db, placeId, (tx) => listOverlaps(tx, placeId));
    assert.equal(overlaps.length, 1);
    // £450,000.00 + £300,000.50 = £750,000.50 = 75,000,050p.
    assert.equal(overlaps[0]!.combined_cost_pence, 75_000_050);
    assert.deepEqual(overlaps[0]!.partner_names, ['Devon County Council', 'Devon and Cornwall Police']);
  });

  test('exports Open Referral UK that validates against the UK profile service schema, and CSV', async () => {
    const schema = JSON.parse(fs.readFileSync(STANDARDS_FIXTURES.orukServiceSchema, 'utf8'));
    const ajv = new Ajv({ strict: false, validateFormats: false });
    const validate = ajv.compile(schema);
    const services = await inPlace(db, placeId, (tx) => listServices(tx, placeId));
    for (const service of toOruk(placeId, services))
      assert.ok(validate(service), JSON.stringify(validate.errors));
    const csv = await inPlace(db, placeId, (tx) => exportServices(tx, { id: placeId }, 'csv'));
    assert.match(
      csv,
      /Family intervention project,Families with complex needs,Reduce offending,active,,,Devon County Council,,450000\r\n/,
    );
  });

  test('exports a service name a spreadsheet would run as a formula as text in the CSV', async () => {
    const other = await makePlace(db, 'torbay');
    const partner = await makePartner(db, other, 'Torbay Council');
    await inPlace(db, other, (tx) =>
      addService(
        tx,
        other,
        validateNewService({
          name: '=HYPERLINK("http://evil.example","Family support")',
          client_group: '@Families',
          outcome_area: '-1+1',
          funded_by: [partner],
        }),
        person,
      ),
    );
    const csv = await inPlace(db, other, (tx) => exportServices(tx, { id: other }, 'csv'));
    const line = csv.split('\r\n')[1]!;
    assert.match(line, /,"'=HYPERLINK\(""http:\/\/evil.example"",""Family support""\)",'@Families,'-1\+1,/);
  });

  test('classifies spend by rules into spend by service by partner by month, with the rest unclassified', async () => {
    const file = SYNTHETIC_FIXTURES.purchaseCards2021;
    await importSpend(
      db,
      placeId,
      {
        fileName: 'p-card.csv',
        open: () => fs.createReadStream(file),
        partnerId: council,
        rejects: 'record',
      },
      null,
    );
    const service = (await inPlace(db, placeId, (tx) => listServices(tx, placeId))).find(
      (s) => s.name === 'Youth club',
    )!;
    await inPlace(db, placeId, (tx) =>
      addRule(tx, placeId, { field: 'expense_area', value: 'People', serviceId: service.id }, person),
    );
    const byService = await inPlace(db, placeId, (tx) => spendByServiceByPartnerByMonth(tx, placeId));
    const unclassified = await inPlace(db, placeId, (tx) => unclassifiedSpend(tx, placeId));
    /*
     * Computed with: iconv -f cp1252 -t utf-8 p-card.csv | python3 -c "import csv,sys,decimal as d; r=list(csv.reader(sys.stdin))[2:];
     *   print(sum(d.Decimal(x[2].replace('£','').replace(',',''))*100 for x in r if x[3]=='People'), sum(1 for x in r if x[3]=='People'))"
     *   → 6825699 pence over 129 lines in "People"; the whole file is 16774269 pence (see src/spend/import.test.ts).
     */
    const people = byService.filter((r) => r.service_id === service.id);
    assert.deepEqual(
      people.map((r) => [r.month, r.partner_name, Number(r.lines), Number(r.amount_pence)]),
      [['2021-12', 'Devon County Council', 129, 6825699]],
    );
    const rest = unclassified.reduce((sum, r) => sum + Number(r.amount_pence), 0);
    assert.equal(rest, 16774269 - 6825699);
  });
});
