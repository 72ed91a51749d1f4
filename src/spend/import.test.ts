import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inPlace } from '../core/db.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import { SPEND_FIXTURES, SYNTHETIC_FIXTURES } from '../../test/fixtures.ts';
import { makePartner, makePlace } from '../../test/support.ts';
import { bytesSource, importSpend } from './store.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);

const open = (file: string) => () => fs.createReadStream(file);

/*
 * The expected figures were computed independently of this code, with Python's csv module and
 * Decimal (ROUND_HALF_UP, which rounds ties away from zero), reading each file in its encoding,
 * skipping the title/header lines, and counting a row when its date is `YYYY-MM-DD 00:00:00` or
 * `DD/MM/YYYY` and its amount (commas and £ removed) is a decimal number:
 *   python3 indep.py   (specs: file, encoding, header lines, date column, amount column)
 *   devon-cc_DCCSpendingOver500_201710.csv rows 7393 rejected 0 total_pence 5004968046
 *   devon-cc_DCCSpendingOver500_202603.csv rows 3545 rejected 0 total_pence 5749290067
 *   oxford-city_expenditure-over-500-jan-mar-2015.csv rows 3864 rejected 0 total_pence 1388057457
 *   example-county_all-payments-december-2010.csv rows 1199 rejected 1 total_pence 1335556648 first rejects [1000]
 *   example-county_p-card-december-2021.csv rows 300 rejected 0 total_pence 16774269
 *   lambeth_2012-06-payments.csv rows 2516 rejected 639 total_pence 3977594053 first rejects [19, 20, 21]
 * They agree with the README: Devon 2026's totals row says 57,492,900.67 (= 5749290067p), Lambeth
 * has 2,516 well-formed lines and 638 + 1 run-together ones, the synthetic county file 1,200 data
 * lines of which one is VARIOUS (test/fixtures/README.md says where each file comes from).
 */
const FILES = [
  {
    file: SPEND_FIXTURES.devon2017,
    rows: 7393,
    rejected: [],
    total: 5004968046,
    encoding: 'utf-8-bom',
    header: 1,
    excluded: 0,
  },
  {
    file: SPEND_FIXTURES.devon2026,
    rows: 3545,
    rejected: [],
    total: 5749290067,
    encoding: 'utf-8-bom',
    header: 1,
    excluded: 1,
  },
  {
    file: SPEND_FIXTURES.oxford2015,
    rows: 3864,
    rejected: [],
    total: 1388057457,
    encoding: 'utf-8',
    header: 1,
    excluded: 0,
  },
  {
    file: SYNTHETIC_FIXTURES.countyPayments2010,
    rows: 1199,
    rejected: [1000],
    total: 1335556648,
    encoding: 'windows-1252',
    header: 3,
    excluded: 2,
  },
  {
    file: SYNTHETIC_FIXTURES.purchaseCards2021,
    rows: 300,
    rejected: [],
    total: 16774269,
    encoding: 'windows-1252',
    header: 2,
    excluded: 0,
  },
  {
    file: SPEND_FIXTURES.lambeth2012,
    rows: 2516,
    rejected: [19, 20, 21],
    total: 3977594053,
    encoding: 'utf-8',
    header: 10,
    excluded: 639 + 6,
  },
] as const;

describe(`importing the six real spend files (${engineName})`, () => {
  let db: TestDatabase;
  let placeId: number;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    placeId = await makePlace(db, 'devon');
    await makePartner(db, placeId, 'Devon County Council');
  });
  after(() => db.drop());

  for (const expected of FILES) {
    const name = path.basename(expected.file);
    test(`${name}: ${expected.rows} rows, ${expected.total} pence`, async () => {
      const result = await importSpend(
        db,
        placeId,
        { fileName: name, open: open(expected.file), rejects: 'record' },
        null,
      );
      assert.equal(result.facts.encoding, expected.encoding);
      assert.equal(result.layout.headerLine, expected.header);
      assert.equal(result.rows, expected.rows);
      assert.equal(result.added, expected.rows);
      assert.equal(result.totalPence, expected.total);
      const rejected = result.excluded.filter((e) => e.kind === 'unreadable').map((e) => e.line);
      assert.deepEqual(rejected.slice(0, 3), expected.rejected);
      assert.equal(result.excluded.length, expected.excluded);
      const stored = await inPlace(db, placeId, (tx) =>
        tx
          .selectFrom('spend_lines')
          .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<string>('amount_pence').as('sum')])
          .where('place_id', '=', placeId)
          .where('import_id', '=', result.importId!)
          .executeTakeFirstOrThrow(),
      );
      assert.equal(Number(stored.n), expected.rows);
      assert.equal(Number(stored.sum), expected.total);
    });
  }

  test('keeps every line’s source: Devon 2017 line 3 is the 7,956.42 artefact; Lambeth’s run-together line 19 is kept with its reason and text', async () => {
    const line = await inPlace(db, placeId, (tx) =>
      tx
        .selectFrom('spend_lines')
        .innerJoin('spend_imports', (j) =>
          j
            .onRef('spend_imports.id', '=', 'spend_lines.import_id')
            .onRef('spend_imports.place_id', '=', 'spend_lines.place_id'),
        )
        .select(['amount_pence', 'supplier', 'paid_on', 'spend_imports.partner_id'])
        .where('file_name', '=', path.basename(FILES[0].file))
        .where('line', '=', 3)
        .executeTakeFirstOrThrow(),
    );
    // 7956.420000000001 → 795,642p; the body column "Devon County Council" names the partner.
    assert.deepEqual(
      { ...line, partner_id: line.partner_id !== null },
      { amount_pence: 795642, supplier: 'DATASHARP UK LTD', paid_on: '2017-10-02', partner_id: true },
    );
    const reject = await inPlace(db, placeId, (tx) =>
      tx
        .selectFrom('spend_exclusions')
        .select(['kind', 'reason', 'raw'])
        .where('line', '=', 19)
        .where('kind', '=', 'unreadable')
        .executeTakeFirstOrThrow(),
    );
    assert.match(reject.reason, /25\/06\/2012900" has the amount run into it/);
    assert.match(reject.raw, /A A GuestHouses/);
  });

  test('importing the same file twice adds nothing', async () => {
    const again = await importSpend(
      db,
      placeId,
      { fileName: 'renamed.csv', open: open(FILES[4].file), rejects: 'record' },
      null,
    );
    assert.equal(again.alreadyImported, true);
    assert.equal(again.added, 0);
    assert.equal(again.rows, 300);
    const count = await inPlace(db, placeId, (tx) =>
      tx
        .selectFrom('spend_imports')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    assert.equal(Number(count.n), 6);
  });

  test('a later file that repeats payments adds only the new ones, and counts a payment made twice twice', async () => {
    const other = await makePlace(db, 'overlap');
    const header = 'Date,Amount,Supplier,Transaction Number\n';
    const monthly = header + '01/04/2025,10.00,A Ltd,1\n02/04/2025,20.00,B Ltd,2\n02/04/2025,20.00,B Ltd,2\n';
    // The quarter repeats all three April lines (the same payment twice is two payments) and adds one.
    const quarterly = monthly + '01/05/2025,30.00,C Ltd,3\n';
    const first = await importSpend(
      db,
      other,
      { fileName: 'april.csv', open: bytesSource(utf8(monthly)), rejects: 'refuse' },
      null,
    );
    assert.equal(first.added, 3);
    const second = await importSpend(
      db,
      other,
      { fileName: 'q1.csv', open: bytesSource(utf8(quarterly)), rejects: 'refuse' },
      null,
    );
    assert.deepEqual([second.rows, second.added, second.totalPence], [4, 1, 8000]);
    const stored = await inPlace(db, other, (tx) =>
      tx
        .selectFrom('spend_lines')
        .select((eb) => eb.fn.sum<string>('amount_pence').as('sum'))
        .executeTakeFirstOrThrow(),
    );
    // 1000 + 2000 + 2000 + 3000: each payment once.
    assert.equal(Number(stored.sum), 8000);
  });

  test('the database keeps every line tied to its import: no line without one, no import deleted under its lines', async () => {
    const lineWithoutImport = inPlace(db, placeId, (tx) =>
      tx
        .insertInto('spend_lines')
        .values({
          place_id: placeId,
          import_id: 999_999,
          line: 2,
          row_key: 'orphan:1',
          paid_on: '2025-04-01',
          amount_pence: 100,
          supplier: 'X',
          transaction_id: '',
          body: '',
          expense_area: '',
          expense_type: '',
          account_code: '',
        })
        .execute(),
    );
    await assert.rejects(lineWithoutImport, /names an import that does not exist/);
    const deleteImport = inPlace(db, placeId, (tx) =>
      tx.deleteFrom('spend_imports').where('place_id', '=', placeId).execute(),
    );
    await assert.rejects(deleteImport, /this import has spend lines/);
  });

  test('refusing rejects leaves nothing behind (one transaction)', async () => {
    const other = await makePlace(db, 'lambeth');
    await assert.rejects(
      importSpend(db, other, { fileName: 'l.csv', open: open(FILES[5].file), rejects: 'refuse' }, null),
      /639 lines could not be read, so nothing was imported/,
    );
    const left = await inPlace(db, other, (tx) =>
      tx
        .selectFrom('spend_lines')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
    assert.equal(Number(left.n), 0);
  });

  test('placebudget spend import --json prints the summary; --dry-run imports nothing', async () => {
    await db.close();
    const file = FILES[3].file;
    const dry = await runCli(['spend', 'import', '--place', 'lambeth', file, '--dry-run', '--json'], db.env);
    assert.equal(dry.status, 0, dry.stderr);
    // 1,199 rows; line 1000 is VARIOUS; line 1204 is the empty trailing row.
    assert.deepEqual(JSON.parse(dry.stdout), {
      rows: 1199,
      rejected: 1,
      total_pence: 1335556648,
      excluded: [
        { line: 1000, reason: 'date is "VARIOUS": an aggregate of several payments, not one payment' },
        { line: 1204, reason: 'blank row' },
      ],
    });
    const missing = await runCli(
      ['spend', 'import', '--place', 'lambeth', file, '--profile', 'nope', '--json'],
      db.env,
    );
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no mapping profile called "nope"/);
    db = await db.reopen();
    const lines = await inPlace(
      db,
      (
        await db.kysely
          .selectFrom('places')
          .select('id')
          .where('slug', '=', 'lambeth')
          .executeTakeFirstOrThrow()
      ).id,
      (tx) =>
        tx
          .selectFrom('spend_lines')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow(),
    );
    assert.equal(Number(lines.n), 0);
  });

  test('placebudget services import reads an Open Referral UK file into the map, and export writes it back', async () => {
    await db.close();
    const file = SYNTHETIC_FIXTURES.serviceDirectory;
    const imported = await runCli(['services', 'import', '--place', 'lambeth', file, '--json'], db.env);
    assert.equal(imported.status, 0, imported.stderr);
    assert.deepEqual(JSON.parse(imported.stdout), { added: 738, updated: 0 });
    const notJson = await runCli(['services', 'import', '--place', 'lambeth', FILES[3].file], db.env);
    assert.equal(notJson.status, 2);
    assert.match(notJson.stderr, /is not readable JSON/);
    const exported = await runCli(['services', 'export', '--place', 'lambeth', '--format', 'oruk'], db.env);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).length, 738);
    db = await db.reopen();
  });
});
