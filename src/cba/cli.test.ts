import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../../test/cli.ts';

describe('placebudget cba', () => {
  test('cba run MODEL.json --json prints the results of the example business case without a database', async () => {
    const out = await runCli(['cba', 'run', 'src/cba/examples/key-worker-500-families.json', '--json'], {});
    assert.equal(out.status, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    // The README's worked example: NPBI £526,613.46, payback in year 3
    assert.equal(r.net_present_budget_impact_pence, 52661346);
    assert.equal(r.payback_year, 3);
  });

  test('cba run exits 2 with the field paths when the business case is invalid', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cba-')), 'bad.json');
    fs.writeFileSync(
      file,
      JSON.stringify({ title: 'x', priceYear: 2013, firstYear: 2014, years: 0, costs: [], benefits: [] }),
    );
    const out = await runCli(['cba', 'run', file, '--json'], {});
    assert.equal(out.status, 2);
    assert.match(out.stderr, /years: Must be between 1 and 30/);
  });

  test('cba unit-costs --json lists the national database with each source', async () => {
    const out = await runCli(['cba', 'unit-costs', '--json', '--price-year', '2013'], {});
    assert.equal(out.status, 0, out.stderr);
    const rows = JSON.parse(out.stdout) as {
      code: string;
      cost_in_price_year_pence: number;
      source: string;
    }[];
    const ae = rows.find((r) => r.code === 'ae_attendance');
    assert.equal(ae?.cost_in_price_year_pence, 11400);
    assert.ok(rows.every((r) => r.source.length > 20));
  });
});
