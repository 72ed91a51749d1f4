import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inPlace } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { makeFundedNeighbourhood, makeLedger, makePerson, makePlace } from '../../test/support.ts';
import { balancedTransaction } from '../ledger/domain.ts';
import { listBalances } from '../ledger/postings.ts';
import { listCommitments } from '../ledger/commitments.ts';
import type { ProcessSettings } from './domain.ts';
import { ledgerPotFunds } from '../wiring/pot-funds.ts';
import { ballotCount, castBallot, generateAccessCodes } from './ballot-store.ts';
import { countElection } from './count.ts';
import { exportPabulib, importPabulib } from './pabulib-store.ts';
import {
  advancePhase,
  createProcess,
  findProcess,
  listProposals,
  moderateProposal,
  reviewProposal,
  submitProposal,
  validateProposal,
} from './process-store.ts';
import { countVotes, electionOf, listFunded, publishResults, recordDelivery } from './results-store.ts';

const system = { personId: null };
const funds = ledgerPotFunds(system, () => '2026-06-01');

export const SETTINGS: ProcessSettings = {
  year: 2026,
  title: 'White City decides 2026',
  budget_pence: 10_000_00,
  proposals_from: '2026-01-05',
  review_from: '2026-02-01',
  voting_from: '2026-03-01',
  results_from: '2026-03-29',
  delivery_from: '2026-04-06',
  ballot_kind: 'approval_max',
  ballot_limit: 2,
  rule: 'greedy',
  utility: 'cost',
  completion: 'add1',
  postcodes: ['W12 7'],
  min_age: 16,
  voters: 'accounts',
};

let placeCount = 0;
/** A neighbourhood whose ledger pot holds `potPence`. */
const neighbourhood = (db: TestDatabase, potPence: number) =>
  makeFundedNeighbourhood(db, `pb-${++placeCount}`, 'Council', potPence);

const proposal = (title: string, cost_pence: number) =>
  validateProposal({
    title,
    description: `${title} for the estate`,
    cost_pence,
    category: 'Green spaces',
    location: 'Wormholt Park',
    group_name: '',
  });

describe(`participatory budgeting store on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase();
  });
  after(() => db.drop());

  it('refuses to open a process with a budget larger than the pot’s available balance', async () => {
    const placeId = await neighbourhood(db, 5_000_00);
    await assert.rejects(
      inPlace(db, placeId, (tx) => createProcess(tx, placeId, SETTINGS, funds, system)),
      (err: AppError) => err.code === 'conflict' && /more than the 500000 pence available/.test(err.message),
    );
    const opened = await inPlace(db, placeId, (tx) =>
      createProcess(tx, placeId, { ...SETTINGS, budget_pence: 5_000_00 }, funds, system),
    );
    assert.equal(opened.phase, 'proposals');
  });

  it('runs a process end to end: propose, moderate, review, vote, revote, paper ballots, count, publish into the ledger, deliver', async () => {
    const placeId = await neighbourhood(db, 50_000_00);
    const alice = await makePerson(db, `alice${placeCount}@pb.test`, [[placeId, 'resident']]);
    const bob = await makePerson(db, `bob${placeCount}@pb.test`, [[placeId, 'resident']]);
    const carol = await makePerson(db, `carol${placeCount}@pb.test`, [[placeId, 'resident']]);
    const staff = { personId: await makePerson(db, `admin${placeCount}@pb.test`, [[placeId, 'admin']]) };
    const p = await inPlace(db, placeId, (tx) => createProcess(tx, placeId, SETTINGS, funds, staff));
    const ids = await inPlace(db, placeId, async (tx) => {
      const out: number[] = [];
      for (const [title, cost] of [
        ['Benches', 3_000_00],
        ['Play area', 6_000_00],
        ['Bulb planting', 2_000_00],
        ['Graffiti', 1_000_00],
      ] as const)
        out.push((await submitProposal(tx, placeId, p.id, proposal(title, cost), { personId: alice })).id);
      return out;
    });
    const [benches, play, bulbs, graffiti] = ids as [number, number, number, number];
    await inPlace(db, placeId, async (tx) => {
      for (const id of [benches, play, bulbs])
        await moderateProposal(tx, placeId, p.id, id, { moderation: 'published', note: '' }, staff);
      await moderateProposal(
        tx,
        placeId,
        p.id,
        graffiti,
        { moderation: 'hidden', note: 'A council service already does this' },
        staff,
      );
      await advancePhase(tx, placeId, p.id, 'review', staff);
      await reviewProposal(
        tx,
        placeId,
        p.id,
        benches,
        { review: 'eligible', reason: 'Feasible on council land', council_cost_pence: null, cost_note: '' },
        staff,
      );
      // The council's estimate (£5,000) replaces the proposer's £6,000.
      await reviewProposal(
        tx,
        placeId,
        p.id,
        play,
        {
          review: 'eligible',
          reason: 'Feasible',
          council_cost_pence: 5_000_00,
          cost_note: 'Our framework contract is cheaper',
        },
        staff,
      );
      await reviewProposal(
        tx,
        placeId,
        p.id,
        bulbs,
        {
          review: 'ineligible',
          reason: 'The park is being relandscaped next year',
          council_cost_pence: null,
          cost_note: '',
        },
        staff,
      );
    });
    // Voting is not open yet.
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        castBallot(
          tx,
          placeId,
          p.id,
          {
            voter: { personId: alice },
            channel: 'online',
            ballot: { projects: [String(benches)] },
            postcode: 'W12 7PQ',
            ofAge: true,
          },
          { personId: alice },
        ),
      ),
      /cannot vote in the council review phase/,
    );
    const codes = await inPlace(db, placeId, (tx) => generateAccessCodes(tx, placeId, p.id, 3, staff));
    assert.equal(codes.length, 3);
    assert.match(codes[0]!, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    const stored = await db.kysely
      .selectFrom('pb_access_codes')
      .select('code_hash')
      .where('place_id', '=', placeId)
      .execute();
    assert.equal(stored.length, 3);
    assert.ok(
      stored.every((s) => !codes.some((c) => s.code_hash.includes(c.replaceAll('-', '')))),
      'only hashes are stored',
    );

    await inPlace(db, placeId, (tx) => advancePhase(tx, placeId, p.id, 'voting', staff));
    const vote = (
      voter: { personId: number } | { code: string },
      projects: number[],
      channel: 'online' | 'paper' = 'online',
      postcode = 'W12 7PQ',
    ) =>
      inPlace(db, placeId, (tx) =>
        castBallot(
          tx,
          placeId,
          p.id,
          { voter, channel, ballot: { projects: projects.map(String) }, postcode, ofAge: true },
          'code' in voter ? staff : voter,
        ),
      );
    // Eligibility: a postcode outside the neighbourhood, a hidden or ineligible proposal, too many projects.
    await assert.rejects(vote({ personId: alice }, [benches], 'online', 'SW1A 1AA'), (err: AppError) =>
      Boolean(err.fields?.postcode),
    );
    await assert.rejects(
      vote({ personId: alice }, [bulbs]),
      (err: AppError) => err.fields?.projects === 'Choose projects from the list',
    );
    await assert.rejects(
      vote({ personId: alice }, [benches, play, graffiti]),
      (err: AppError) => err.fields?.projects === 'Choose projects from the list',
    );
    await assert.rejects(vote({ code: 'AAAA-BBBB-CCCC' }, [benches], 'paper'), (err: AppError) =>
      Boolean(err.fields?.code),
    );
    // Alice first votes for the play area, then changes her mind: her revote replaces it.
    assert.deepEqual(await vote({ personId: alice }, [play]), { replaced: false });
    assert.deepEqual(await vote({ personId: alice }, [benches]), { replaced: true });
    await vote({ personId: bob }, [benches, play]);
    await vote({ personId: carol }, [play]);
    await vote({ code: codes[0]!.toLowerCase() }, [play], 'paper');
    await vote({ code: codes[1]! }, [benches], 'paper');
    assert.deepEqual(await inPlace(db, placeId, (tx) => ballotCount(tx, placeId, p.id)), {
      total: 5,
      paper: 2,
    });

    await assert.rejects(
      inPlace(db, placeId, (tx) => countVotes(tx, placeId, p.id, staff)),
      /cannot count the votes in the voting phase/,
    );
    await inPlace(db, placeId, (tx) => advancePhase(tx, placeId, p.id, 'results', staff));
    await assert.rejects(vote({ personId: alice }, [play]), /cannot vote in the results phase/);
    // Votes: benches 3 (alice, bob, code 2), play area 3 (bob, carol, code 1). A tie: the benches cost less
    // (£3,000 against the council's £5,000), so they come first; then the play area fits in the £7,000 left.
    const count = await inPlace(db, placeId, (tx) => countVotes(tx, placeId, p.id, staff));
    assert.deepEqual(count.winners, [String(benches), String(play)]);
    assert.equal(count.spent, 8_000_00);
    assert.equal(count.ballots, 5);
    assert.equal(
      count.projects.find((x) => x.id === String(benches))!.explanation,
      'Funded: it fitted in the £10,000.00 left when its turn came by votes.',
    );
    assert.equal(count.published_at, null);

    const published = await inPlace(db, placeId, (tx) => publishResults(tx, placeId, p.id, funds, staff));
    assert.ok(published.published_at);
    const ledger = await inPlace(db, placeId, async (tx) => ({
      balances: await listBalances(tx, placeId),
      commitments: await listCommitments(tx, placeId),
    }));
    assert.deepEqual(ledger.commitments.map((c) => [c.source, c.commitment_account, c.amount_pence]).sort(), [
      ['POT', 'PB-COMMIT', 3_000_00],
      ['POT', 'PB-COMMIT', 5_000_00],
    ]);
    assert.equal(ledger.balances.find((b) => b.account === 'POT')!.balance_pence, 42_000_00);
    await assert.rejects(
      inPlace(db, placeId, (tx) => countVotes(tx, placeId, p.id, staff)),
      /published and cannot be counted again/,
    );

    await inPlace(db, placeId, (tx) => advancePhase(tx, placeId, p.id, 'delivery', staff));
    const delivered = await inPlace(db, placeId, (tx) =>
      recordDelivery(
        tx,
        placeId,
        p.id,
        benches,
        {
          status: 'in_progress',
          spent_pence: 1_200_00,
          note: 'Six benches ordered',
          date: '2026-06-02',
          key: 'd1',
        },
        staff,
      ),
    );
    assert.equal(delivered.status, 'in_progress');
    assert.equal(delivered.spent_pence, 1_200_00);
    assert.equal(delivered.outstanding_pence, 1_800_00);
    await assert.rejects(
      inPlace(db, placeId, (tx) =>
        recordDelivery(
          tx,
          placeId,
          p.id,
          benches,
          { status: 'completed', spent_pence: 2_000_00, note: '', date: '2026-06-03', key: 'd2' },
          staff,
        ),
      ),
      /Only 180000 pence of this commitment is outstanding/,
    );
    const funded = await inPlace(db, placeId, (tx) => listFunded(tx, placeId, p.id));
    assert.deepEqual(
      funded.map((f) => [f.title, f.position, f.status]),
      [
        ['Benches', 1, 'in_progress'],
        ['Play area', 2, 'not_started'],
      ],
    );
    const proposals = await inPlace(db, placeId, (tx) => listProposals(tx, placeId, p.id));
    assert.equal(proposals.find((x) => x.id === play)!.council_cost_pence, 5_000_00);
  });

  it('refuses to publish winners the pot can no longer pay for, and raises no commitment at all', async () => {
    const placeId = await neighbourhood(db, 10_000_00);
    const staff = { personId: null };
    const p = await inPlace(db, placeId, (tx) =>
      createProcess(tx, placeId, { ...SETTINGS, budget_pence: 10_000_00, voters: 'codes' }, funds, staff),
    );
    const id = await inPlace(db, placeId, async (tx) => {
      const x = await submitProposal(tx, placeId, p.id, proposal('Community garden', 8_000_00), staff);
      await moderateProposal(tx, placeId, p.id, x.id, { moderation: 'published', note: '' }, staff);
      await reviewProposal(
        tx,
        placeId,
        p.id,
        x.id,
        { review: 'eligible', reason: 'Feasible', council_cost_pence: null, cost_note: '' },
        staff,
      );
      const [code] = await generateAccessCodes(tx, placeId, p.id, 1, staff);
      await advancePhase(tx, placeId, p.id, 'review', staff);
      await advancePhase(tx, placeId, p.id, 'voting', staff);
      await castBallot(
        tx,
        placeId,
        p.id,
        {
          voter: { code: code! },
          channel: 'paper',
          ballot: { projects: [String(x.id)] },
          postcode: 'w127pq',
          ofAge: true,
        },
        staff,
      );
      await advancePhase(tx, placeId, p.id, 'results', staff);
      await countVotes(tx, placeId, p.id, staff);
      return x.id;
    });
    // Meanwhile the pot is spent on something else: only £5,000 is left.
    await makeLedger(
      db,
      placeId,
      [{ code: 'ALLOC', name: 'Allocation', kind: 'allocation', service: 'Youth' }],
      [
        balancedTransaction({
          key: 'alloc',
          date: '2026-02-02',
          memo: '',
          postings: [
            { account: 'ALLOC', amount_pence: 5_000_00 },
            { account: 'POT', amount_pence: -5_000_00 },
          ],
        }),
      ],
    );
    await assert.rejects(
      inPlace(db, placeId, (tx) => publishResults(tx, placeId, p.id, funds, staff)),
      /more than the 500000 pence available in POT/,
    );
    assert.equal((await inPlace(db, placeId, (tx) => listCommitments(tx, placeId))).length, 0);
    assert.equal((await inPlace(db, placeId, (tx) => listFunded(tx, placeId, p.id))).length, 0);
    assert.ok(id);
  });

  it('exports a process to Pabulib and imports it back as the same process with the same result', async () => {
    const from = await neighbourhood(db, 50_000_00);
    const staff = { personId: null };
    const settings: ProcessSettings = {
      ...SETTINGS,
      ballot_kind: 'approval_budget',
      ballot_limit: 10_000_00,
      rule: 'mes',
      postcodes: ['W12 7', 'W12 0'],
      voters: 'codes',
    };
    const p = await inPlace(db, from, async (tx) => {
      const p = await createProcess(tx, from, settings, funds, staff);
      const ids: string[] = [];
      for (const [title, cost] of [
        ['Benches; and bins', 3_000_00],
        ['Play "area"', 6_000_00],
        ['Bulbs', 2_000_00],
        ['Mural', 4_500_00],
      ] as const) {
        const x = await submitProposal(tx, from, p.id, proposal(title, cost), staff);
        await moderateProposal(tx, from, p.id, x.id, { moderation: 'published', note: '' }, staff);
        await reviewProposal(
          tx,
          from,
          p.id,
          x.id,
          {
            review: 'eligible',
            reason: 'Feasible',
            council_cost_pence: title === 'Mural' ? 4_000_00 : null,
            cost_note: 'Checked',
          },
          staff,
        );
        ids.push(String(x.id));
      }
      const codes = await generateAccessCodes(tx, from, p.id, 6, staff);
      await advancePhase(tx, from, p.id, 'review', staff);
      await advancePhase(tx, from, p.id, 'voting', staff);
      const ballots = [[0, 1], [0, 2], [1], [2, 3], [3], [0, 3]];
      for (const [i, b] of ballots.entries())
        await castBallot(
          tx,
          from,
          p.id,
          {
            voter: { code: codes[i]! },
            channel: 'paper',
            ballot: { projects: b.map((k) => ids[k]!) },
            postcode: 'W12 0AA',
            ofAge: true,
          },
          staff,
        );
      await advancePhase(tx, from, p.id, 'results', staff);
      return p;
    });
    const original = await inPlace(db, from, async (tx) => {
      const process = await findProcess(tx, from, p.id);
      return {
        process,
        election: await electionOf(tx, from, process),
        proposals: await listProposals(tx, from, p.id),
        file: await exportPabulib(tx, from, p.id, 'White City'),
      };
    });
    assert.match(original.file, /^META\nkey;value\ndescription;White City decides 2026\n/);
    assert.match(original.file, /\nplacebudget_postcodes;W12 7,W12 0\n/);

    const to = await makePlace(db, `pb-import-${placeCount}`, 'neighbourhood');
    const imported = await inPlace(db, to, async (tx) => {
      const process = await importPabulib(tx, to, original.file, {}, staff);
      return {
        process,
        election: await electionOf(tx, to, process),
        proposals: await listProposals(tx, to, process.id),
      };
    });
    const settingsOf = ({ id: _id, tie_order: _t, ...rest }: typeof original.process) => rest;
    assert.deepEqual(settingsOf(imported.process), settingsOf(original.process));
    const sameProposal = (x: (typeof original.proposals)[number]) => [
      x.title,
      x.description,
      x.category,
      x.location,
      x.council_cost_pence ?? x.cost_pence,
    ];
    assert.deepEqual(imported.proposals.map(sameProposal), original.proposals.map(sameProposal));
    // Ballots and winners compared through the mapping from old proposal ids to new ones (same order).
    const rename = new Map(
      original.proposals.map((x, i) => [String(x.id), String(imported.proposals[i]!.id)]),
    );
    assert.deepEqual(
      imported.election.ballots.map((b) => b.projects).sort(),
      original.election.ballots.map((b) => b.projects.map((id) => rename.get(id)!)).sort(),
    );
    const before = countElection(original.process, original.election);
    const after = countElection(imported.process, imported.election);
    assert.deepEqual(
      after.winners,
      before.winners.map((id) => rename.get(id)),
    );
    assert.equal(after.spent, before.spent);
    // And the file written from the imported process says the same, but for the new ids.
    const again = await inPlace(db, to, (tx) => exportPabulib(tx, to, imported.process.id, 'White City'));
    const [head, votes] = original.file.split('VOTES\n') as [string, string];
    const renamed =
      head.replace(/^(\d+);/gm, (_, id: string) => `${rename.get(id)};`) +
      'VOTES\n' +
      votes.replace(
        /^(\d+;)([\d,]+)$/gm,
        (_, voter: string, list: string) =>
          voter +
          list
            .split(',')
            .map((id) => rename.get(id))
            .join(','),
      );
    assert.equal(again, renamed);
  });
});
