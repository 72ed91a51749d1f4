import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Invalid } from '../core/errors.ts';
import {
  detectColumns,
  examineFile,
  parseAmount,
  parseDate,
  summariseSpend,
  type Encoding,
} from './parse.ts';

async function* chunks(bytes: Uint8Array, size = 7) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('amounts to pence', () => {
  test('reads the forms councils publish, exactly', () => {
    // " 1,245.75 " → 124,575p; £25.00 → 2,500p; -£339.40 → -33,940p; 638 → 63,800p.
    assert.equal(parseAmount(' 1,245.75 '), 124575);
    assert.equal(parseAmount('£25.00'), 2500);
    assert.equal(parseAmount('-£339.40'), -33940);
    assert.equal(parseAmount('£-339.40'), -33940);
    assert.equal(parseAmount('(339.40)'), -33940);
    assert.equal(parseAmount('638'), 63800);
    // Binary float artefacts from Excel: the decimal string, not a double, decides.
    assert.equal(parseAmount('7956.420000000001'), 795642);
    assert.equal(parseAmount('73423.70999999999'), 7342371);
  });
  test('rounds half away from zero at the penny', () => {
    assert.equal(parseAmount('0.125'), 13);
    assert.equal(parseAmount('-0.125'), -13);
    assert.equal(parseAmount('0.1249999'), 12);
    assert.equal(parseAmount('-0.005'), -1);
  });
  test('refuses what is not money', () => {
    for (const bad of ['', 'VARIOUS', '1.2.3', '1,23', '£', '--5', '12e3', '99999999999999.00'])
      assert.equal(parseAmount(bad), null, bad);
  });
  test('round-trips any amount in pence through the ways files write it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -9_999_999_999_99, max: 9_999_999_999_99 }),
        fc.boolean(),
        fc.boolean(),
        (p, pound, grouped) => {
          const abs = Math.abs(p);
          const whole = String(Math.trunc(abs / 100));
          const text = `${grouped ? whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : whole}.${String(abs % 100).padStart(2, '0')}`;
          const written = `${p < 0 ? '-' : ''}${pound ? '£' : ''}${text}`;
          assert.equal(parseAmount(written), p);
          assert.equal(parseAmount(` "${written}" `.replaceAll('"', '')), p);
        },
      ),
    );
  });
});

describe('dates', () => {
  test('reads ISO date-times, day-first UK dates and Oracle dates', () => {
    assert.equal(parseDate('2017-10-02 00:00:00'), '2017-10-02');
    assert.equal(parseDate('02/03/2026'), '2026-03-02');
    assert.equal(parseDate('01-JUN-2012'), '2012-06-01');
    assert.equal(parseDate('31/02/2026'), null);
    assert.equal(parseDate('00:00:00'), null);
    assert.equal(parseDate('25/06/2012900'), null);
  });
});

describe('columns by header name', () => {
  test('finds roles whatever the spacing and case, preferring the body’s name to its code', () => {
    const headers = [
      'Body',
      'Name of  Body',
      'Date',
      'Transaction number',
      ' Amount ',
      'Supplier name',
      'Expense area',
      'Expense type',
      'Expense code',
    ];
    assert.deepEqual(detectColumns(headers), {
      date: 2,
      amount: 4,
      supplier: 5,
      transaction_id: 3,
      body: 1,
      expense_area: 6,
      expense_type: 7,
      account_code: 8,
    });
  });
  test('a profile names a column the built-in names would not find', () => {
    assert.equal(
      detectColumns(['When', 'Cost', 'Payee'], { columns: { date: 'When', amount: 'Cost' } }).amount,
      1,
    );
  });
});

async function summarise(text: string, encoding: Encoding = 'utf-8') {
  return summariseSpend(chunks(utf8(text)), { encoding });
}

describe('files', () => {
  test('finds the header below a banner, merges a two-row header, and leaves out totals and blank rows with reasons', async () => {
    const file =
      'Council report,,\n,,\nTransaction,Supplier,Net,Date\nNumber,,Amount,\n1,A Ltd,£10.00,01/04/2025\n,,,\n2,B Ltd,-£2.50,02/04/2025\nTotal,,£7.50,\n';
    const s = await summarise(file);
    assert.equal(s.layout.headerLine, 4);
    assert.deepEqual(s.layout.headers, ['Transaction Number', 'Supplier', 'Net Amount', 'Date']);
    // 1000p - 250p = 750p; the totals row agrees with it.
    assert.equal(s.rows, 2);
    assert.equal(s.totalPence, 750);
    assert.deepEqual(
      s.excluded.map((e) => [e.line, e.kind, e.reason]),
      [
        [6, 'blank', 'blank row'],
        [8, 'totals', 'totals row (£7.50; which equals the sum of the rows above)'],
      ],
    );
  });
  test('a file with no recognisable header is refused with a clear reason', async () => {
    await assert.rejects(
      summarise('a,b,c\n1,2,3\n'),
      (err) => err instanceof Invalid && /Could not find the header row/.test(err.message),
    );
  });
  test('detects encodings: BOM, plain UTF-8, and Windows-1252 (£ as 0xA3)', async () => {
    assert.equal((await examineFile(chunks(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])))).encoding, 'utf-8-bom');
    assert.equal((await examineFile(chunks(utf8('£5')))).encoding, 'utf-8');
    assert.equal((await examineFile(chunks(new Uint8Array([0xa3, 0x35])))).encoding, 'windows-1252');
    const pound = await summariseSpend(
      chunks(
        new Uint8Array([...utf8('Date,Amount,Supplier\n01/04/2025,'), 0xa3, ...utf8('5.00,Caf'), 0xe9, 0x0a]),
      ),
      { encoding: 'windows-1252' },
    );
    assert.equal(pound.totalPence, 500);
  });
});

describe('line numbers', () => {
  test('a quoted field across lines moves the numbering on; CRLF, LF and CR files number alike', async () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      const file = [
        'Date,Amount,Supplier',
        '01/04/2025,1.00,"A',
        'B"',
        '02/04/2025,x,C',
        '03/04/2025,2.00,D',
        '',
      ].join(eol);
      const s = await summariseSpend(chunks(utf8(file), 5), { encoding: 'utf-8' });
      assert.equal(s.rows, 2, JSON.stringify(eol));
      assert.deepEqual(
        s.excluded.map((e) => [e.line, e.reason]),
        [[4, 'amount "x" is not an amount of money']],
      );
    }
  });
  test('a quote never closed is reported where it opens, with the lines it swallowed', async () => {
    const file = 'Date,Amount,Supplier\n01/04/2025,1.00,A\n02/04/2025,2.00,"B\n03/04/2025,3.00,C\n';
    const s = await summarise(file);
    assert.equal(s.rows, 1);
    assert.deepEqual(
      s.excluded.map((e) => [e.line, e.kind, e.reason]),
      [[3, 'unreadable', 'not readable as CSV: Quoted field unterminated (lines 3 to 4)']],
    );
  });
  test('past 64 KiB an unclosed quote is given up on: one exclusion covers the lines to the end', async () => {
    const tail = Array.from(
      { length: 3000 },
      (_, i) => `04/04/2025,${i}.00,Supplier with a long name ${i}`,
    ).join('\n');
    const file = `Date,Amount,Supplier\n01/04/2025,1.00,A\n02/04/2025,2.00,"B\n${tail}\n`;
    const s = await summariseSpend(chunks(utf8(file), 4096), { encoding: 'utf-8' });
    assert.equal(s.rows, 1);
    assert.equal(s.excluded.length, 1);
    // The quote opens on line 3; 3,000 lines follow it, the last ending in a line break.
    assert.equal(s.excluded[0]!.line, 3);
    assert.match(
      s.excluded[0]!.reason,
      /not closed within 65,536 characters, so lines 3 to 3003 could not be read/,
    );
  });
});

describe('arbitrary input (fuzz)', () => {
  const header = 'Date,Amount,Supplier\n';
  test('arbitrary bytes never crash the parser: it reads the file or refuses it with Invalid', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (bytes, withHeader) => {
        const input = withHeader ? new Uint8Array([...utf8(header), ...bytes]) : bytes;
        const facts = await examineFile(chunks(input, 13));
        try {
          const s = await summariseSpend(chunks(input, 13), { encoding: facts.encoding });
          assert.ok(Number.isSafeInteger(s.totalPence));
          assert.ok(s.rows >= 0 && s.excluded.every((e) => e.line >= 0 && e.reason.length > 0));
        } catch (err) {
          assert.ok(err instanceof Invalid, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
  test('every data line is either a row or an exclusion, never lost, whatever the chunking', async () => {
    const line = fc.oneof(
      fc
        .tuple(fc.integer({ min: 1, max: 28 }), fc.integer({ min: -99999, max: 99999 }))
        .map(([d, p]) => `${String(d).padStart(2, '0')}/05/2024,${(p / 100).toFixed(2)},X`),
      // Junk of at least one character: csv-parse drops a wholly empty last line, which loses nothing.
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.replace(/[\r\n"]/g, '_')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        async (lines, size) => {
          const s = await summariseSpend(chunks(utf8(header + lines.join('\n') + '\n'), size), {
            encoding: 'utf-8',
          });
          assert.equal(s.rows + s.excluded.length, lines.length);
          // Every row's amount is one the line wrote, so the total is their sum to the penny.
          const written = lines
            .filter((l) => /^\d\d\/05\/2024,/.test(l))
            .reduce((sum, l) => sum + Math.round(Number(l.split(',')[1]) * 100), 0);
          assert.equal(s.totalPence, written);
        },
      ),
      { numRuns: 200 },
    );
  });
});
