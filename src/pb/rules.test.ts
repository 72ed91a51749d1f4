import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { profileOf, type Election } from './election.ts';
import { Rational } from './rational.ts';
import { count, equalShare, tieRanks, type Completion, type CountOptions, type Utility } from './rules.ts';

/** Three projects, four voters, a budget of 10 (the file in pabulib.test.ts is the same election). */
const small: Election = {
  budget: 10,
  voteType: 'approval',
  projects: [
    { id: '1', cost: 6 },
    { id: '2', cost: 4 },
    { id: '3', cost: 5 },
  ],
  ballots: [
    { projects: ['1', '2'] },
    { projects: ['1'] },
    { projects: ['1', '3'] },
    { projects: ['2', '3'] },
  ],
};

const run = (election: Election, options: CountOptions) => count(profileOf(election), options);

describe('greedy', () => {
  it('funds by votes, skipping what no longer fits, and names the project that took the money', () => {
    // Votes: 1 → 3, 2 → 2, 3 → 2. Projects 2 and 3 tie on 2 votes; 2 is cheaper (4 < 5) so it goes first.
    // 1 (6) fits in 10, leaving 4; 2 (4) fits, leaving 0; 3 (5) does not fit.
    // After 1 was funded only 4 was left, less than 3's cost of 5: project 1 took the money 3 needed.
    const r = run(small, { rule: 'greedy' });
    assert.deepEqual(r.winners, ['1', '2']);
    assert.equal(r.spent, 10);
    assert.deepEqual(r.projects[2]!.reason, { kind: 'no_room', left: 0, takenBy: '1' });
  });

  it('counts points for cumulative ballots', () => {
    // Points: a = 3 + 1 = 4, b = 2 + 3 = 5, c = 5. b and c tie on 5 points and on cost 4: id b < c.
    // Budget 8: b (4) fits, c (4) fits, a (3) does not fit in the 0 left.
    const election: Election = {
      budget: 8,
      voteType: 'cumulative',
      projects: [
        { id: 'a', cost: 3 },
        { id: 'b', cost: 4 },
        { id: 'c', cost: 4 },
      ],
      ballots: [
        { projects: ['a', 'b'], points: [3, 2] },
        { projects: ['a', 'b', 'c'], points: [1, 3, 1] },
        { projects: ['c'], points: [4] },
      ],
    };
    const r = run(election, { rule: 'greedy' });
    assert.deepEqual(r.winners, ['b', 'c']);
    assert.deepEqual(
      r.projects.map((p) => p.votes),
      [4, 5, 5],
    );
  });

  it('counts one vote per ranked project for ordinal ballots', () => {
    // Votes: x → 2, y → 1, z → 2; x and z tie, z is cheaper (1 < 2). Budget 3: z, then x (2) fits, y (2) does not.
    const election: Election = {
      budget: 3,
      voteType: 'ordinal',
      projects: [
        { id: 'x', cost: 2 },
        { id: 'y', cost: 2 },
        { id: 'z', cost: 1 },
      ],
      ballots: [{ projects: ['x', 'z'] }, { projects: ['z', 'y', 'x'] }],
    };
    assert.deepEqual(run(election, { rule: 'greedy' }).winners, ['z', 'x']);
  });
});

describe('Method of Equal Shares', () => {
  it('without completion funds only what supporters can pay from equal shares', () => {
    // Each of 4 voters has 10/4 = 2.5. Round 1: project 1 (cost 6, 3 supporters) costs 2 each,
    // 2/6 = 1/3 per unit of utility; project 2 costs 2 each (2/4 = 1/2), project 3 2.5 each (2.5/5 = 1/2).
    // 1 is funded; voters 1-3 have 0.5 left. Project 2's supporters now hold 0.5 + 2.5 = 3 < 4,
    // project 3's 0.5 + 2.5 = 3 < 5: neither can be paid.
    const r = run(small, { rule: 'mes', completion: 'none' });
    assert.deepEqual(r.winners, ['1']);
    assert.equal(r.spent, 6);
    assert.equal(r.projects[0]!.reason.kind, 'equal_shares');
    const reason = r.projects[0]!.reason as { share: { toString(): string }; paidShare: number };
    assert.equal(reason.share.toString(), '2');
    assert.equal(reason.paidShare, 3);
    assert.equal(
      (r.projects[1]!.reason as { supportersMoney: { toString(): string } }).supportersMoney.toString(),
      '3',
    );
  });

  it('with add1 raises every share by one unit until the outcome is exhaustive', () => {
    // Share 3.5 (one step): 1 costs 2 each (ρ 1/3), leaving 1.5, 1.5, 1.5, 3.5.
    // Project 2: voter 1 pays all 1.5, voter 4 pays the other 2.5 (ρ 2.5/4 = 0.625);
    // project 3: voter 3 pays 1.5, voter 4 3.5 (ρ 3.5/5 = 0.7). 2 is funded: cost 10, exhaustive.
    const r = run(small, { rule: 'mes' });
    assert.deepEqual(r.winners, ['1', '2']);
    assert.equal(r.spent, 10);
    assert.equal(r.add1Steps, 1);
    assert.equal(r.shareKept!.toString(), '7/2');
    const paid = r.projects[1]!.reason as {
      share: { toString(): string };
      paidShare: number;
      paidAll: number;
      paidAllTotal: { toString(): string };
    };
    assert.equal(paid.share.toString(), '5/2');
    assert.equal(paid.paidShare, 1);
    assert.equal(paid.paidAll, 1);
    assert.equal(paid.paidAllTotal.toString(), '3/2');
  });

  it('cardinality utilities prefer more cheap projects where cost utilities prefer the bigger one', () => {
    // Two voters with 5 each. A (8) by both, B (3) by voter 1, C (3) by voter 2.
    // Cost: A 4 each → 4/8 = 0.5 beats B and C (3/3 = 1); then 1 + 1 left, B and C unaffordable.
    // Cardinality: A 4 per project, B and C 3 per project, tied, same cost, id B < C: B, then C (3),
    // then A's supporters hold 2 + 2 = 4 < 8.
    const election: Election = {
      budget: 10,
      voteType: 'approval',
      projects: [
        { id: 'A', cost: 8 },
        { id: 'B', cost: 3 },
        { id: 'C', cost: 3 },
      ],
      ballots: [{ projects: ['A', 'B'] }, { projects: ['A', 'C'] }],
    };
    assert.deepEqual(run(election, { rule: 'mes', completion: 'none' }).winners, ['A']);
    assert.deepEqual(run(election, { rule: 'mes', completion: 'none', utility: 'cardinality' }).winners, [
      'B',
      'C',
    ]);
  });

  it('breaks an exact tie by fewer cost, then by project id, unless the process sets an order', () => {
    // One voter with 2; a and b both cost 2, both paid in full at ρ 1: a tie, same cost, id a < b.
    const election: Election = {
      budget: 2,
      voteType: 'approval',
      projects: [
        { id: 'b', cost: 2 },
        { id: 'a', cost: 2 },
      ],
      ballots: [{ projects: ['a', 'b'] }],
    };
    assert.deepEqual(run(election, { rule: 'mes', completion: 'none' }).winners, ['a']);
    assert.deepEqual(run(election, { rule: 'mes', completion: 'none', tieOrder: ['b'] }).winners, ['b']);
  });

  it('orders numeric ids as numbers when breaking ties', () => {
    const profile = profileOf({
      budget: 1,
      voteType: 'approval',
      projects: [
        { id: '10', cost: 1 },
        { id: '9', cost: 1 },
      ],
      ballots: [],
    });
    assert.deepEqual([...tieRanks(profile)], [1, 0]);
  });
});

describe('sequential Phragmén', () => {
  it('buys the project whose supporters reach its cost at the lowest load, stopping at the first that does not fit', () => {
    // Round 1: 2 → (0 + 4)/2 = 2; 1 → 6/3 = 2; 3 → 5/2. 1 and 2 tie at 2; 2 is cheaper.
    // Round 2: 1 → (2 + 0 + 0 + 6)/3 = 8/3; 3 → (0 + 2 + 5)/2 = 7/2. 1 is bought, leaving 0.
    // Round 3: 3 does not fit: counting stops.
    const r = run(small, { rule: 'phragmen' });
    assert.deepEqual(r.winners, ['2', '1']);
    assert.equal((r.projects[0]!.reason as { load: { toString(): string } }).load.toString(), '8/3');
  });
});

// Small random elections: up to 7 projects costing 1–20, up to 9 voters, budgets 0–60.
const elections = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 7 }),
    fc.integer({ min: 0, max: 60 }),
  )
  .chain(([costs, budget]) =>
    fc.array(fc.subarray(costs.map((_, i) => String(i + 1))), { maxLength: 9 }).map((sets): Election => ({
      budget,
      voteType: 'approval',
      projects: costs.map((cost, i) => ({ id: String(i + 1), cost })),
      ballots: sets.map((projects) => ({ projects })),
    })),
  );

const allOptions: CountOptions[] = [
  { rule: 'greedy' },
  { rule: 'phragmen' },
  { rule: 'mes', completion: 'none' },
  { rule: 'mes', completion: 'add1' },
  { rule: 'mes', completion: 'add1', utility: 'cardinality' },
];

/**
 * MES as Peters, Pierczynski and Skowron state it, kept deliberately plain to check the fast
 * count against: one budget per voter as a Rational, every project priced from scratch each
 * round by sorting its supporters' budgets, add1 one step at a time, then greedy by votes.
 */
function referenceMes(election: Election, utility: Utility, completion: Completion): string[] {
  const profile = profileOf(election);
  const tie = tieRanks(profile);
  const costs = profile.costs;
  const supported = profile.projects.map((_, p) => p).filter((p) => profile.supporters[p]!.length > 0);
  const costOf = (chosen: number[]) => chosen.reduce((sum, p) => sum + costs[p]!, 0n);
  const mesAt = (share: Rational): number[] => {
    const budget = Array.from({ length: profile.voters }, () => share);
    const selected: number[] = [];
    for (;;) {
      let best: { p: number; rho: Rational; alpha: Rational } | null = null;
      for (const p of supported) {
        if (selected.includes(p)) continue;
        const money = [...profile.supporters[p]!].map((v) => budget[v]!).sort((x, y) => x.cmp(y));
        if (money.reduce((sum, b) => sum.add(b), Rational.ZERO).cmpInt(costs[p]!) < 0) continue;
        // The poorest pay all they have while that is less than an equal split of what is left.
        let remaining = Rational.of(costs[p]!);
        let alpha: Rational | null = null;
        for (let i = 0; alpha === null; i++) {
          const split = remaining.divInt(BigInt(money.length - i));
          if (money[i]!.cmp(split) >= 0) alpha = split;
          else remaining = remaining.sub(money[i]!);
        }
        const rho = utility === 'cost' ? alpha.divInt(costs[p]!) : alpha;
        const c = best === null ? -1 : rho.cmp(best.rho);
        if (best === null || c < 0 || (c === 0 && tie[p]! < tie[best.p]!)) best = { p, rho, alpha };
      }
      if (best === null) return selected;
      selected.push(best.p);
      for (const v of profile.supporters[best.p]!)
        budget[v] = budget[v]!.cmp(best.alpha) <= 0 ? Rational.ZERO : budget[v]!.sub(best.alpha);
    }
  };
  const n = BigInt(profile.voters);
  if (n === 0n) return [];
  const exhaustive = (chosen: number[]) =>
    costs.every((c, p) => chosen.includes(p) || c > profile.budget - costOf(chosen));
  let kept = mesAt(Rational.of(profile.budget, n));
  for (let k = 1n; completion === 'add1' && !exhaustive(kept) && kept.length < supported.length; k++) {
    const next = mesAt(Rational.of(profile.budget + k * n, n));
    if (costOf(next) > profile.budget) break;
    kept = next;
  }
  assert.ok(costOf(kept) <= profile.budget, 'MES, add1 included, never spends more than the budget');
  if (completion === 'add1') {
    const byVotes = [...supported].sort((x, y) =>
      profile.scores[y]! > profile.scores[x]!
        ? 1
        : profile.scores[y]! < profile.scores[x]!
          ? -1
          : tie[x]! - tie[y]!,
    );
    for (const p of byVotes)
      if (!kept.includes(p) && costOf(kept) + costs[p]! <= profile.budget) kept.push(p);
  }
  return kept.map((p) => profile.projects[p]!.id);
}

// Crowded elections: few projects and many voters, so voters share ballots and budgets often tie.
const crowded = fc
  .tuple(
    fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 40 }),
  )
  .chain(([costs, budget]) =>
    fc.array(fc.subarray(costs.map((_, i) => String(i + 1))), { maxLength: 30 }).map((sets): Election => ({
      budget,
      voteType: 'approval',
      projects: costs.map((cost, i) => ({ id: String(i + 1), cost })),
      ballots: sets.map((projects) => ({ projects })),
    })),
  );

describe('the equal share of a project', () => {
  it('is what sorting the budgets gives, however they are spread', () => {
    // Budgets 4, 1, 4, 6 and a cost of 14: a guess of 14/4 = 3.5 finds only 1 short, then 13/3 finds
    // the 4s short only once 1 is out, then 9/2 = 4.5 finds the first 4 short too: 1 + 4 + 4 + 5 = 14, α 5.
    assert.deepEqual(equalShare([4n, 1n, 4n, 6n], [1n, 1n, 1n, 1n], 14n), { remaining: 5n, payers: 1n });
    assert.equal(equalShare([4n, 1n], [1n, 2n], 7n), null);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 50n }), fc.bigInt({ min: 1n, max: 4n })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.bigInt({ min: 1n, max: 300n }),
        (held, cost) => {
          const sorted = [...held].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
          let remaining = cost;
          let payers = held.reduce((sum, [, k]) => sum + k, 0n);
          let expected: { remaining: bigint; payers: bigint } | null = null;
          for (const [b, k] of sorted) {
            if (b * payers >= remaining) {
              expected = { remaining, payers };
              break;
            }
            remaining -= b * k;
            payers -= k;
          }
          const share = equalShare(
            held.map(([b]) => b),
            held.map(([, k]) => k),
            cost,
          );
          if (expected === null) assert.equal(share, null);
          // The same α (the parts may differ when someone holds exactly α).
          else assert.equal(share!.remaining * expected.payers, expected.remaining * share!.payers);
        },
      ),
    );
  });
});

describe('properties of every rule', () => {
  it('never spends more than the budget', () => {
    fc.assert(
      fc.property(elections, (election) => {
        for (const options of allOptions) assert.ok(run(election, options).spent <= election.budget);
      }),
    );
  });

  it('greedy is exhaustive: every project with votes it left out costs more than what is left', () => {
    fc.assert(
      fc.property(elections, (election) => {
        const r = run(election, { rule: 'greedy' });
        for (const p of r.projects) if (!p.funded && p.votes > 0) assert.ok(p.cost > r.budget - r.spent);
      }),
    );
  });

  it('MES, with and without add1, gives what the plain reference gives', () => {
    fc.assert(
      fc.property(
        fc.oneof(elections, crowded),
        fc.constantFrom<Utility>('cost', 'cardinality'),
        fc.constantFrom<Completion>('add1', 'none'),
        (election, utility, completion) => {
          assert.deepEqual(
            run(election, { rule: 'mes', completion, utility }).winners,
            referenceMes(election, utility, completion),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('relabelling and reordering the projects relabels the result', () => {
    fc.assert(
      fc.property(elections, fc.integer({ min: 1, max: 1000 }), (election, seed) => {
        const ids = election.projects.map((p) => p.id);
        // A permutation of the names from the seed, and the list reversed.
        const shuffled = [...ids].sort(
          (a, b) => ((Number(a) * seed) % 97) - ((Number(b) * seed) % 97) || Number(a) - Number(b),
        );
        const rename = new Map(ids.map((id, i) => [id, `p${shuffled[i]}`]));
        const order = [...tieRanks(profileOf(election))]
          .map((rank, i) => [rank, ids[i]!] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, id]) => id);
        const relabelled: Election = {
          ...election,
          projects: [...election.projects].reverse().map((p) => ({ ...p, id: rename.get(p.id)! })),
          ballots: election.ballots.map((b) => ({ projects: b.projects.map((id) => rename.get(id)!) })),
        };
        for (const options of allOptions) {
          const before = run(election, { ...options, tieOrder: order });
          const after = run(relabelled, { ...options, tieOrder: order.map((id) => rename.get(id)!) });
          assert.deepEqual(
            after.winners,
            before.winners.map((id) => rename.get(id)!),
          );
          assert.equal(after.spent, before.spent);
        }
      }),
    );
  });
});
