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

describe(`participatory budgeting API on ${engineName}`, () => {
  let t: TestApp;
  let admin: SignedIn;
  let residents: SignedIn[];
  let observer: SignedIn;

  before(async () => {
    t = await startTestApp();
    const place = await makeFundedNeighbourhood(t.db, 'poplar', 'Tower Hamlets Council', 50_000_00);
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@poplar.test', [[place, 'admin']]));
    residents = [];
    for (const name of ['ada', 'ben', 'cy'])
      residents.push(
        await signInAs(t.db, await makePerson(t.db, `${name}@poplar.test`, [[place, 'resident']])),
      );
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@poplar.test', [[place, 'observer']]));
  });
  after(() => t.close());

  const { api } = requests(() => t.app, { api: '/api/v1/places/poplar' });
  const settings = (year: number, extra: object) => ({
    year,
    title: `Poplar decides ${year}`,
    budget_pence: 10_000_00,
    proposals_from: `${year}-01-05`,
    review_from: `${year}-02-01`,
    voting_from: `${year}-03-01`,
    results_from: `${year}-03-29`,
    delivery_from: `${year}-04-06`,
    postcodes: ['E14 0'],
    min_age: 16,
    voters: 'accounts',
    ...extra,
  });

  /** Opens a process with three proposals on the ballot, and opens voting. */
  async function openVoting(
    year: number,
    extra: object,
    beforeVoting?: (id: number, ids: string[]) => Promise<void>,
  ) {
    const opened = await api('POST', '/pb/processes', admin, settings(year, extra));
    assert.equal(opened.statusCode, 201, opened.body);
    const id = opened.json().id as number;
    const ids: string[] = [];
    for (const [title, cost_pence] of [
      ['Lido repairs', 6_000_00],
      ['Canal clean-up', 3_000_00],
      ['Chess club', 1_000_00],
    ] as const) {
      const res = await api('POST', `/pb/processes/${id}/proposals`, residents[0]!, {
        title,
        description: `${title} in Poplar`,
        cost_pence,
        category: 'Leisure',
        location: 'Poplar',
      });
      assert.equal(res.statusCode, 201, res.body);
      const pid = res.json().id as number;
      assert.equal(
        (
          await api('POST', `/pb/processes/${id}/proposals/${pid}/moderation`, admin, {
            moderation: 'published',
          })
        ).statusCode,
        200,
      );
      assert.equal(
        (
          await api('POST', `/pb/processes/${id}/proposals/${pid}/review`, admin, {
            review: 'eligible',
            reason: 'Feasible',
          })
        ).statusCode,
        200,
      );
      ids.push(String(pid));
    }
    await beforeVoting?.(id, ids);
    for (const phase of ['review', 'voting'])
      assert.equal((await api('POST', `/pb/processes/${id}/phase`, admin, { phase })).statusCode, 200);
    return { id, ids };
  }

  it('refuses equal shares for a points ballot, and a resident may not open a process', async () => {
    const res = await api(
      'POST',
      '/pb/processes',
      admin,
      settings(2030, { ballot_kind: 'cumulative', ballot_limit: 10, rule: 'mes' }),
    );
    assert.equal(res.statusCode, 400);
    assert.match(res.json().fields.rule, /use greedy for ranked or points ballots/);
    assert.equal(
      (
        await api(
          'POST',
          '/pb/processes',
          residents[0]!,
          settings(2030, { ballot_kind: 'cumulative', ballot_limit: 10, rule: 'greedy' }),
        )
      ).statusCode,
      403,
    );
  });

  it('takes cumulative ballots within the points limit, keeps their content secret until the close, and counts points with greedy', async () => {
    const { id, ids } = await openVoting(2026, {
      ballot_kind: 'cumulative',
      ballot_limit: 10,
      rule: 'greedy',
    });
    const [lido, canal, chess] = ids as [string, string, string];
    const tooMany = await api('POST', `/pb/processes/${id}/ballots`, residents[0]!, {
      projects: [lido, canal],
      points: [6, 5],
      postcode: 'E14 0AB',
      of_age: true,
    });
    assert.equal(tooMany.statusCode, 400);
    assert.equal(tooMany.json().fields.projects, 'You can give 10 points in total; you gave 11');
    const young = await api('POST', `/pb/processes/${id}/ballots`, residents[0]!, {
      projects: [lido],
      points: [10],
      postcode: 'E14 0AB',
      of_age: false,
    });
    assert.match(young.json().fields.of_age, /aged 16 or over/);
    // Points: lido 6 + 0 + 2 = 8; canal 4 + 10 + 0 = 14; chess 0 + 0 + 8 = 8.
    for (const [who, projects, points] of [
      [0, [lido, canal], [6, 4]],
      [1, [canal], [10]],
      [2, [lido, chess], [2, 8]],
    ] as const) {
      const res = await api('POST', `/pb/processes/${id}/ballots`, residents[who]!, {
        projects,
        points,
        postcode: 'E14 0AB',
        of_age: true,
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    const during = (await api('GET', `/pb/processes/${id}`, observer)).json();
    assert.deepEqual(during.ballots, { total: 3, paper: 0 });
    assert.doesNotMatch(JSON.stringify(during), /points/);
    assert.equal((await api('POST', `/pb/processes/${id}/count`, admin)).statusCode, 409);

    assert.equal(
      (await api('POST', `/pb/processes/${id}/phase`, admin, { phase: 'results' })).statusCode,
      200,
    );
    const counted = await api('POST', `/pb/processes/${id}/count`, admin);
    assert.equal(counted.statusCode, 200, counted.body);
    // Canal (14 points, £3,000) first; lido and chess tie on 8: chess costs less, so it goes next (£1,000);
    // then the lido (£6,000) fits in the £6,000 left.
    assert.deepEqual(counted.json().winners, [canal, chess, lido]);
    assert.equal(counted.json().spent, 10_000_00);
    assert.equal((await api('GET', `/pb/processes/${id}/results`, observer)).statusCode, 404);
    assert.equal((await api('POST', `/pb/processes/${id}/publish`, admin)).statusCode, 200);
    const results = (await api('GET', `/pb/processes/${id}/results`, observer)).json();
    assert.deepEqual(
      results.funded.map((f: { position: number; amount_pence: number }) => [f.position, f.amount_pence]),
      [
        [1, 3_000_00],
        [2, 1_000_00],
        [3, 6_000_00],
      ],
    );
  });

  it('keeps one ballot per voter when the same resident votes ten times at once: each is taken, the last stands', async () => {
    const { id, ids } = await openVoting(2031, {
      ballot_kind: 'cumulative',
      ballot_limit: 10,
      rule: 'greedy',
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api('POST', `/pb/processes/${id}/ballots`, residents[0]!, {
          projects: [ids[i % ids.length]!],
          points: [10],
          postcode: 'E14 0AB',
          of_age: true,
        }),
      ),
    );
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      Array(10).fill(201),
    );
    assert.equal(
      responses.filter((r) => r.json().replaced === false).length,
      1,
      'exactly one was the first vote',
    );
    assert.deepEqual((await api('GET', `/pb/processes/${id}`, observer)).json().ballots, {
      total: 1,
      paper: 0,
    });
  });

  it('breaks a tie by the order the process set, instead of by cost', async () => {
    const { id, ids } = await openVoting(
      2029,
      { ballot_kind: 'cumulative', ballot_limit: 10, rule: 'greedy' },
      async (id, ids) => {
        assert.equal(
          (await api('POST', `/pb/processes/${id}/tie-order`, admin, { order: [Number(ids[0]), 99_999] }))
            .statusCode,
          400,
        );
        assert.equal(
          (await api('POST', `/pb/processes/${id}/tie-order`, admin, { order: [Number(ids[0])] })).statusCode,
          200,
        );
      },
    );
    const [lido, canal, chess] = ids as [string, string, string];
    assert.equal(
      (await api('POST', `/pb/processes/${id}/tie-order`, admin, { order: [] })).statusCode,
      409,
      'fixed once voting opens',
    );
    // The same points as above: lido and chess tie on 8, and now the lido comes first.
    for (const [who, projects, points] of [
      [0, [lido, canal], [6, 4]],
      [1, [canal], [10]],
      [2, [lido, chess], [2, 8]],
    ] as const)
      assert.equal(
        (
          await api('POST', `/pb/processes/${id}/ballots`, residents[who]!, {
            projects,
            points,
            postcode: 'E14 0AB',
            of_age: true,
          })
        ).statusCode,
        201,
      );
    assert.equal(
      (await api('POST', `/pb/processes/${id}/phase`, admin, { phase: 'results' })).statusCode,
      200,
    );
    assert.deepEqual((await api('POST', `/pb/processes/${id}/count`, admin)).json().winners, [
      canal,
      lido,
      chess,
    ]);
  });

  it('exports a process as .pb and imports it as a new process that counts the same', async () => {
    const processes = (await api('GET', '/pb/processes', admin)).json() as { id: number; year: number }[];
    const first = processes.find((p) => p.year === 2026)!;
    const file = (await api('GET', `/pb/processes/${first.id}/pabulib`, observer)).body;
    assert.match(file, /\nvote_type;cumulative\n/);
    // The same year again is refused; the file as another year is a new process in its results phase.
    const clash = await api('POST', '/pb/import', admin, { file });
    assert.equal(clash.statusCode, 400);
    assert.match(clash.json().fields.year, /already has a participatory budget for 2026/);
    const broken = await api('POST', '/pb/import', admin, {
      file: file.replace('\nvote_type;cumulative\n', '\nvote_type;sortition\n'),
    });
    assert.equal(broken.statusCode, 400);
    assert.match(broken.json().message, /^line \d+: vote_type must be one of/);
    const imported = await api('POST', '/pb/import', admin, {
      file: file.replace('\ninstance;2026\n', '\ninstance;2027\n'),
    });
    assert.equal(imported.statusCode, 201, imported.body);
    assert.equal(imported.json().phase, 'results');
    const counted = (await api('POST', `/pb/processes/${imported.json().id}/count`, admin)).json();
    const original = (await api('GET', `/pb/processes/${first.id}/results`, admin)).json().result;
    const titles = (r: { winners: string[]; projects: { id: string; title: string }[] }) =>
      r.winners.map((w) => r.projects.find((p) => p.id === w)!.title);
    assert.deepEqual(titles(counted), titles(original));
    assert.equal(counted.spent, original.spent);
  });

  it('takes ranked ballots on the vote page and refuses one rank given twice', async () => {
    const { id, ids } = await openVoting(2028, {
      ballot_kind: 'ordinal',
      ballot_limit: 2,
      rule: 'greedy',
      budget_pence: 5_000_00,
    });
    const form = (fields: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: `/places/poplar/pb/${id}/vote`,
        headers: residents[1]!.read,
        payload: { _csrf: residents[1]!.csrfToken, postcode: 'E14 0AB', of_age: 'yes', ...fields },
      });
    const twice = await form({ [`rank_${ids[0]}`]: '1', [`rank_${ids[1]}`]: '1' });
    assert.equal(twice.statusCode, 400);
    assert.match(twice.body, /Give each rank to one project only/);
    const page = await t.app.inject({
      method: 'GET',
      url: `/places/poplar/pb/${id}/vote`,
      headers: residents[1]!.read,
    });
    assert.match(
      page.body,
      new RegExp(`<select class="govuk-select" id="rank_${ids[0]}" name="rank_${ids[0]}"`),
    );
    assert.equal((await form({ [`rank_${ids[2]}`]: '1', [`rank_${ids[1]}`]: '2' })).statusCode, 303);
    const ballots = await t.db.kysely
      .selectFrom('pb_ballots')
      .select('projects')
      .where('process_id', '=', id)
      .execute();
    assert.deepEqual(ballots, [{ projects: [Number(ids[2]), Number(ids[1])] }]);
  });

  it('lets a resident without an account vote with their code at the address printed on the slip', async () => {
    // A process of access codes (since the 2026-12 review a process of accounts takes codes only on paper).
    let codes: string[] = [];
    const { id } = await openVoting(
      2037,
      { voters: 'codes', ballot_kind: 'ordinal', ballot_limit: 2, rule: 'greedy', budget_pence: 5_000_00 },
      async (processId) => {
        codes = (await api('POST', `/pb/processes/${processId}/access-codes`, admin, { count: 1 })).json()
          .codes;
      },
    );
    const sheet = await t.app.inject({
      method: 'POST',
      url: `/places/poplar/pb/${id}/access-codes`,
      headers: admin.read,
      payload: { _csrf: admin.csrfToken, count: '1' },
    });
    assert.match(sheet.body, new RegExp(`Vote at http://localhost(:\\d+)?/vote/${id} `));
    const { proposals } = (await api('GET', `/pb/processes/${id}`, admin)).json() as {
      proposals: { id: number }[];
    };
    const anonymous = (method: 'GET' | 'POST', payload?: object) =>
      t.app.inject({ method, url: `/vote/${id}`, ...(payload ? { payload } : {}) });
    const ballot = await anonymous('GET');
    assert.equal(ballot.statusCode, 200);
    assert.match(ballot.body, /id="code"/);
    const wrong = await anonymous('POST', {
      code: 'AAAA-BBBB-CCCC',
      [`rank_${proposals[0]!.id}`]: '1',
      postcode: 'E14 0AB',
      of_age: 'yes',
    });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /Enter the access code exactly as printed/);
    const done = await anonymous('POST', {
      code: codes[0]!,
      [`rank_${proposals[0]!.id}`]: '1',
      postcode: 'E14 0AB',
      of_age: 'yes',
    });
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, /Your vote has been recorded/);
    assert.deepEqual((await api('GET', `/pb/processes/${id}`, observer)).json().ballots, {
      total: 1,
      paper: 0,
    });
    // Outside voting the address answers nothing.
    assert.equal(
      (await api('POST', `/pb/processes/${id}/phase`, admin, { phase: 'results' })).statusCode,
      200,
    );
    assert.equal((await anonymous('GET')).statusCode, 404);
  });
});
