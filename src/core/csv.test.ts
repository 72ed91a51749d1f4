import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { csvCell, csvLine, neutraliseFormula, toCsv } from './csv.ts';

describe('the formula-injection rule', () => {
  it('puts a single quote before text starting with = + - @, a tab or a carriage return', () => {
    assert.equal(
      neutraliseFormula('=HYPERLINK("http://evil.example","click")'),
      `'=HYPERLINK("http://evil.example","click")`,
    );
    assert.equal(neutraliseFormula('+44 7700 900123'), `'+44 7700 900123`);
    assert.equal(neutraliseFormula("-2+3+cmd|' /C calc'!A0"), `'-2+3+cmd|' /C calc'!A0`);
    assert.equal(neutraliseFormula('@SUM(A1:A9)'), `'@SUM(A1:A9)`);
    assert.equal(neutraliseFormula('\t=1+1'), `'\t=1+1`);
    assert.equal(neutraliseFormula('\r=1+1'), `'\r=1+1`);
    assert.equal(neutraliseFormula('-'), `'-`);
    assert.equal(neutraliseFormula('-1+1'), `'-1+1`);
    assert.equal(neutraliseFormula('-£12.50x'), `'-£12.50x`);
  });

  it('leaves numbers, and text that is only a number or an amount, as they are', () => {
    assert.equal(neutraliseFormula(-12.5), '-12.5');
    assert.equal(neutraliseFormula(-1250n), '-1250');
    assert.equal(neutraliseFormula('-12.50'), '-12.50');
    assert.equal(neutraliseFormula('-1234'), '-1234');
    assert.equal(neutraliseFormula('-£1,234.56'), '-£1,234.56');
    assert.equal(neutraliseFormula('-1,234,567.00'), '-1,234,567.00');
  });

  it('leaves other text alone, and writes nothing for null', () => {
    assert.equal(neutraliseFormula('Family intervention project'), 'Family intervention project');
    assert.equal(neutraliseFormula("Women's refuge = safe"), "Women's refuge = safe");
    assert.equal(neutraliseFormula(null), '');
    assert.equal(neutraliseFormula(undefined), '');
  });
});

describe('the CSV writer', () => {
  it('quotes a cell holding the separator, a quote, a line break or space at either end', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell(' padded'), '" padded"');
    assert.equal(csvCell('a;b'), 'a;b');
    assert.equal(csvCell('a;b', ';'), '"a;b"');
    assert.equal(csvCell('=1,2'), `"'=1,2"`);
  });

  it('writes lines and files, CRLF by default', () => {
    assert.equal(csvLine(['x', 1, null, '-3.00']), 'x,1,,-3.00');
    assert.equal(csvLine(['x', 'y;z'], { separator: ';' }), 'x;"y;z"');
    assert.equal(
      toCsv([
        ['a', 'b'],
        [1, '=2'],
      ]),
      `a,b\r\n1,'=2\r\n`,
    );
    assert.equal(toCsv([['a']], { newline: '\n' }), 'a\n');
    assert.equal(toCsv([]), '');
  });

  it('re-parses to the same cells, with a quote added only where the rule says', () => {
    const cell = fc.oneof(
      fc.string(),
      fc.constantFrom('=1+1', '-12.50', '@x', '\t', ' a ', '"', ',', '\r\n'),
    );
    for (const separator of [',', ';']) {
      fc.assert(
        fc.property(
          fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 }),
          (rows) => {
            const parsed: string[][] = parse(toCsv(rows, { separator }), {
              delimiter: separator,
              relax_column_count: true,
            });
            assert.deepEqual(
              parsed,
              rows.map((row) => row.map(neutraliseFormula)),
            );
          },
        ),
      );
    }
  });

  it('never writes a cell a spreadsheet would run as a formula', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const out = neutraliseFormula(text);
        return !/^[=+\-@\t\r]/.test(out) || /^-£?[\d,]+(\.\d+)?$/.test(out);
      }),
    );
  });
});
