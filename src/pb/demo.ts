import type { Tx } from '../core/db.ts';
import { seededRandom } from '../core/random.ts';
import type { ProcessSettings } from './domain.ts';
import type { PbPorts } from './funds.ts';
import { castBallot, generateAccessCodes } from './ballot-store.ts';
import {
  advancePhase,
  createProcess,
  moderateProposal,
  reviewProposal,
  submitProposal,
  type ProposalInput,
} from './process-store.ts';
import { countVotes, publishResults, recordDelivery } from './results-store.ts';

/** Illustrative proposals for Ilfracombe, where the demo resident lives: not real ones. */
interface DemoProposal extends Omit<ProposalInput, 'cost_pence' | 'group_name'> {
  pounds: number;
  group?: string;
  /** How likely a voter is to approve it. */
  appeal: number;
  council?: { pounds: number; note: string };
  ineligible?: string;
  hidden?: string;
}

const PROPOSALS_2012: DemoProposal[] = [
  {
    title: 'Benches and planters on the High Street',
    description: 'Six benches and planters so older residents can rest on the way up the hill.',
    pounds: 1_800,
    category: 'Streets',
    location: 'High Street',
    appeal: 0.45,
  },
  {
    title: 'Youth club evening sessions',
    description: 'Two evenings a week of youth work at the Lantern through the winter.',
    pounds: 3_200,
    category: 'Young people',
    location: 'The Lantern, High Street',
    group: 'Ilfracombe Youth Forum',
    appeal: 0.5,
  },
  {
    title: 'Bicclescombe Park play area',
    description: 'New safety surfacing and a climbing frame for the play area.',
    pounds: 4_500,
    category: 'Play',
    location: 'Bicclescombe Park',
    appeal: 0.42,
    council: {
      pounds: 5_200,
      note: 'Surfacing must meet the play safety standard (BS EN 1177), which adds £700.',
    },
  },
  {
    title: 'Defibrillator at the harbour',
    description: 'A public-access defibrillator in a heated cabinet, with training for harbour staff.',
    pounds: 1_600,
    category: 'Health',
    location: 'The Pier',
    group: 'Ilfracombe Harbour Users',
    appeal: 0.35,
  },
  {
    title: 'Community fridge',
    description: 'A fridge where shops and residents share surplus food.',
    pounds: 900,
    category: 'Food',
    location: 'St Philip and St James church hall',
    appeal: 0.25,
  },
  {
    title: 'Seafront bins with recycling',
    description: 'Twelve bins with recycling compartments along the seafront.',
    pounds: 2_400,
    category: 'Environment',
    location: 'Wildersmouth beach to the Landmark',
    appeal: 0.3,
  },
  {
    title: 'Floodlights for the football pitch',
    description: 'Floodlights so the club can train in winter evenings.',
    pounds: 9_000,
    category: 'Sport',
    location: 'Marlborough Road',
    appeal: 0,
    ineligible:
      'It costs more than the whole £8,000 budget; the club has been referred to the district sports facilities fund.',
  },
  {
    title: 'Shop-front advertising boards',
    description: 'Boards advertising local businesses.',
    pounds: 1_200,
    category: 'Business',
    location: 'High Street',
    appeal: 0,
    hidden: 'A commercial advert, not a community project.',
  },
];

const PROPOSALS_2013: DemoProposal[] = [
  {
    title: 'Repaint the Capstone shelter',
    description: 'Repair and repaint the seafront shelter.',
    pounds: 1_400,
    category: 'Streets',
    location: 'Capstone Parade',
    appeal: 0.4,
  },
  {
    title: 'Library storytime sessions',
    description: 'Weekly storytime for under-fives with a children’s librarian.',
    pounds: 1_100,
    category: 'Young people',
    location: 'Ilfracombe Library',
    appeal: 0.5,
  },
  {
    title: 'Wildflower verges',
    description: 'Seed and mow the verges on the way into town for pollinators.',
    pounds: 800,
    category: 'Environment',
    location: 'Station Road',
    group: 'Ilfracombe in Bloom',
    appeal: 0.35,
  },
];

const PHASES_2012 = {
  proposals_from: '2012-05-01',
  review_from: '2012-06-15',
  voting_from: '2012-07-16',
  results_from: '2012-08-13',
  delivery_from: '2012-09-03',
};
const PHASES_2013 = {
  proposals_from: '2013-05-01',
  review_from: '2013-06-14',
  voting_from: '2013-07-15',
  results_from: '2013-08-12',
  delivery_from: '2013-09-02',
};

function settings(year: number, title: string, pounds: number, dates: typeof PHASES_2012): ProcessSettings {
  return {
    year,
    title,
    budget_pence: pounds * 100,
    ...dates,
    ballot_kind: 'approval_max',
    ballot_limit: 3,
    rule: 'mes',
    utility: 'cost',
    completion: 'add1',
    postcodes: ['EX34 8', 'EX34 9'],
    min_age: 16,
    voters: 'accounts',
  };
}

/** Opens a process, takes its proposals through moderation and review, and opens voting with `voters` ballots on paper. */
async function runToVoting(
  tx: Tx,
  placeId: number,
  process: { id: number },
  proposals: DemoProposal[],
  voters: number,
  seed: number,
  staff: { personId: number },
) {
  const ids: number[] = [];
  for (const p of proposals) {
    const row = await submitProposal(
      tx,
      placeId,
      process.id,
      {
        title: p.title,
        description: p.description,
        cost_pence: p.pounds * 100,
        category: p.category,
        location: p.location,
        group_name: p.group ?? null,
      },
      staff,
    );
    ids.push(row.id);
    await moderateProposal(
      tx,
      placeId,
      process.id,
      row.id,
      p.hidden ? { moderation: 'hidden', note: p.hidden } : { moderation: 'published', note: '' },
      staff,
    );
  }
  await advancePhase(tx, placeId, process.id, 'review', staff);
  for (const [i, p] of proposals.entries()) {
    if (p.hidden) continue;
    await reviewProposal(
      tx,
      placeId,
      process.id,
      ids[i]!,
      p.ineligible
        ? { review: 'ineligible', reason: p.ineligible, council_cost_pence: null, cost_note: '' }
        : {
            review: 'eligible',
            reason:
              'Feasible, on council land or with the owner’s agreement, and within the rules of the fund.',
            council_cost_pence: p.council ? p.council.pounds * 100 : null,
            cost_note: p.council?.note ?? '',
          },
      staff,
    );
  }
  // Paper voters at the library and the Lantern: codes are random, but only their hashes are
  // kept and what each voter chose comes from the seeded generator, so the count is the same every time.
  const codes = await generateAccessCodes(tx, placeId, process.id, voters, staff);
  await advancePhase(tx, placeId, process.id, 'voting', staff);
  const random = seededRandom(seed);
  const onBallot = proposals
    .map((p, i) => ({ id: String(ids[i]), appeal: p.hidden || p.ineligible ? 0 : p.appeal }))
    .filter((p) => p.appeal > 0);
  for (const code of codes) {
    let chosen = onBallot.filter((p) => random() < p.appeal).map((p) => p.id);
    if (chosen.length === 0) chosen = [onBallot[Math.floor(random() * onBallot.length)]!.id];
    const postcode = `EX34 ${random() < 0.5 ? 8 : 9}${'ABDEFGHJLNPQRSTUWXYZ'[Math.floor(random() * 20)]}${'ABDEFGHJLNPQRSTUWXYZ'[Math.floor(random() * 20)]}`;
    await castBallot(
      tx,
      placeId,
      process.id,
      { voter: { code }, channel: 'paper', ballot: { projects: chosen.slice(0, 3) }, postcode, ofAge: true },
      staff,
    );
  }
  return ids;
}

/**
 * Ilfracombe's participatory budgets: 2012 counted with equal shares, published into the
 * ledger and in delivery; 2013 open for voting, so the demo resident can vote.
 */
export async function seedPbDemo(tx: Tx, placeIds: Map<string, number>, adminId: number, ports: PbPorts) {
  const placeId = placeIds.get('ilfracombe');
  if (placeId === undefined) return;
  const staff = { personId: adminId };
  const funds = ports.potFunds(staff, () => '2012-08-20');

  const first = await createProcess(
    tx,
    placeId,
    settings(2012, 'Ilfracombe decides 2012', 8_000, PHASES_2012),
    funds,
    staff,
  );
  await runToVoting(tx, placeId, first, PROPOSALS_2012, 180, 2012, staff);
  await advancePhase(tx, placeId, first.id, 'results', staff);
  const result = await countVotes(tx, placeId, first.id, staff);
  await publishResults(tx, placeId, first.id, funds, staff);
  await advancePhase(tx, placeId, first.id, 'delivery', staff);
  const [firstWinner, secondWinner] = result.winners.map(Number);
  if (firstWinner)
    await recordDelivery(
      tx,
      placeId,
      first.id,
      firstWinner,
      {
        status: 'completed',
        spent_pence: result.projects.find((p) => p.id === String(firstWinner))!.cost,
        note: 'Delivered and opened by the town council.',
        date: '2012-11-30',
        key: 'pb-demo-delivery-1',
      },
      staff,
    );
  if (secondWinner)
    await recordDelivery(
      tx,
      placeId,
      first.id,
      secondWinner,
      {
        status: 'in_progress',
        spent_pence: 50_000,
        note: 'Supplier appointed; work starts in January.',
        date: '2012-12-14',
        key: 'pb-demo-delivery-2',
      },
      staff,
    );

  const second = await createProcess(
    tx,
    placeId,
    settings(2013, 'Ilfracombe decides 2013', 2_500, PHASES_2013),
    funds,
    staff,
  );
  await runToVoting(tx, placeId, second, PROPOSALS_2013, 40, 2013, staff);
}
