/**
 * The service map and the spend import wizard in Chromium: an admin adds a service with a cost
 * and sees it on the map (chart and table), then uploads Lambeth's real spend file, sees the
 * rejected lines by number, imports the readable rows and reads the result. axe-core checks
 * every page.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { SPEND_FIXTURES, SYNTHETIC_FIXTURES } from '../test/fixtures.ts';
import { DESKTOP, problemsIn, seriousAxeViolations, signIn, useProduct } from './support.ts';

const product = useProduct();
const LAMBETH = SPEND_FIXTURES.lambeth2012;
const DIRECTORY = SYNTHETIC_FIXTURES.serviceDirectory;

async function assertAccessible(page: Page, name: string) {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(problemsIn(page), [], `script errors or CSP violations on ${name}`);
}

test('an admin maps a service and imports a spend file', async (t) => {
  const page = await product.newPage(DESKTOP);
  await page.goto('/');
  await signIn(page, product.server.demo);

  await t.test(
    'reaches the service map from the place overview and adds a service with its cost',
    async () => {
      // Each page finishes loading (its favicon too) before the next click, or the load shows as aborted:
      // the favicon comes after the load event, so wait for the network to go quiet on the new page.
      await page.waitForLoadState('networkidle');
      await page.getByRole('link', { name: 'Essex', exact: true }).click();
      await page.waitForURL('**/places/essex', { waitUntil: 'networkidle' });
      await page.getByRole('link', { name: 'Service map' }).click();
      await page.getByRole('heading', { name: 'Service map', level: 1 }).waitFor();
      await assertAccessible(page, 'service map (demo)');
      const before = await page.getByTestId('services-table').locator('tbody tr').count();
      await page.getByRole('button', { name: 'Add a service' }).click();
      await page.getByRole('button', { name: 'Add service' }).click();
      await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
      await assertAccessible(page, 'add a service (errors)');
      await page.getByLabel('Service name').fill('Family intervention');
      await page.getByLabel('Client group').fill('Families with complex needs');
      await page.getByLabel('Outcome area').fill('Reduce offending');
      await page.getByRole('button', { name: 'Add service' }).click();
      await page.getByRole('heading', { name: 'Family intervention', level: 1 }).waitFor();
      await page.getByLabel('Funding partner').selectOption({ index: 0 });
      await page.getByLabel('Financial year it starts in').fill('2012');
      await page.getByLabel('Annual cost').fill('250,000');
      await page.getByRole('button', { name: 'Record cost' }).click();
      await assertAccessible(page, 'service detail');
      await page.getByRole('link', { name: 'Back to the service map' }).click();
      assert.equal(await page.getByTestId('services-table').locator('tbody tr').count(), before + 1);
      const figure = page.locator('figure.pb-figure');
      assert.equal(await figure.locator('svg').count(), 1, 'one SVG chart');
      assert.equal(await figure.locator('table').count(), 1, 'the chart has its data table');
      await assertAccessible(page, 'service map');
    },
  );

  await t.test(
    'uploads a spend file, sees what was found and the rejected lines, imports the readable rows',
    async () => {
      await page.waitForLoadState('networkidle');
      await page.getByRole('link', { name: 'import a spend file' }).click();
      await assertAccessible(page, 'import: upload');
      await page.getByLabel('Spend file').setInputFiles(LAMBETH);
      await page.getByTestId('upload').click();
      await page.getByTestId('rejects-table').waitFor();
      assert.match((await page.getByTestId('preview-facts').textContent()) ?? '', /Line 10/);
      await assertAccessible(page, 'import: preview');
      await page.getByTestId('recheck').click();
      await page.getByTestId('commit').click();
      await page.getByRole('heading', { name: 'Spend imported' }).waitFor({ timeout: 60_000 });
      assert.ok((await page.getByTestId('excluded-table').locator('tbody tr').count()) > 600);
      await assertAccessible(page, 'import: result');
    },
  );

  await t.test(
    'imports an Open Referral UK directory: a broken file is refused, the real one lands',
    async () => {
      await page.goto('/places/essex/services', { waitUntil: 'networkidle' });
      await page.getByTestId('oruk-import-link').click();
      await page.getByRole('heading', { name: 'Import services from Open Referral UK' }).waitFor();
      await assertAccessible(page, 'ORUK import');
      await page.getByLabel('Open Referral UK services file').setInputFiles({
        name: 'broken.json',
        mimeType: 'application/json',
        buffer: Buffer.from('{"services": [{"id": '),
      });
      await page.getByTestId('import-oruk').click();
      await page.getByRole('heading', { name: 'There is a problem' }).waitFor();
      await assertAccessible(page, 'ORUK import (errors)');
      await page.getByLabel('Open Referral UK services file').setInputFiles(DIRECTORY);
      await page.getByTestId('import-oruk').click();
      assert.match(
        (await page.getByTestId('oruk-imported').textContent()) ?? '',
        /738 services added and 0 updated/,
      );
      await assertAccessible(page, 'ORUK import (done)');
    },
  );
});
