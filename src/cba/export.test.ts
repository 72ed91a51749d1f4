import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { parseBusinessCase, runModel } from './domain.ts';
import { workedExample } from './examples/index.ts';
import { resultsCsv } from './export.ts';
import { nationalUnitCost } from '../reference/figures.ts';

describe('the results CSV', () => {
  test('writes a hostile partner name as text, not a formula, and keeps money as numbers', () => {
    const example = workedExample() as { benefits: Record<string, unknown>[] };
    example.benefits[3]!.beneficiary = '=HYPERLINK("http://evil.example","Police")';
    const csv = resultsCsv(runModel(parseBusinessCase(example), nationalUnitCost));
    const rows: string[][] = parse(csv, { relax_column_count: true });
    const head = rows[0]!;
    assert.ok(head.includes(`'=HYPERLINK("http://evil.example","Police") cashable`));
    assert.ok(!rows.flat().some((cell) => /^[=+@\t\r]/.test(cell)));
    // Money and financial years are written as they were: "2014/15" and pounds with two decimals.
    assert.deepEqual(rows[1]!.slice(0, 2), ['1', '2014/15']);
    assert.match(rows[1]![3]!, /^\d+\.\d{2}$/);
  });
});
