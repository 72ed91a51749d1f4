import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { engineName } from '../../test/db.ts';
import {
  makePerson,
  makePlace,
  requests,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { workedExample } from './examples/index.ts';

const example = workedExample();

describe(`cost-benefit pages (${engineName})`, () => {
  let t: TestApp;
  let analyst: SignedIn;
  let observer: SignedIn;
  before(async () => {
    t = await startTestApp();
    const place = await makePlace(t.db, 'cba-pages');
    analyst = await signInAs(t.db, await makePerson(t.db, 'analyst@cba-pages.test', [[place, 'analyst']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@cba-pages.test', [[place, 'observer']]));
  });
  after(() => t.close());

  const { page, form } = requests(() => t.app, { pages: '/places/cba-pages' });
  const revisionOf = (html: string) => /name="revision"[^>]*value="(\d+)"/.exec(html)![1]!;

  test('an analyst builds a case section by section without JavaScript, and reads its results', async () => {
    assert.match((await page('', analyst)).body, /href="\/places\/cba-pages\/cba"/);
    assert.match((await page('/cba', analyst)).body, /There are no business cases yet/);

    // Errors come back on the form, values kept, in the GOV.UK pattern.
    const bad = await form('/cba/business-cases', analyst, {
      title: '',
      price_year: '2013',
      first_year: '2014',
      years: '50',
      discount_rate: 'lots',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /There is a problem/);
    assert.match(bad.body, /href="#title"/);
    assert.match(bad.body, /href="#years">Must be between 1 and 30/);
    assert.match(bad.body, /Enter the discount rate as a percentage from 0 to 100/);
    assert.match(bad.body, /value="lots"/);

    const made = await form('/cba/business-cases', analyst, {
      title: 'Key workers',
      intervention: '500 families',
      price_year: '2013',
      first_year: '2014',
      years: '5',
      discount_rate: '3.5',
    });
    assert.equal(made.statusCode, 303, made.body);
    const caseUrl = made.headers.location as string;
    const id = caseUrl.split('/').pop();
    const overview = await t.app.inject({ url: caseUrl, headers: analyst.read });
    assert.match(overview.body, /govuk-task-list/);
    assert.match(overview.body, /Not started/);

    const costsPage = await page(`/cba/business-cases/${id}/costs`, analyst);
    const wrongYear = await form(`/cba/business-cases/${id}/costs`, analyst, {
      revision: revisionOf(costsPage.body),
      partner: 'Council',
      year: '9',
      amount: '250,000',
    });
    assert.match(wrongYear.body, /href="#year">Must be between 1 and 5/);
    for (const [partner, year, amount] of [
      ['Council', '1', '250,000.00'],
      ['Council', '2', '£250,000'],
      ['Police', '1', '50000'],
    ]) {
      const current = await page(`/cba/business-cases/${id}/costs`, analyst);
      const added = await form(`/cba/business-cases/${id}/costs`, analyst, {
        revision: revisionOf(current.body),
        partner: partner!,
        year: year!,
        amount: amount!,
      });
      assert.equal(added.statusCode, 303, added.body);
    }

    // The example's benefit lines typed in as percentages (its inline police figure recorded as a local cost first).
    const local = await form('/cba/unit-costs', analyst, {
      code: 'police_callout',
      outcome: 'Police call-out',
      unit: 'per incident',
      cost: '300.00',
      price_year: '2013',
      value_type: 'fiscal',
      agency: 'Police',
      cashable: 'no',
      source: 'Illustrative local estimate for the worked example, not a published figure',
      confidence: 'Illustrative',
    });
    assert.equal(local.statusCode, 303, local.body);
    for (const [n, b] of (example.benefits as Record<string, unknown>[]).entries()) {
      const blank = await page(`/cba/business-cases/${id}/benefits/${n + 1}`, analyst);
      assert.equal(blank.statusCode, 200);
      const pct = (v: unknown) => String((v as number) * 100);
      const saved = await form(`/cba/business-cases/${id}/benefits/${n + 1}`, analyst, {
        revision: revisionOf(blank.body),
        outcome: b.outcome as string,
        unit_cost: typeof b.unitCost === 'string' ? b.unitCost : 'police_callout',
        cohort: String(b.cohort),
        engagement: pct(b.engagement),
        success: pct(b.success),
        deadweight: pct(b.deadweight),
        confidence_grade: String(b.confidenceGrade),
        start_year: String(b.startYear),
        duration_years: String(b.durationYears),
        drop_off: pct(b.dropOff),
      });
      assert.equal(saved.statusCode, 303, saved.body);
    }

    const results = await page(`/cba/business-cases/${id}/results`, observer);
    assert.equal(results.statusCode, 200);
    // The README's worked example: the same NPBI as the JSON case run by the API.
    assert.match(results.body, /£526,613.46/);
    assert.match(results.body, /Data for: Fiscal benefits by agency and year/);
    assert.match(results.body, /Data for: Cumulative costs and fiscal benefits, present value: pays back/);
    assert.match(results.body, /<svg/);
    assert.match(results.body, /Break-even success rates/);
    assert.match(results.body, /Proposed investment agreement/);

    const xlsx = await t.app.inject({
      url: `/api/v1/places/cba-pages/cba/business-cases/${id}/results.xlsx`,
      headers: observer.read,
    });
    assert.equal(xlsx.statusCode, 200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    assert.deepEqual(
      book.worksheets.map((s) => s.name),
      ['Summary', 'Costs', 'Benefit lines', 'By year', 'Who benefits', 'Agreement', 'Sensitivity'],
    );
    const npbi = book.getWorksheet('Summary')!.getCell('B5');
    assert.equal(npbi.value, 526613.46);
    assert.match(npbi.numFmt, /£/);
    assert.equal(book.getWorksheet('Costs')!.getCell('C2').value, 250000);
    assert.match(book.getWorksheet('Costs')!.getCell('C2').numFmt, /£/);
  });

  test('a stale form is refused on the form, not saved over a newer revision', async () => {
    const made = await form('/cba/business-cases', analyst, {
      title: 'Race',
      price_year: '2013',
      first_year: '2014',
      years: '3',
      discount_rate: '3.5',
    });
    const id = (made.headers.location as string).split('/').pop();
    const costs = await page(`/cba/business-cases/${id}/costs`, analyst);
    assert.equal(costs.statusCode, 200, costs.body.slice(0, 3000));
    const opened = revisionOf(costs.body);
    assert.equal(
      (
        await form(`/cba/business-cases/${id}/costs`, analyst, {
          revision: opened,
          partner: 'Council',
          year: '1',
          amount: '10',
        })
      ).statusCode,
      303,
    );
    const stale = await form(`/cba/business-cases/${id}/costs`, analyst, {
      revision: opened,
      partner: 'Police',
      year: '1',
      amount: '10',
    });
    assert.equal(stale.statusCode, 400);
    assert.match(stale.body, /Someone else saved this business case/);
  });

  test('others read but cannot edit; the unit cost database is searchable and shows its sources', async () => {
    assert.equal((await page('/cba/new', observer)).statusCode, 403);
    assert.equal(
      (
        await form('/cba/business-cases', observer, {
          title: 'x',
          price_year: '2013',
          first_year: '2014',
          years: '3',
          discount_rate: '3.5',
        })
      ).statusCode,
      403,
    );
    const all = await page('/cba/unit-costs', observer);
    assert.equal(all.statusCode, 200);
    assert.doesNotMatch(all.body, /Add a local unit cost/);
    assert.match(all.body, /GDP deflators: /);
    assert.match(all.body, /Supporting public service transformation/);
    assert.match(all.body, /Events with no figure yet[\s\S]*<code>arrest<\/code>/);
    const burglary = await page('/cba/unit-costs?q=burglary', observer);
    assert.match(burglary.body, /Showing 1 of \d+ unit costs/);
    assert.match(burglary.body, /Police Activity Survey/);
    const found = await page('/cba/unit-costs?q=ambulance', observer);
    assert.match(found.body, /matching “ambulance”/);
    assert.doesNotMatch(found.body, /ae_attendance/);
    const bad = await form('/cba/unit-costs', analyst, { code: 'Bad Code', cost: 'abc', price_year: '1800' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#code"/);
    assert.match(bad.body, /href="#cost"/);
    assert.match(bad.body, /href="#cashable"/);
  });
});
