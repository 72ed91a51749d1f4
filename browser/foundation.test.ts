/**
 * The foundation as a new user meets it in Chromium: sign in with the demo login the server
 * prints, find their places, open Essex, add a partner (and fail to, with an empty form), record a
 * decision, sign out; a member of another place gets 404 for Essex. axe-core checks every page.
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
  signOut,
  useProduct,
} from './support.ts';

const product = useProduct();

/** Every page a test visits is checked the same way: no serious or critical axe findings, no script errors. */
async function assertAccessible(page: Page, name: string) {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(problemsIn(page), [], `script errors or CSP violations on ${name}`);
}

async function partnerRows(page: Page) {
  return page.getByTestId('partners-table').locator('tbody tr').count();
}

// Both runs share one server, so each adds a partner of its own.
for (const [device, viewport, newPartner] of [
  ['desktop', DESKTOP, 'Chelmsford Citizens Advice'],
  ['phone', PHONE, 'Basildon Citizens Advice'],
] as const) {
  test(`a new user signs in, works in Essex and signs out (${device})`, async (t) => {
    const page = await product.newPage(viewport);

    await t.test('sign in with the demo login printed on start-up', async () => {
      await page.goto('/');
      assert.equal(new URL(page.url()).pathname, '/sign-in', 'signed-out visitors are sent to sign in');
      await assertAccessible(page, 'sign-in');
      await screenshot(page, `${device}-sign-in`);
      await signIn(page, product.server.demo);
      assert.equal(new URL(page.url()).pathname, '/');
    });

    await t.test('sees their places: the four whole places and the ten neighbourhoods', async () => {
      await page.getByRole('heading', { name: 'Your places', level: 1 }).waitFor();
      const lists = page.getByTestId('place-list');
      assert.equal(await lists.count(), 2);
      assert.equal(await lists.nth(0).locator('li').count(), 4, 'whole places');
      assert.equal(await lists.nth(1).locator('li').count(), 10, 'neighbourhoods');
      assert.ok(await page.getByRole('link', { name: 'Essex', exact: true }).isVisible());
      await assertAccessible(page, 'home');
      await screenshot(page, `${device}-home`);
    });

    let before = 0;
    await t.test('opens Essex: facts, partners table and the chart with its data table', async () => {
      await page.getByRole('link', { name: 'Essex', exact: true }).click();
      await page.getByRole('heading', { name: 'Essex', level: 1 }).waitFor();
      before = await partnerRows(page);
      assert.ok(before > 0, 'the demo gives Essex partners');
      const figure = page.locator('figure.pb-figure');
      assert.equal(await figure.locator('svg').count(), 1, 'one SVG chart');
      assert.equal(await figure.locator('table').count(), 1, 'the chart has its data table');
      await assertAccessible(page, 'place overview');
      await screenshot(page, `${device}-essex`);
    });

    await t.test('adds a partner through the form', async () => {
      await page.getByRole('button', { name: 'Add a partner' }).click();
      await page.getByRole('heading', { name: 'Add a partner' }).waitFor();
      await page.getByLabel('Partner name').fill(newPartner);
      await page.getByLabel('Voluntary and community', { exact: true }).check();
      await page.getByTestId('add-partner').click();
      await page.getByText('Partner added').waitFor();
      assert.equal(await partnerRows(page), before + 1);
      assert.ok(await page.getByTestId('partners-table').getByText(newPartner).isVisible());
    });

    await t.test(
      'submits the form empty: error summary with focus, field errors, nothing added',
      async () => {
        await page.getByRole('button', { name: 'Add a partner' }).click();
        await page.getByTestId('add-partner').click();
        const summary = page.locator('.govuk-error-summary');
        await summary.waitFor();
        assert.equal((await summary.getByRole('heading').textContent())?.trim(), 'There is a problem');
        assert.match(await page.title(), /^Error: /);
        // GOV.UK Frontend's script moves focus to the summary so screen readers announce it.
        await page.waitForFunction(() => document.activeElement?.classList.contains('govuk-error-summary'));
        const links = summary.getByRole('link');
        assert.deepEqual(
          await links.evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent?.trim()])),
          [
            ['#name', 'Enter the partner’s name'],
            ['#agency_type', 'Select the type of agency'],
          ],
        );
        assert.match((await page.locator('#name-error').textContent()) ?? '', /Enter the partner’s name/);
        assert.match(
          (await page.locator('#agency_type-error').textContent()) ?? '',
          /Select the type of agency/,
        );
        await assertAccessible(page, 'add partner with errors');
        await screenshot(page, `${device}-add-partner-errors`);
        await links.first().click();
        assert.equal(
          await page.evaluate(() => document.activeElement?.id),
          'name',
          'the summary link moves focus to the field',
        );

        await page.getByRole('link', { name: 'Back' }).click();
        await page.getByRole('heading', { name: 'Essex', level: 1 }).waitFor();
        assert.equal(await partnerRows(page), before + 1, 'the empty form added nothing');
      },
    );

    await t.test('opens the record-decision form', async () => {
      await page.getByRole('button', { name: 'Record a decision' }).click();
      await page.getByRole('heading', { name: 'Record a board decision' }).waitFor();
      await assertAccessible(page, 'record decision');
      await screenshot(page, `${device}-record-decision`);
    });

    await t.test('signs out', async () => {
      await signOut(page);
      await page.goto('/places/essex');
      assert.equal(new URL(page.url()).pathname, '/sign-in', 'the session has ended');
    });
    await page.context().close();
  });
}

test('a member of another place gets "Page not found" for Essex', async () => {
  const page = await product.newPage();
  // The demo resident belongs to Ilfracombe only; every demo person shares the printed password.
  await signIn(page, { email: 'resident@placebudget.example', password: product.server.demo.password });
  const response = await page.goto('/places/essex');
  assert.equal(response?.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  assert.equal(await page.getByText('Essex').count(), 0, 'nothing about Essex is shown');
  await assertAccessible(page, 'not found');
  await screenshot(page, 'desktop-not-found');
  await page.context().close();
});
