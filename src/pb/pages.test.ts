import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import {
  makeFundedNeighbourhood,
  makePerson,
  requests,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';

describe(`participatory budgeting pages and API on ${engineName}`, () => {
  let t: TestApp;
  let admin: SignedIn;
  let resident: SignedIn;
  let neighbour: SignedIn;
  let observer: SignedIn;

  before(async () => {
    t = await startTestApp();
    const place = await makeFundedNeighbourhood(
      t.db,
      'white-city',
      'Hammersmith & Fulham Council',
      20_000_00,
    );
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@wc.test', [[place, 'admin']]));
    resident = await signInAs(t.db, await makePerson(t.db, 'resident@wc.test', [[place, 'resident']]));
    neighbour = await signInAs(t.db, await makePerson(t.db, 'neighbour@wc.test', [[place, 'resident']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@wc.test', [[place, 'observer']]));
  });
  after(() => t.close());

  const { form, page, api } = requests(() => t.app, {
    pages: '/places/white-city',
    api: '/api/v1/places/white-city',
  });
  /** Staff publish proposals through the moderation form; each is answered with a redirect. */
  const publish = async (processId: number | string, proposalIds: string[]) => {
    for (const proposalId of proposalIds) {
      const published = await form(`/pb/${processId}/proposals/${proposalId}/moderation`, admin, {
        moderation: 'published',
        note: '',
      });
      assert.equal(published.statusCode, 303);
    }
  };

  const processForm = {
    title: 'White City decides 2026',
    year: '2026',
    budget: '10,000.00',
    proposals_from: '2026-01-05',
    review_from: '2026-02-01',
    voting_from: '2026-03-01',
    results_from: '2026-03-29',
    delivery_from: '2026-04-06',
    ballot_kind: 'approval_max',
    ballot_limit: '2',
    rule: 'mes',
    utility: 'cost',
    postcodes: 'W12 7, W12 0',
    min_age: '16',
    voters: 'accounts',
  };

  it('refuses a budget larger than the pot on the form, against the budget field, keeping what was typed', async () => {
    const res = await form('/pb', admin, { ...processForm, budget: '25,000.00', review_from: '2025-12-01' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /There is a problem/);
    assert.match(res.body, /href="#review_from"/);
    const again = await form('/pb', admin, { ...processForm, budget: '25,000.00' });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /The budget is more than the £20,000.00 available in the neighbourhood pot/);
    assert.match(again.body, /value="White City decides 2026"/);
  });

  it('runs a process through the pages: propose, moderate and review, vote, paper ballot, count, publish, results', async () => {
    const opened = await form('/pb', admin, processForm);
    assert.equal(opened.statusCode, 303, opened.body);
    const url = opened.headers.location as string;
    const id = url.split('/').at(-1)!;
    assert.equal(url, `/places/white-city/pb/${id}`);
    assert.equal((await form('/pb', resident, processForm)).statusCode, 403);

    // A resident proposes; an empty cost is reported against its field.
    const bad = await form(`/pb/${id}/propose`, resident, {
      title: 'Benches',
      description: 'Six benches',
      cost: '',
      category: 'Green spaces',
      location: 'Wormholt Park',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#cost"/);
    for (const [title, cost] of [
      ['Benches', '3,000'],
      ['Play area', '6,000'],
      ['Bulb planting', '2,000'],
    ] as const) {
      const res = await form(`/pb/${id}/propose`, resident, {
        title,
        description: `${title} for the estate`,
        cost,
        category: 'Green spaces',
        location: 'Wormholt Park',
        group_name: 'Friends of Wormholt Park',
      });
      assert.equal(res.statusCode, 303, res.body);
    }
    const { proposals } = (await api('GET', `/pb/processes/${id}`, admin)).json() as {
      proposals: { id: number; title: string }[];
    };
    const idOf = (title: string) => String(proposals.find((p) => p.title === title)!.id);
    // Until it is published, another resident does not see a proposal.
    assert.doesNotMatch((await page(`/pb/${id}`, neighbour)).body, /Bulb planting/);

    await publish(id, ['Benches', 'Play area', 'Bulb planting'].map(idOf));
    const hideWithoutReason = await form(`/pb/${id}/proposals/${idOf('Bulb planting')}/moderation`, admin, {
      moderation: 'hidden',
      note: '',
    });
    assert.equal(hideWithoutReason.statusCode, 400);
    assert.match(hideWithoutReason.body, /Enter why the proposal is hidden/);
    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'review' })).statusCode, 303);
    const review = (title: string, fields: Record<string, string>) =>
      form(`/pb/${id}/proposals/${idOf(title)}/review`, admin, {
        reason: 'Feasible on council land',
        council_cost: '',
        cost_note: '',
        ...fields,
      });
    assert.equal((await review('Benches', { review: 'eligible' })).statusCode, 303);
    const noNote = await review('Play area', { review: 'eligible', council_cost: '5,000' });
    assert.equal(noNote.statusCode, 400);
    assert.match(noNote.body, /href="#cost_note"/);
    assert.equal(
      (
        await review('Play area', {
          review: 'eligible',
          council_cost: '5,000',
          cost_note: 'Our framework contract is cheaper',
        })
      ).statusCode,
      303,
    );
    assert.equal(
      (await review('Bulb planting', { review: 'ineligible', reason: 'The park is relandscaped next year' }))
        .statusCode,
      303,
    );
    const process = await page(`/pb/${id}`, neighbour);
    assert.match(
      process.body,
      /£5,000.00 \(the council’s estimate, proposed at £6,000.00: Our framework contract is cheaper\)/,
    );
    assert.match(process.body, /Not eligible. The park is relandscaped next year/);

    const codes = await form(`/pb/${id}/access-codes`, admin, { count: '2' });
    assert.equal(codes.statusCode, 200);
    const printed = [...codes.body.matchAll(/<strong class="pb-code">([A-Z2-9-]+)<\/strong>/g)].map(
      (m) => m[1]!,
    );
    assert.equal(printed.length, 2);

    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'voting' })).statusCode, 303);
    const ballot = await page(`/pb/${id}/vote`, resident);
    assert.equal(ballot.statusCode, 200);
    assert.match(ballot.body, /type="checkbox"/);
    assert.doesNotMatch(ballot.body, /Bulb planting/);
    assert.equal((await page(`/pb/${id}/vote`, observer)).statusCode, 403);
    const outside = await form(`/pb/${id}/vote`, resident, {
      projects: [idOf('Benches')],
      postcode: 'SW1A 1AA',
      of_age: 'yes',
    });
    assert.equal(outside.statusCode, 400);
    assert.match(outside.body, /href="#postcode"/);
    assert.match(outside.body, /value="SW1A 1AA"/);
    assert.equal(
      (
        await form(`/pb/${id}/vote`, resident, {
          projects: [idOf('Play area')],
          postcode: 'W12 7PQ',
          of_age: 'yes',
        })
      ).statusCode,
      303,
    );
    // A revote replaces the first.
    assert.equal(
      (
        await form(`/pb/${id}/vote`, resident, {
          projects: [idOf('Benches'), idOf('Play area')],
          postcode: 'W12 7PQ',
          of_age: 'yes',
        })
      ).statusCode,
      303,
    );
    assert.equal(
      (
        await form(`/pb/${id}/vote`, neighbour, {
          projects: [idOf('Benches')],
          postcode: 'W12 0AB',
          of_age: 'yes',
        })
      ).statusCode,
      303,
    );
    const paper = await form(`/pb/${id}/paper-ballot`, admin, {
      code: printed[0]!,
      projects: [idOf('Play area')],
      postcode: 'W12 7AA',
      of_age: 'yes',
    });
    assert.equal(paper.statusCode, 303, paper.body);
    assert.equal(
      (
        await form(`/pb/${id}/paper-ballot`, resident, {
          code: printed[1]!,
          projects: [idOf('Play area')],
          postcode: 'W12 7AA',
          of_age: 'yes',
        })
      ).statusCode,
      403,
    );
    // Before the close only the number of ballots is public.
    const during = await page(`/pb/${id}`, observer);
    assert.match(during.body, /<strong>3<\/strong> ballots cast, 1 on paper/);
    assert.equal((await api('GET', `/pb/processes/${id}/results`, observer)).statusCode, 404);

    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'results' })).statusCode, 303);
    assert.equal((await form(`/pb/${id}/count`, admin, {})).statusCode, 303);
    assert.equal(
      (await page(`/pb/${id}/results`, observer)).statusCode,
      404,
      'not public before it is published',
    );
    const check = await page(`/pb/${id}/publish`, admin);
    assert.match(check.body, /Commitments publishing raises in the ledger/);
    assert.equal((await form(`/pb/${id}/publish`, admin, {})).statusCode, 303);

    // Votes: benches 2 (resident, neighbour), play area 2 (resident, paper). Equal shares: £10,000 over 3
    // voters is £3,333.33⅓ each. Benches (£3,000) cost £1,500 each of its 2 supporters, the play area
    // (£5,000) £2,500 each: benches first; then the play area's supporters have £1,833.33⅓ and £3,333.33⅓,
    // enough for £5,000 between them, so it is funded too: £8,000 spent.
    const results = await page(`/pb/${id}/results`, observer);
    assert.equal(results.statusCode, 200);
    assert.match(results.body, /£8,000.00 on 2 projects/);
    assert.match(
      results.body,
      /<ol class="govuk-list govuk-list--number" data-testid="winners">\s*<li>Benches – £3,000.00<\/li><li>Play area – £5,000.00<\/li>/,
    );
    assert.match(results.body, /<svg/);
    assert.match(results.body, /Data for: Votes for each project \(3 ballots\)/);
    assert.match(results.body, /Funded in round 1 of equal shares: 2 supporters paid £1,500.00 each/);
    const ledger = (await api('GET', '/ledger/balances', admin)).json() as {
      account: string;
      balance_pence: number;
    }[];
    assert.equal(ledger.find((b) => b.account === 'POT')!.balance_pence, 12_000_00);

    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'delivery' })).statusCode, 303);
    assert.equal(
      (
        await form(`/pb/${id}/funded/${idOf('Benches')}`, admin, {
          status: 'in_progress',
          spent: '1,000',
          note: 'Benches ordered',
        })
      ).statusCode,
      303,
    );
    // £3,000 committed to the benches, £1,000 spent: £2,500 more is refused against the spend field.
    const over = await form(`/pb/${id}/funded/${idOf('Benches')}`, admin, {
      status: 'completed',
      spent: '2,500',
      note: 'Final invoice',
    });
    assert.equal(over.statusCode, 400);
    assert.match(over.body, new RegExp(`href="#spent-${idOf('Benches')}"`));
    assert.match(over.body, /Enter at most £2,000.00, what is still outstanding/);
    assert.match(over.body, /Final invoice<\/textarea>/);
    const delivery = await page(`/pb/${id}/results`, resident);
    assert.match(delivery.body, /In progress, spent £1,000.00. Benches ordered/);
    const file = await page(`/pb/${id}/export.pb`, observer);
    assert.match(file.body, /^META\n/);
    assert.match(file.body, /\nvote_type;approval\n/);
  });

  it('sets the tie-break order on a form before voting, and the count follows it', async () => {
    const opened = await form('/pb', admin, {
      ...processForm,
      title: 'White City decides 2027',
      year: '2027',
      budget: '1,000.00',
      proposals_from: '2027-01-05',
      review_from: '2027-02-01',
      voting_from: '2027-03-01',
      results_from: '2027-03-29',
      delivery_from: '2027-04-06',
      rule: 'greedy',
    });
    assert.equal(opened.statusCode, 303, opened.body);
    const id = (opened.headers.location as string).split('/').at(-1)!;
    for (const title of ['Litter picks', 'Bird boxes', 'Mural']) {
      const res = await form(`/pb/${id}/propose`, resident, {
        title,
        description: `${title} for the estate`,
        cost: '1,000',
        category: 'Green spaces',
        location: 'Wormholt Park',
      });
      assert.equal(res.statusCode, 303, res.body);
    }
    const proposals = () =>
      api('GET', `/pb/processes/${id}`, admin).then(
        (res) => res.json() as { process: { tie_order: string }; proposals: { id: number; title: string }[] },
      );
    const { proposals: listed } = await proposals();
    const idOf = (title: string) => String(listed.find((p) => p.title === title)!.id);
    const [litter, birds, mural] = [idOf('Litter picks'), idOf('Bird boxes'), idOf('Mural')];
    const tieUrl = `/pb/${id}/tie-break`;
    const position = (body: string, proposal: string) =>
      new RegExp(`id="position-${proposal}" name="position-${proposal}"[^>]* value="([^"]*)"`).exec(
        body,
      )?.[1];

    // Staff find the form from the counting rule; residents neither see the link nor may use it.
    const processPage = await page(`/pb/${id}`, admin);
    assert.match(processPage.body, new RegExp(`href="/places/white-city/pb/${id}/tie-break"`));
    assert.doesNotMatch((await page(`/pb/${id}`, resident)).body, /tie-break"/);
    assert.equal((await page(tieUrl, resident)).statusCode, 403);
    assert.equal((await form(tieUrl, resident, { [`position-${birds}`]: '1' })).statusCode, 403);

    const blank = await page(tieUrl, admin);
    assert.equal(blank.statusCode, 200);
    assert.match(blank.body, /the count prefers the one listed first/);
    for (const p of [litter, birds, mural]) assert.equal(position(blank.body, p), '');
    assert.match(blank.body, /govuk-input--width-2/);

    // Each problem names its proposal and links to its input; nothing is saved.
    const twice = await form(tieUrl, admin, {
      [`position-${litter}`]: '1',
      [`position-${birds}`]: '1',
      [`position-${mural}`]: '',
    });
    assert.equal(twice.statusCode, 400);
    assert.match(twice.body, /There is a problem/);
    assert.match(
      twice.body,
      new RegExp(`href="#position-${birds}">Bird boxes has position 1, as Litter picks does`),
    );
    assert.equal(position(twice.body, birds), '1', 'what was typed is kept');
    const outOfRange = await form(tieUrl, admin, {
      [`position-${litter}`]: '4',
      [`position-${birds}`]: '0',
      [`position-${mural}`]: '1.5',
    });
    assert.equal(outOfRange.statusCode, 400);
    for (const [p, title] of [
      [litter, 'Litter picks'],
      [birds, 'Bird boxes'],
      [mural, 'Mural'],
    ])
      assert.match(
        outOfRange.body,
        new RegExp(`href="#position-${p}">Enter a tie-break position for ${title} from 1 to 3`),
      );
    assert.equal((await proposals()).process.tie_order, '');

    // Saved: the mural first, then the bird boxes; the litter picks follow by the default.
    const saved = await form(tieUrl, admin, {
      [`position-${litter}`]: '',
      [`position-${birds}`]: '3',
      [`position-${mural}`]: '1',
    });
    assert.equal(saved.statusCode, 303, saved.body);
    assert.equal(saved.headers.location, `/places/white-city/pb/${id}?tie-order=saved`);
    assert.equal((await proposals()).process.tie_order, `${mural},${birds}`);
    const banner = await page(`/pb/${id}?tie-order=saved`, admin);
    assert.match(banner.body, /Tie-break order saved/);
    assert.match(banner.body, /Ties follow the order the process set/);
    const again = await page(tieUrl, admin);
    assert.deepEqual(
      [litter, birds, mural].map((p) => position(again.body, p)),
      ['', '2', '1'],
    );

    // The default order clears it; then the bird boxes alone come first.
    assert.equal((await form(tieUrl, admin, { default: '1' })).statusCode, 303);
    assert.equal((await proposals()).process.tie_order, '');
    assert.match((await page(`/pb/${id}`, admin)).body, /Ties go to the project that costs less/);
    assert.equal((await form(tieUrl, admin, { [`position-${birds}`]: '1' })).statusCode, 303);

    // Once voting opens the order is fixed: the page says why, and the form is refused.
    await publish(id, ['Litter picks', 'Bird boxes', 'Mural'].map(idOf));
    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'review' })).statusCode, 303);
    assert.equal((await page(tieUrl, admin)).statusCode, 200, 'still open in review');
    for (const title of ['Litter picks', 'Bird boxes', 'Mural'])
      assert.equal(
        (
          await form(`/pb/${id}/proposals/${idOf(title)}/review`, admin, {
            review: 'eligible',
            reason: 'Feasible',
            council_cost: '',
            cost_note: '',
          })
        ).statusCode,
        303,
      );
    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'voting' })).statusCode, 303);
    const closed = await page(tieUrl, admin);
    assert.equal(closed.statusCode, 200);
    assert.match(closed.body, /You cannot change the tie-break in the voting phase/);
    assert.doesNotMatch(closed.body, /name="position-/);
    assert.doesNotMatch((await page(`/pb/${id}`, admin)).body, /tie-break"/);
    const refused = await form(tieUrl, admin, { [`position-${litter}`]: '1' });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /You cannot change the tie-break in the voting phase/);
    assert.equal((await form(tieUrl, admin, { default: '1' })).statusCode, 409);
    assert.equal((await proposals()).process.tie_order, birds);

    // All three tie on one vote at £1,000 for a £1,000 budget. By the default the litter picks (the
    // earliest proposal) would win; the bird boxes, first in the order, do.
    assert.equal(
      (
        await form(`/pb/${id}/vote`, neighbour, {
          projects: [litter, birds],
          postcode: 'W12 0AB',
          of_age: 'yes',
        })
      ).statusCode,
      303,
    );
    assert.equal(
      (await form(`/pb/${id}/vote`, resident, { projects: [mural], postcode: 'W12 7PQ', of_age: 'yes' }))
        .statusCode,
      303,
    );
    assert.equal((await form(`/pb/${id}/phase`, admin, { phase: 'results' })).statusCode, 303);
    assert.equal((await form(`/pb/${id}/count`, admin, {})).statusCode, 303);
    const results = await page(`/pb/${id}/results`, admin);
    assert.match(
      results.body,
      /<ol class="govuk-list govuk-list--number" data-testid="winners">\s*<li>Bird boxes – £1,000.00<\/li>\s*<\/ol>/,
    );
    assert.match((await page(tieUrl, admin)).body, /You cannot change the tie-break in the results phase/);
  });

  it('links to participatory budgeting from the place overview', async () => {
    const overview = await page('', resident);
    assert.match(overview.body, /href="\/places\/white-city\/pb"/);
  });
});
