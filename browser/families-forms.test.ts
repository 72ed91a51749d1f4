/**
 * A key worker in Essex opens a family's record and logs an event against it in Chromium, meeting
 * the error summary on the way; axe-core checks each form, empty and with errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { problemsIn, screenshot, seriousAxeViolations, signIn, useProduct } from './support.ts';

const product = useProduct();

async function assertAccessible(page: Page, name: string) {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(problemsIn(page), [], `script errors or CSP violations on ${name}`);
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

test('a key worker opens a family’s record and logs an event', async (t) => {
  const page = await product.newPage();
  await signIn(page, { email: 'keyworker@placebudget.example', password: product.server.demo.password });

  await t.test('the create-family form shows every problem in the error summary', async () => {
    await page.goto('/places/essex/families');
    await page.getByRole('link', { name: 'Open a family’s record' }).click();
    await page.getByRole('heading', { name: 'Open a family’s record', level: 1 }).waitFor();
    await assertAccessible(page, 'create-family form');
    await page.getByLabel('Household name').fill('The Browser family');
    await page.locator('#member_2_date_of_birth').fill('30/02/2011');
    await page.getByTestId('create-family').click();
    const summary = page.locator('.govuk-error-summary');
    await summary.waitFor();
    assert.match((await summary.textContent()) ?? '', /Enter a reference of 3 to 30 letters/);
    assert.match((await summary.textContent()) ?? '', /Member 2: Enter the member’s name/);
    assert.equal(
      await page.getByLabel('Household name').inputValue(),
      'The Browser family',
      'what was typed is kept',
    );
    await assertAccessible(page, 'create-family form with errors');
    await screenshot(page, 'family-new-errors');
  });

  await t.test('a complete form opens the record', async () => {
    await page.getByLabel('Reference').fill('ESX-BROWSER-1');
    await page.getByLabel('Date taken on').fill(daysAgo(60));
    await page.locator('#member_1_name').fill('Robin Browser');
    await page.locator('#member_1_date_of_birth').fill('7 March 1985');
    await page.locator('#member_1_relationship').fill('parent');
    await page.locator('#member_2_date_of_birth').fill('');
    await page.getByTestId('create-family').click();
    await page.getByRole('heading', { name: 'The Browser family', level: 1 }).waitFor();
    assert.ok(await page.getByRole('cell', { name: 'Robin Browser' }).isVisible());
  });

  await t.test('the log-event form refuses a future date, then costs the event', async () => {
    await page.getByTestId('log-event-link').click();
    await page.getByRole('heading', { name: 'Log an event', level: 1 }).waitFor();
    await assertAccessible(page, 'log-event form');
    await page.getByLabel('Type of event').selectOption('police_callout');
    await page.getByLabel('Date').fill('2099-01-01');
    await page.getByTestId('log-event').click();
    await page.locator('.govuk-error-summary').waitFor();
    assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /cannot be in the future/);
    await assertAccessible(page, 'log-event form with errors');
    await screenshot(page, 'event-new-errors');
    await page.getByLabel('Date').fill(daysAgo(30));
    await page.getByLabel('How many').fill('2');
    await page.getByTestId('log-event').click();
    await page.getByRole('heading', { name: 'The Browser family', level: 1 }).waitFor();
    // 2 police call-outs at £500.00 each: the timeline's line, and the family's cost charged to the police.
    const callouts = page.getByRole('row').filter({ hasText: 'Police call-out' });
    assert.ok(await callouts.getByRole('cell', { name: '£1,000.00' }).isVisible());
    const byAgency = page.getByRole('table', { name: /by the agency that bears the cost/ });
    assert.ok(
      await byAgency
        .getByRole('row')
        .filter({ hasText: 'Police' })
        .getByRole('cell', { name: '£1,000.00' })
        .isVisible(),
    );
  });
});
