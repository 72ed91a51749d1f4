/**
 * A resident votes in Ilfracombe's participatory budget on a phone: from the place overview to
 * the open process, a vote refused for a postcode outside the neighbourhood (with the error
 * summary), then accepted; and the same vote again with JavaScript switched off. axe-core checks
 * the process, vote and results pages. Then staff set a new process's own tie-break order on its
 * form: positions given twice are refused with the error summary naming the project, then an order
 * is saved and the process page says so (the process and proposals are set up through the API).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { PHONE, problemsIn, screenshot, seriousAxeViolations, signIn, useProduct } from './support.ts';

const product = useProduct();
const resident = () => ({ email: 'resident@placebudget.example', password: product.server.demo.password });
const login = (who: string) => ({
  email: `${who}@placebudget.example`,
  password: product.server.demo.password,
});

async function assertAccessible(page: Page, name: string) {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  assert.deepEqual(problemsIn(page), [], `script errors or CSP violations on ${name}`);
}

async function vote(page: Page) {
  await page.getByRole('checkbox', { name: /Library storytime sessions/ }).check();
  await page.getByRole('checkbox', { name: /Wildflower verges/ }).check();
  await page.getByLabel('Postcode').fill('EX34 9QA');
  await page.getByRole('checkbox', { name: /aged 16 or over/ }).check();
  await page.getByRole('button', { name: 'Send my vote' }).click();
}

test('a resident votes on a phone, and votes again without JavaScript', async (t) => {
  const page = await product.newPage(PHONE);
  await signIn(page, resident());

  await t.test('finds the open process from the place overview', async () => {
    await page.goto('/places/ilfracombe');
    await page.getByRole('link', { name: 'Participatory budgeting' }).click();
    await page.getByRole('link', { name: 'Ilfracombe decides 2013' }).click();
    await page.getByRole('heading', { name: 'Ilfracombe decides 2013', level: 1 }).waitFor();
    assert.match(
      (await page.getByTestId('ballot-count').textContent()) ?? '',
      /40 ballots cast, 40 on paper/,
    );
    await assertAccessible(page, 'process');
    await screenshot(page, 'phone-pb-process');
  });

  await t.test(
    'is told what is wrong with a postcode outside the neighbourhood, with the choices kept',
    async () => {
      await page.getByRole('button', { name: 'Vote', exact: true }).click();
      await page.getByRole('heading', { name: 'Vote', level: 1 }).waitFor();
      await assertAccessible(page, 'vote');
      await page.getByRole('checkbox', { name: /Library storytime sessions/ }).check();
      await page.getByLabel('Postcode').fill('SW1A 1AA');
      await page.getByRole('checkbox', { name: /aged 16 or over/ }).check();
      await page.getByRole('button', { name: 'Send my vote' }).click();
      await page.locator('.govuk-error-summary').waitFor();
      assert.ok(await page.getByRole('checkbox', { name: /Library storytime sessions/ }).isChecked());
      await assertAccessible(page, 'vote with errors');
      await screenshot(page, 'phone-pb-vote-error');
      await page.getByRole('checkbox', { name: /Library storytime sessions/ }).uncheck();
      await vote(page);
      await page.getByText('Your vote has been recorded').waitFor();
      assert.match((await page.getByTestId('ballot-count').textContent()) ?? '', /41 ballots cast/);
    },
  );

  await t.test('votes again with JavaScript off: the new vote replaces the first', async () => {
    const context = await product.browser.newContext({
      baseURL: product.server.url,
      viewport: PHONE,
      javaScriptEnabled: false,
    });
    const plain = await context.newPage();
    await signIn(plain, resident());
    await plain.goto('/places/ilfracombe/pb');
    await plain.getByRole('link', { name: 'Ilfracombe decides 2013' }).click();
    await plain.getByRole('button', { name: 'Change your vote' }).click();
    await vote(plain);
    await plain.getByText('Your vote has been recorded').waitFor();
    assert.match((await plain.getByTestId('ballot-count').textContent()) ?? '', /41 ballots cast/);
    await context.close();
  });

  await t.test(
    'reads the published 2012 results: chart with its table and each project’s explanation',
    async () => {
      await page.goto('/places/ilfracombe/pb');
      await page.getByRole('link', { name: 'Ilfracombe decides 2012' }).click();
      await page.getByRole('link', { name: 'See the results' }).click();
      await page.getByRole('heading', { name: 'Results', level: 1 }).waitFor();
      const figure = page.locator('figure.pb-figure');
      assert.equal(await figure.locator('svg').count(), 1);
      assert.equal(await figure.locator('table').count(), 1);
      assert.equal(await page.getByTestId('explanations').locator('tbody tr').count(), 6);
      await assertAccessible(page, 'results');
      await screenshot(page, 'phone-pb-results');
    },
  );
});

/** Signs in through the API in the page's browser context; returns a poster to Ilfracombe's API with its CSRF token. */
async function apiSession(page: Page, who: string): Promise<(url: string, data: object) => Promise<unknown>> {
  const session = await page.request.post('/api/v1/session', { data: login(who) });
  assert.equal(session.status(), 201, await session.text());
  const { csrf_token } = (await session.json()) as { csrf_token: string };
  return async (url, data) => {
    const res = await page.request.post(`/api/v1/places/ilfracombe${url}`, {
      data,
      headers: { 'x-csrf-token': csrf_token },
    });
    assert.ok(res.ok(), `${url}: ${res.status()} ${await res.text()}`);
    return res.json();
  };
}

test('staff set the tie-break order of a process before voting', async () => {
  const staff = await product.newPage();
  const resident = await product.newPage();
  const asStaff = await apiSession(staff, 'admin');
  const asResident = await apiSession(resident, 'resident');
  const { id } = (await asStaff('/pb/processes', {
    year: 2014,
    title: 'Ilfracombe decides 2014',
    budget_pence: 100_00,
    proposals_from: '2014-05-01',
    review_from: '2014-06-14',
    voting_from: '2014-07-15',
    results_from: '2014-08-12',
    delivery_from: '2014-09-02',
    ballot_kind: 'approval_max',
    ballot_limit: 2,
    rule: 'greedy',
    postcodes: ['EX34 8'],
    min_age: 16,
    voters: 'accounts',
  })) as { id: number };
  for (const title of ['Harbour benches', 'Beach clean kits'])
    await asResident(`/pb/processes/${id}/proposals`, {
      title,
      description: `${title} for the town`,
      cost_pence: 50_00,
      category: 'Green spaces',
      location: 'The harbour',
    });

  // The API session's cookie signs the staff page in too.
  await staff.goto(`/places/ilfracombe/pb/${id}`);
  await staff.getByRole('link', { name: 'Change the tie-break order' }).click();
  await staff.getByRole('heading', { name: 'Tie-break order', level: 1 }).waitFor();
  await assertAccessible(staff, 'tie-break form');

  await staff.getByLabel('Tie-break position for Harbour benches').fill('1');
  await staff.getByLabel('Tie-break position for Beach clean kits').fill('1');
  await staff.getByRole('button', { name: 'Save the tie-break order' }).click();
  const summary = staff.locator('.govuk-error-summary');
  await summary.waitFor();
  assert.match(
    (await summary.textContent()) ?? '',
    /Beach clean kits has position 1, as Harbour benches does/,
  );
  await assertAccessible(staff, 'tie-break form with errors');
  await screenshot(staff, 'desktop-pb-tie-break-error');
  await summary.getByRole('link', { name: /Beach clean kits/ }).click();
  assert.ok(
    await staff
      .getByLabel('Tie-break position for Beach clean kits')
      .evaluate((el) => el === document.activeElement),
  );

  await staff.getByLabel('Tie-break position for Beach clean kits').fill('');
  await staff.getByRole('button', { name: 'Save the tie-break order' }).click();
  await staff.getByText('Tie-break order saved').waitFor();
  await staff.getByText(/Ties follow the order the process set/).waitFor();
  await assertAccessible(staff, 'process after saving');
});
