/**
 * The participatory-budgeting findings of the December 2026 security review: ballot secrecy after
 * the close (H1), one person one vote across accounts, codes and paper (M2), and code voting at
 * `/vote/PROCESS` limited per code and per client instead of for the whole electorate (H6).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inPlace } from '../core/db.ts';
import { engineName } from '../../test/db.ts';
import {
  makeFundedNeighbourhood,
  makePerson,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';

describe(`participatory budgeting ballot security on ${engineName}`, () => {
  let t: TestApp;
  let placeId: number;
  let admin: SignedIn;
  let residents: SignedIn[];
  let residentIds: number[];

  before(async () => {
    t = await startTestApp();
    placeId = await makeFundedNeighbourhood(t.db, 'bow', 'Tower Hamlets Council', 80_000_00);
    admin = await signInAs(t.db, await makePerson(t.db, 'admin@bow.test', [[placeId, 'admin']]));
    residents = [];
    residentIds = [];
    for (const name of ['ada', 'ben', 'cy', 'dee']) {
      const id = await makePerson(t.db, `${name}@bow.test`, [[placeId, 'resident']]);
      residentIds.push(id);
      residents.push(await signInAs(t.db, id));
    }
  });
  after(() => t.close());

  const api = (method: 'GET' | 'POST', url: string, who: SignedIn, payload?: object) =>
    t.app.inject({
      method,
      url: `/api/v1/places/bow${url}`,
      headers: method === 'GET' ? who.read : who.write,
      ...(payload ? { payload } : {}),
    });

  /** A process with three projects on an approval ballot (one project each), open for voting. */
  async function openVoting(year: number, voters: 'accounts' | 'codes', codes = 0) {
    const opened = await api('POST', '/pb/processes', admin, {
      year,
      title: `Bow decides ${year}`,
      budget_pence: 10_000_00,
      proposals_from: `${year}-01-05`,
      review_from: `${year}-02-01`,
      voting_from: `${year}-03-01`,
      results_from: `${year}-03-29`,
      delivery_from: `${year}-04-06`,
      postcodes: ['E3 2'],
      min_age: 16,
      voters,
      ballot_kind: 'approval_max',
      ballot_limit: 1,
      rule: 'greedy',
    });
    assert.equal(opened.statusCode, 201, opened.body);
    const id = opened.json().id as number;
    const ids: string[] = [];
    for (const [title, cost_pence] of [
      ['Bench', 1_000_00],
      ['Orchard', 2_000_00],
      ['Mural', 3_000_00],
    ] as const) {
      const res = await api('POST', `/pb/processes/${id}/proposals`, residents[0]!, {
        title,
        description: `${title} in Bow`,
        cost_pence,
        category: 'Streets',
        location: 'Bow',
      });
      assert.equal(res.statusCode, 201, res.body);
      const pid = res.json().id as number;
      const mod = await api('POST', `/pb/processes/${id}/proposals/${pid}/moderation`, admin, {
        moderation: 'published',
      });
      assert.equal(mod.statusCode, 200, mod.body);
      const rev = await api('POST', `/pb/processes/${id}/proposals/${pid}/review`, admin, {
        review: 'eligible',
        reason: 'Feasible',
      });
      assert.equal(rev.statusCode, 200, rev.body);
      ids.push(String(pid));
    }
    let printed: string[] = [];
    if (codes) {
      const res = await api('POST', `/pb/processes/${id}/access-codes`, admin, { count: codes });
      assert.equal(res.statusCode, 201, res.body);
      printed = res.json().codes as string[];
    }
    for (const phase of ['review', 'voting'])
      assert.equal((await api('POST', `/pb/processes/${id}/phase`, admin, { phase })).statusCode, 200);
    return { id, ids, codes: printed };
  }

  const ballot = (project: string, extra: object = {}) => ({
    projects: [project],
    postcode: 'E3 2AB',
    of_age: true,
    ...extra,
  });
  const ballots = async (id: number) =>
    (await api('GET', `/pb/processes/${id}`, admin)).json().ballots as { total: number; paper: number };

  it('H1: after the close nothing links a voter to a ballot: the export is in content order, and no ballot row carries a voter, time or serial', async () => {
    const { id, ids } = await openVoting(2040, 'accounts');
    // Cast in the reverse of content order: ada the mural, ben the orchard, cy the bench.
    const cast = [ids[2]!, ids[1]!, ids[0]!];
    for (const [i, project] of cast.entries()) {
      const res = await api('POST', `/pb/processes/${id}/ballots`, residents[i]!, ballot(project));
      assert.equal(res.statusCode, 201, res.body);
    }
    assert.equal(
      (await api('POST', `/pb/processes/${id}/phase`, admin, { phase: 'results' })).statusCode,
      200,
    );

    // The export, which every resident may download, lists the votes in content order, not cast order.
    const exported = await api('GET', `/pb/processes/${id}/pabulib`, residents[3]!);
    assert.equal(exported.statusCode, 200, exported.body);
    const votes = exported.body
      .split('VOTES\n')[1]!
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(';')[1]!);
    assert.deepEqual(votes, [ids[0], ids[1], ids[2]], 'sorted by content');
    assert.notDeepEqual(votes, cast);

    // The review's join: audit entries of the votes, oldest first, against the export's voter ids.
    const audit = (await api('GET', '/audit', admin)).json() as { action: string; person_name: string }[];
    const voters = audit
      .filter((e) => e.action === 'pb.ballot.cast')
      .reverse()
      .map((e) => e.person_name);
    assert.deepEqual(voters, ['ada', 'ben', 'cy'], 'the audit still says who voted');
    const joined = voters.map((name, i) => [name, votes[i]]);
    assert.notDeepEqual(
      joined,
      voters.map((name, i) => [name, cast[i]]),
      'matching audit order to export order does not give each voter’s choice',
    );

    // No row a staff role (the app's database role) can read holds a ballot's content with a voter,
    // a channel, a time or a serial number beside it.
    await inPlace(t.db, placeId, async (tx) => {
      const tables = await sql<{ table_name: string }>`
        select distinct table_name from information_schema.columns
        where table_schema = current_schema() and column_name = 'projects'`.execute(tx);
      let contentRows = 0;
      for (const { table_name } of tables.rows) {
        const rows = await sql<Record<string, unknown>>`
          select * from ${sql.table(table_name)} where process_id = ${id}`.execute(tx);
        if (rows.rows.length === 0) continue;
        contentRows += rows.rows.length;
        const columns = await sql<{
          column_name: string;
          is_identity: string;
          column_default: string | null;
        }>`
          select column_name, is_identity, column_default from information_schema.columns
          where table_schema = current_schema() and table_name = ${table_name}`.execute(tx);
        for (const c of columns.rows) {
          assert.ok(
            !/voter|person|cast|entered|channel|postcode|_at$|^at$|code/.test(c.column_name),
            `${table_name}.${c.column_name} sits beside ballot content after the close`,
          );
          assert.ok(
            c.is_identity !== 'YES' && !/nextval/.test(c.column_default ?? ''),
            `${table_name}.${c.column_name} numbers ballots`,
          );
        }
        // Rows are stored in content order, so the physical order (ctid) says nothing either.
        const stored = await sql<{ projects: number[] }>`
          select projects from ${sql.table(table_name)} where process_id = ${id} order by ctid`.execute(tx);
        const physical = stored.rows.map((r) => String(r.projects[0]));
        assert.deepEqual(
          physical,
          [...physical].sort((a, b) => Number(a) - Number(b)),
        );
      }
      assert.equal(contentRows, 3, 'the three ballots are kept, without voters');
    });
    // The count still counts all three, and a resident still sees they voted.
    assert.equal((await api('POST', `/pb/processes/${id}/count`, admin)).statusCode, 200);
    assert.deepEqual(await ballots(id), { total: 3, paper: 0 });
    const page = await t.app.inject({
      method: 'GET',
      url: `/places/bow/pb/${id}`,
      headers: residents[0]!.read,
    });
    assert.equal(page.statusCode, 200);
  });

  it('M2: an account holder given codes votes once: codes are refused where the process uses accounts, online and at the slip address', async () => {
    const { id, ids, codes } = await openVoting(2041, 'accounts', 2);
    assert.equal(
      (await api('POST', `/pb/processes/${id}/ballots`, residents[0]!, ballot(ids[0]!))).statusCode,
      201,
    );
    const byCode = await api(
      'POST',
      `/pb/processes/${id}/ballots`,
      residents[0]!,
      ballot(ids[1]!, { code: codes[0] }),
    );
    assert.equal(byCode.statusCode, 400, byCode.body);
    assert.match(byCode.json().fields.code, /uses residents’ accounts/);
    const slip = await t.app.inject({
      method: 'POST',
      url: `/vote/${id}`,
      payload: { code: codes[1]!, projects: ids[1]!, postcode: 'E3 2AB', of_age: 'yes' },
    });
    assert.equal(slip.statusCode, 400, slip.body);
    assert.match(slip.body, /uses residents’ accounts/);
    assert.deepEqual(await ballots(id), { total: 1, paper: 0 });
  });

  it('M2: in a codes process one person votes once, whichever codes they hold', async () => {
    const { id, ids, codes } = await openVoting(2042, 'codes', 3);
    const first = await api(
      'POST',
      `/pb/processes/${id}/ballots`,
      residents[1]!,
      ballot(ids[0]!, { code: codes[0] }),
    );
    assert.equal(first.statusCode, 201, first.body);
    // The same code again is a revote.
    const revote = await api(
      'POST',
      `/pb/processes/${id}/ballots`,
      residents[1]!,
      ballot(ids[1]!, { code: codes[0] }),
    );
    assert.equal(revote.statusCode, 201, revote.body);
    assert.equal(revote.json().replaced, true);
    const second = await api(
      'POST',
      `/pb/processes/${id}/ballots`,
      residents[1]!,
      ballot(ids[2]!, { code: codes[1] }),
    );
    assert.equal(second.statusCode, 409, second.body);
    assert.match(second.json().message, /already voted/);
    assert.deepEqual(await ballots(id), { total: 1, paper: 0 });
  });

  it('M2: a paper ballot never replaces a ballot already cast with its code, and a code used on paper cannot vote online', async () => {
    const { id, ids, codes } = await openVoting(2043, 'codes', 3);
    const online = await t.app.inject({
      method: 'POST',
      url: `/vote/${id}`,
      payload: { code: codes[0]!, projects: ids[0]!, postcode: 'E3 2AB', of_age: 'yes' },
    });
    assert.equal(online.statusCode, 200, online.body);
    const overwrite = await api(
      'POST',
      `/pb/processes/${id}/paper-ballots`,
      admin,
      ballot(ids[1]!, { code: codes[0] }),
    );
    assert.equal(overwrite.statusCode, 409, overwrite.body);
    assert.match(overwrite.json().message, /already been used to vote/);
    assert.equal(
      (await api('POST', `/pb/processes/${id}/paper-ballots`, admin, ballot(ids[1]!, { code: codes[1] })))
        .statusCode,
      201,
    );
    const again = await api(
      'POST',
      `/pb/processes/${id}/paper-ballots`,
      admin,
      ballot(ids[2]!, { code: codes[1] }),
    );
    assert.equal(again.statusCode, 409, again.body);
    const afterPaper = await t.app.inject({
      method: 'POST',
      url: `/vote/${id}`,
      payload: { code: codes[1]!, projects: ids[2]!, postcode: 'E3 2AB', of_age: 'yes' },
    });
    assert.equal(afterPaper.statusCode, 409, afterPaper.body);
    assert.deepEqual(await ballots(id), { total: 2, paper: 1 });
    assert.equal(
      (await api('POST', `/pb/processes/${id}/phase`, admin, { phase: 'results' })).statusCode,
      200,
    );
    const counted = (await api('POST', `/pb/processes/${id}/count`, admin)).json();
    assert.deepEqual(
      counted.projects
        .filter((p: { votes: number }) => p.votes > 0)
        .map((p: { id: string }) => p.id)
        .sort(),
      [ids[0], ids[1]].sort(),
      'the online ballot and the first paper ballot stand',
    );
  });

  it('H6: a whole neighbourhood behind one address votes by code at once, while wrong codes are limited per client and per process', async () => {
    const { id, ids, codes } = await openVoting(2044, 'codes', 40);
    const vote = (code: string, remoteAddress = '203.0.113.7') =>
      t.app.inject({
        method: 'POST',
        url: `/vote/${id}`,
        remoteAddress,
        payload: { code, projects: ids[0]!, postcode: 'E3 2AB', of_age: 'yes' },
      });
    // Thirty neighbours through one proxy, in the same minute.
    for (const code of codes.slice(0, 30)) {
      const res = await vote(code);
      assert.equal(res.statusCode, 200, `code ${code}: ${res.statusCode}`);
    }
    // A guesser: wrong codes are answered as wrong, up to the per-client limit, then refused outright,
    // even with a right code, so the answer tells them nothing more.
    let wrong = 0;
    for (;;) {
      const res = await vote(
        `ZZZZ-ZZZZ-${String(wrong).padStart(4, '2').replace(/[01]/g, '2')}`,
        '198.51.100.1',
      );
      if (res.statusCode === 429) break;
      assert.equal(res.statusCode, 400);
      wrong += 1;
      assert.ok(wrong <= 20, 'a client is stopped after at most 20 wrong codes');
    }
    assert.ok(wrong >= 5, 'typing mistakes are forgiven a few times');
    assert.equal((await vote(codes[30]!, '198.51.100.1')).statusCode, 429);
    // Another client is not held back by the guesser.
    assert.equal((await vote(codes[30]!, '198.51.100.2')).statusCode, 200);
    // Guessing from many addresses: each fails once; once the process has seen too many failures, a
    // client that has failed is refused, while voters with right codes still get through.
    let refused = false;
    for (let i = 0; i < 400 && !refused; i++) {
      const address = `192.0.2.${i % 250}`;
      const first = await vote('YYYY-YYYY-YYYY', address);
      if (first.statusCode === 429) refused = true;
    }
    assert.ok(refused, 'wrong codes across the process are limited');
    assert.equal((await vote(codes[31]!, '203.0.113.99')).statusCode, 200);
  });
});
