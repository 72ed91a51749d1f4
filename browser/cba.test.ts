/**
 * Business cases as the demo analyst meets them in Chromium: from Essex to its business cases,
 * the task-list editor, a benefit line with an error, the results with both charts and their
 * tables, and the unit cost database. axe-core checks every page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  DESKTOP,
  PHONE,
  problemsIn,
  screenshot,
  seriousAxeViolations,
  signIn,
  useProduct,
} from './support.ts';

const product = useProduct();

async function assertAccessible(page: Page, name: string) {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(problemsIn(page), [], `script errors or CSP violations on ${name}`);
}

for (const [device, viewport] of [
  ['desktop', DESKTOP],
  ['phone', PHONE],
] as const) {
  test(`the analyst reads and edits a business case (${device})`, async (t) => {
    const page = await product.newPage(viewport);
    await signIn(page, { email: 'analyst@placebudget.example', password: product.server.demo.password });

    await t.test('finds business cases from the place overview', async () => {
      await page.goto('/places/essex');
      await page.getByRole('link', { name: 'Business cases' }).click();
      await page.getByRole('heading', { name: 'Business cases', level: 1 }).waitFor();
      await assertAccessible(page, 'business cases');
      await page.getByRole('link', { name: 'Key-worker support for 500 families' }).first().click();
      await page.locator('.govuk-task-list').waitFor();
      await assertAccessible(page, 'task list');
      await screenshot(page, `${device}-cba-case`);
    });

    await t.test('a benefit line with a bad percentage comes back with the error summary', async () => {
      await page.getByRole('link', { name: 'Benefit lines' }).click();
      await page.getByRole('link', { name: 'Change benefit line 1' }).click();
      await page.getByLabel('Success (impact)').fill('150');
      await page.getByRole('button', { name: 'Save the benefit line' }).click();
      const summary = page.locator('.govuk-error-summary');
      await summary.waitFor();
      assert.match(
        (await summary.textContent()) ?? '',
        /Enter the success rate as a percentage from 0 to 100/,
      );
      await assertAccessible(page, 'benefit line with an error');
    });

    await t.test('the results: both charts with their tables, and the measures', async () => {
      await page.goto(new URL(page.url()).pathname.replace(/\/benefits\/1$/, '/results'));
      await page.getByRole('heading', { name: 'Results', level: 1 }).waitFor();
      const figures = page.locator('figure.pb-figure');
      assert.equal(await figures.count(), 2);
      for (let i = 0; i < 2; i++) assert.equal(await figures.nth(i).locator('table').count(), 1);
      assert.match((await page.getByTestId('headline').textContent()) ?? '', /£526,613\.46/);
      await assertAccessible(page, 'results');
      await screenshot(page, `${device}-cba-results`);
    });

    await t.test('the unit cost database, searched', async () => {
      await page.goto('/places/essex/cba/unit-costs');
      await page.getByLabel('Search by outcome, code, agency or source').fill('burglary');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText(/Showing 1 of \d+ unit costs/).waitFor();
      await assertAccessible(page, 'unit costs');
      await screenshot(page, `${device}-cba-unit-costs`);
    });
  });
}
