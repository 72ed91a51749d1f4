import { assert } from '../core/errors.ts';
import type { Profile } from './election.ts';
import { Rational } from './rational.ts';

/**
 * Counting rules for participatory budgeting, in exact integer and rational arithmetic.
 *
 * - greedy: projects by votes (or points), funded in that order when they still fit.
 * - mes: the Method of Equal Shares (Peters, Pierczynski and Skowron; equalshares.net) for
 *   approval ballots, with cost utilities by default or cardinality utilities, and the `add1`
 *   completion followed by a greedy pass by votes.
 * - phragmen: sequential Phragmén for approval ballots, as in pabutools: it stops at the first
 *   project it would buy that no longer fits in the budget.
 *
 * Ties (equal votes, equal price per unit of utility, equal load) are settled by the tie order:
 * fewer cost first, then the lower project id (numerically when both ids are whole numbers),
 * unless the process sets its own order of projects.
 */
export const RULES = ['greedy', 'mes', 'phragmen'] as const;
export type RuleName = (typeof RULES)[number];
export const UTILITIES = ['cost', 'cardinality'] as const;
export type Utility = (typeof UTILITIES)[number];
export const COMPLETIONS = ['add1', 'none'] as const;
export type Completion = (typeof COMPLETIONS)[number];

export interface CountOptions {
  rule: RuleName;
  utility?: Utility;
  completion?: Completion;
  /** Projects' ids from most to least preferred when tied; ids not listed follow by the default order. */
  tieOrder?: string[];
  /** How much `add1` raises every voter's share per step: one currency unit (100 for pence). */
  add1Step?: number;
}

export type Reason =
  /** Funded by greedy (or the completion after MES): it still fitted in what was left. */
  | { kind: 'fitted'; left: number }
  /** Greedy could not fund it: `left` was less than its cost once `takenBy` was funded. */
  | { kind: 'no_room'; left: number; takenBy: string | null }
  /** Funded by MES: every supporter paid `share` or, if they had less, all they had left. */
  | {
      kind: 'equal_shares';
      round: number;
      share: Rational;
      paidShare: number;
      paidAll: number;
      paidAllTotal: Rational;
    }
  /** MES could not fund it: its supporters had only `supportersMoney` left in the end. */
  | { kind: 'unaffordable'; supportersMoney: Rational }
  /** Bought by Phragmén when its supporters' load reached `load`. */
  | { kind: 'phragmen_bought'; round: number; load: Rational }
  /** Phragmén stopped before it: the next project to buy (`stoppedAt`) did not fit. */
  | { kind: 'phragmen_stopped'; stoppedAt: string | null; left: number }
  | { kind: 'no_supporters' };

export interface ProjectOutcome {
  id: string;
  cost: number;
  /** Approvals, or points for cumulative and scoring ballots. */
  votes: number;
  supporters: number;
  funded: boolean;
  /** 1 for the first project selected. */
  position: number | null;
  reason: Reason;
}

export interface CountResult {
  rule: RuleName;
  utility: Utility | null;
  completion: Completion | null;
  budget: number;
  spent: number;
  winners: string[];
  /** One per project, in the election's order. */
  projects: ProjectOutcome[];
  /** MES: each voter's share in the run that was kept (the budget over the voters, plus add1's raises). */
  shareKept: Rational | null;
  add1Steps: number | null;
}

export function count(profile: Profile, options: CountOptions): CountResult {
  const tie = tieRanks(profile, options.tieOrder);
  switch (options.rule) {
    case 'greedy':
      return finish(profile, options, greedy(profile, tie, [], new Map()), null, null);
    case 'phragmen':
      return finish(profile, options, phragmen(profile, tie), null, null);
    case 'mes':
      return countMes(profile, options, tie);
  }
}

type Reasons = Map<number, Reason>;
interface Selection {
  selected: number[];
  reasons: Reasons;
}

/** Position of each project in the tie order: lower wins a tie. */
export function tieRanks(profile: Profile, tieOrder: string[] = []): Int32Array {
  const preferred = new Map(tieOrder.map((id, i) => [id, i]));
  const order = profile.projects.map((_, i) => i);
  order.sort((a, b) => {
    const pa = preferred.get(profile.projects[a]!.id) ?? Infinity;
    const pb = preferred.get(profile.projects[b]!.id) ?? Infinity;
    if (pa !== pb) return pa < pb ? -1 : 1;
    const ca = profile.costs[a]!;
    const cb = profile.costs[b]!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    return compareIds(profile.projects[a]!.id, profile.projects[b]!.id);
  });
  const ranks = new Int32Array(order.length);
  order.forEach((p, rank) => (ranks[p] = rank));
  return ranks;
}

export function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    if (x !== y) return x < y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Projects by votes, most first, then by the tie order. */
function byVotes(profile: Profile, tie: Int32Array): number[] {
  return profile.projects
    .map((_, i) => i)
    .sort((a, b) => {
      const va = profile.scores[a]!;
      const vb = profile.scores[b]!;
      if (va !== vb) return va > vb ? -1 : 1;
      return tie[a]! - tie[b]!;
    });
}

/**
 * Greedy by votes over the projects not yet in `already` (whose cost is already spent).
 * A project that does not fit names the funded project after which the money left fell below its cost.
 */
function greedy(profile: Profile, tie: Int32Array, already: number[], reasons: Reasons): Selection {
  const selected = [...already];
  const chosen = new Set(already);
  let left = profile.budget - already.reduce((sum, p) => sum + profile.costs[p]!, 0n);
  assert(left >= 0n, 'a completion starts within the budget');
  // The money left after each selection, to name which selection took the money a project needed.
  const leftAfter: bigint[] = [];
  let running = profile.budget;
  for (const p of selected) leftAfter.push((running -= profile.costs[p]!));
  for (const p of byVotes(profile, tie)) {
    if (chosen.has(p)) continue;
    const cost = profile.costs[p]!;
    if (profile.supporters[p]!.length === 0) {
      reasons.set(p, { kind: 'no_supporters' });
    } else if (cost <= left) {
      reasons.set(p, { kind: 'fitted', left: Number(left) });
      left -= cost;
      selected.push(p);
      chosen.add(p);
      leftAfter.push(left);
    } else {
      const taker = leftAfter.findIndex((l) => l < cost);
      reasons.set(p, {
        kind: 'no_room',
        left: Number(left),
        takenBy: taker >= 0 ? profile.projects[selected[taker]!]!.id : null,
      });
    }
  }
  return { selected, reasons };
}

/** A non-negative fraction, its parts not necessarily in lowest terms: cheap to build and compare. */
interface Frac {
  num: bigint;
  den: bigint;
}
const frac = (num: bigint, den: bigint): Frac => ({ num, den });
const lessThan = (a: Frac, b: Frac) => a.num * b.den < b.num * a.den;
/** Whether a (of the project ranked `ta` in the tie order) comes before b (ranked `tb`). */
const comesFirst = (a: Frac, ta: number, b: Frac, tb: number) =>
  lessThan(a, b) || (!lessThan(b, a) && ta < tb);

/**
 * Bounds on a fraction as floats, for ordering work only: `lower` is never above the exact value
 * and `upper` never below it. The quotient is taken with 64 extra bits, so huge parts (budgets
 * over the scale of many rounds) do not overflow a float; the margins of 2^-50 cover the
 * rounding of the conversion and of the product.
 */
const EXTRA_BITS = 64n;
const SCALE_BACK = 2 ** -64;
function lowerBound(f: Frac): number {
  return Number((f.num << EXTRA_BITS) / f.den) * (1 - 2 ** -50) * SCALE_BACK;
}
function upperBound(f: Frac): number {
  return Number((f.num << EXTRA_BITS) / f.den + 1n) * (1 + 2 ** -50) * SCALE_BACK;
}

/**
 * Picks the candidate with the least value, evaluating as few as it can: each candidate's
 * value never goes down between rounds (MES: supporters only lose money; Phragmén: loads only
 * grow), so last round's value is a lower bound (kept as a float `lower`, never above it).
 * Candidates are tried by that bound, and once the best value found is certainly below the
 * next candidate's bound no later candidate can beat it. The floats only decide how much is
 * evaluated: when they cannot tell, the candidate is evaluated, and the choice among the
 * evaluated is exact. `evaluate` returns null for a candidate that can never be chosen again;
 * it is dropped.
 */
function lazyArgmin(
  candidates: Set<number>,
  lower: Float64Array,
  tie: Int32Array,
  evaluate: (p: number) => Frac | null,
): number | null {
  const order = [...candidates].sort((a, b) => lower[a]! - lower[b]! || tie[a]! - tie[b]!);
  let best: number | null = null;
  let bestValue: Frac | null = null;
  let bestAbove = Infinity;
  for (const p of order) {
    if (bestAbove < lower[p]!) break;
    const value = evaluate(p);
    if (value === null) {
      candidates.delete(p);
      continue;
    }
    lower[p] = lowerBound(value);
    if (best === null || comesFirst(value, tie[p]!, bestValue!, tie[best]!)) {
      best = p;
      bestValue = value;
      bestAbove = upperBound(value);
    }
  }
  return best;
}

/** Voters' weights are summed in Int32Arrays; the limit keeps every sum exact. */
const MAX_VOTERS = 1_000_000_000;

/**
 * Voters with the same approval set, as one group with a weight. MES treats them alike (they
 * start with the same share, support the same projects and so always pay the same), so its
 * state is per group. On the benchmark's generated elections this saves only 6–9% of the
 * voters; on real ballots with few projects per voter it saves more.
 */
interface VoterGroups {
  /** Voters in each group. */
  weight: Int32Array;
  /** Groups supporting each project, ascending. */
  supporters: Int32Array[];
}

function groupVoters(profile: Profile): VoterGroups {
  assert(profile.voters <= MAX_VOTERS, `a count handles at most ${MAX_VOTERS} voters`);
  const approves: number[][] = Array.from({ length: profile.voters }, () => []);
  profile.supporters.forEach((voters, p) => voters.forEach((v) => approves[v]!.push(p)));
  const groupOf = new Map<string, number>();
  const weight: number[] = [];
  const lists: number[][] = profile.projects.map(() => []);
  for (const projects of approves) {
    const key = projects.join(',');
    let g = groupOf.get(key);
    if (g === undefined) {
      g = weight.length;
      groupOf.set(key, g);
      weight.push(0);
      for (const p of projects) lists[p]!.push(g);
    }
    weight[g]!++;
  }
  return { weight: Int32Array.from(weight), supporters: lists.map((l) => Int32Array.from(l)) };
}

/**
 * The equal share α of a project costing `cost`, among supporters holding `budgets` (each held
 * by `counts` of them): the supporters with less than α pay all they have and the others pay α.
 * It is `remaining` / `payers`: what the poorer leave of the cost, over the others; null when
 * they all together hold less than the cost. α is found by raising a first guess (the cost
 * over all of them): whoever holds less than the guess cannot pay it and pays all they have,
 * which raises the guess for the rest; once nobody left holds less, the guess is α. Every guess
 * is at most α, so nobody is wrongly counted as poorer: the result is the one sorting the
 * budgets would give, without the sort.
 */
export function equalShare(
  budgets: bigint[],
  counts: bigint[],
  cost: bigint,
): { remaining: bigint; payers: bigint } | null {
  let remaining = cost;
  let payers = 0n;
  let held = 0n;
  budgets.forEach((b, i) => {
    payers += counts[i]!;
    held += b * counts[i]!;
  });
  if (held < cost) return null;
  let rich = budgets.map((_, i) => i);
  for (let pass = 0; ; pass++) {
    assert(pass <= budgets.length, 'each pass finds someone who cannot pay the share, or ends');
    const stillRich = rich.filter((i) => {
      if (budgets[i]! * payers >= remaining) return true;
      remaining -= budgets[i]! * counts[i]!;
      payers -= counts[i]!;
      return false;
    });
    assert(payers > 0n, 'supporters holding the cost leave someone able to pay the share');
    if (stillRich.length === rich.length) return { remaining, payers };
    rich = stillRich;
  }
}

interface MesPayment {
  round: number;
  share: Frac;
  paidShare: number;
  paidAll: number;
  paidAllTotal: Frac;
}

interface MesRun {
  selected: number[];
  overBudget: boolean;
  payments: Map<number, MesPayment>;
  /** What each unselected project's supporters had left at the end, when explaining. */
  supportersMoney: Map<number, Frac>;
}

/**
 * One run of MES with every voter starting on `share` / n. Groups whose budgets are equal are
 * kept as one class (at first all are one class), so the work per round follows the number
 * of distinct budgets touched, not voters.
 *
 * Money is exact and integer: after round r every budget is an integer over the scale
 * L_r = n · (payers of round 1) · … · (payers of round r), because a project's equal share is
 * what is left of its cost over its payers. A class keeps its numerator over the scale of the
 * round it last changed in and is brought to the current scale only when a project it supports
 * is evaluated (`toNow[r]` = L_now / L_r), so a round costs the supporters of the projects it
 * evaluates, not every class. With `stopAbove`, the run gives up as soon as what it selected
 * costs more than that (add1 only needs to know that).
 */
function runMes(
  profile: Profile,
  groups: VoterGroups,
  share: bigint,
  utility: Utility,
  tie: Int32Array,
  stopAbove: bigint | null,
  explain: boolean,
): MesRun {
  const weight = groups.weight;
  let scale = BigInt(profile.voters);
  const toNow: bigint[] = [1n];
  // Class 0 is "no money left"; class 1 is the starting share. money[c] is over the scale of round at[c].
  const money: bigint[] = [0n, share];
  const at: number[] = [0, 0];
  const sizes: number[] = [0, weight.length];
  const groupClass = new Int32Array(weight.length).fill(1);
  let tally = new Int32Array(16);
  const candidates = new Set(
    profile.projects.map((_, i) => i).filter((p) => groups.supporters[p]!.length > 0),
  );
  const lower = new Float64Array(profile.projects.length);
  const selected: number[] = [];
  const payments = new Map<number, MesPayment>();
  const found = new Map<number, { remaining: bigint; payers: bigint }>();
  let spent = 0n;

  const current = (c: number): bigint => {
    const now = toNow.length - 1;
    if (at[c] !== now) {
      money[c]! *= toNow[at[c]!]!;
      at[c] = now;
    }
    return money[c]!;
  };

  /** Project p's price per unit of utility, α / u, where α is its equal share (see equalShare). */
  const evaluate = (p: number): Frac | null => {
    const touched: number[] = [];
    if (tally.length < money.length) tally = new Int32Array(money.length * 2);
    for (const g of groups.supporters[p]!) {
      const c = groupClass[g]!;
      if (c === 0) continue;
      if (tally[c] === 0) touched.push(c);
      tally[c]! += weight[g]!;
    }
    const counts = touched.map((c) => BigInt(tally[c]!));
    const budgets = touched.map((c) => {
      tally[c] = 0;
      return current(c);
    });
    const share = equalShare(budgets, counts, profile.costs[p]! * scale);
    if (share === null) return null; // its supporters hold less than its cost, and only lose money
    found.set(p, share);
    // α = remaining / (payers · L); ρ = α / u.
    const u = utility === 'cost' ? profile.costs[p]! : 1n;
    return frac(share.remaining, share.payers * scale * u);
  };

  for (let round = 1; candidates.size > 0; round++) {
    assert(round <= profile.projects.length, 'a round selects a project or ends the run');
    found.clear();
    const p = lazyArgmin(candidates, lower, tie, evaluate);
    if (p === null) break;
    candidates.delete(p);
    selected.push(p);
    spent += profile.costs[p]!;
    if (stopAbove !== null && spent > stopAbove)
      return { selected, overBudget: true, payments, supportersMoney: new Map() };
    const { remaining, payers } = found.get(p)!;
    // Pay: over the new scale L·payers a budget b is b·payers, and the share α is `remaining`.
    const newRound = toNow.length;
    let paidShare = 0;
    let paidAll = 0;
    let paidAllTotal = 0n;
    const moved = new Map<number, number>();
    for (const g of groups.supporters[p]!) {
      const c = groupClass[g]!;
      if (c === 0) continue;
      const w = weight[g]!;
      let next = moved.get(c);
      if (next === undefined) {
        const after = money[c]! * payers - remaining; // evaluate brought money[c] to the current scale
        next = after <= 0n ? 0 : money.length;
        if (next !== 0) {
          money.push(after);
          at.push(newRound);
          sizes.push(0);
        }
        moved.set(c, next);
      }
      if (next === 0) {
        paidAll += w;
        paidAllTotal += money[c]! * payers * BigInt(w);
      } else paidShare += w;
      sizes[c]!--;
      sizes[next]!++;
      groupClass[g] = next;
    }
    for (let r = 0; r < newRound; r++) toNow[r]! *= payers;
    toNow.push(1n);
    scale *= payers;
    if (explain)
      payments.set(p, {
        round,
        share: frac(remaining, scale),
        paidShare,
        paidAll,
        paidAllTotal: frac(paidAllTotal, scale),
      });
    compactClasses([money, at], sizes, groupClass);
  }
  const supportersMoney = new Map<number, Frac>();
  if (explain) {
    for (let p = 0; p < profile.projects.length; p++) {
      if (payments.has(p)) continue;
      let total = 0n;
      for (const g of groups.supporters[p]!) total += current(groupClass[g]!) * BigInt(weight[g]!);
      supportersMoney.set(p, frac(total, scale));
    }
  }
  return { selected, overBudget: false, payments, supportersMoney };
}

/** Drops classes nobody is in any more, so the class count follows the live budgets. */
function compactClasses(columns: unknown[][], sizes: number[], groupClass: Int32Array) {
  let live = 0;
  for (let c = 1; c < sizes.length; c++) if (sizes[c]! > 0) live++;
  if (live * 2 + 16 > sizes.length) return;
  const renumber = new Int32Array(sizes.length);
  let next = 1;
  for (let c = 1; c < sizes.length; c++) {
    if (sizes[c]! === 0) continue;
    renumber[c] = next;
    for (const column of columns) column[next] = column[c];
    sizes[next] = sizes[c]!;
    next++;
  }
  for (const column of columns) column.length = next;
  sizes.length = next;
  for (let g = 0; g < groupClass.length; g++) groupClass[g] = renumber[groupClass[g]!]!;
}

/**
 * Float bounds that hold whatever the rounding: `down(x, k)` is below and `up(x, k)` above the
 * exact value of a result whose computation rounded at most k times (each rounding is off by
 * at most 2^-53 of the result, as all values here are non-negative sums, products and quotients,
 * or differences rounded once). Values are money per voter, far from underflow.
 */
const ROUNDING = 2 ** -52;
const down = (x: number, k = 1) => x * (1 - (k + 1) * ROUNDING);
const up = (x: number, k = 1) => x * (1 + (k + 1) * ROUNDING);
/** How far apart the two candidates for α start; wider than any rounding the sums can do. */
const ALPHA_MARGIN = 2 ** -32;

/** What a run of MES selects, when the screen could tell. */
interface MesOutcome {
  selected: number[];
  overBudget: boolean;
}

/**
 * A run of MES in floats, each budget an interval certain to hold the exact budget, that gives
 * the exact run's outcome or says it cannot tell (null); add1 then counts that step exactly
 * with runMes. It is sound because every quantity is monotone in the budgets: a project's
 * equal share α falls as its supporters hold more, so the exact α lies between α at the upper
 * budgets and α at the lower ones, and a budget after paying, max(0, b − α), is bounded by the
 * bounds of b and α. Each of these bounds is checked, not assumed (see shareBounds). A choice
 * is taken only when it is certain: a project is chosen when its price is certainly below every
 * other's, and dropped only when its supporters certainly hold less than its cost; an exact
 * tie, or a near one, is left to the exact run, which settles it by the tie order.
 */
function screenMes(
  profile: Profile,
  groups: VoterGroups,
  share: bigint,
  utility: Utility,
  stopAbove: bigint | null,
): MesOutcome | null {
  const weight = groups.weight;
  const start = Number(share) / profile.voters;
  // Class 0 is "certainly no money left"; class 1 is the starting share.
  const lo: number[] = [0, down(start, 2)];
  const hi: number[] = [0, up(start, 2)];
  const sizes: number[] = [0, weight.length];
  const groupClass = new Int32Array(weight.length).fill(1);
  let tally = new Int32Array(16);
  let movedTo = new Int32Array(16);
  const candidates = new Set(
    profile.projects.map((_, i) => i).filter((p) => groups.supporters[p]!.length > 0),
  );
  const lower = new Float64Array(profile.projects.length);
  const selected: number[] = [];
  let spent = 0n;
  const found = new Map<number, { alphaLo: number; alphaHi: number; rhoLo: number; rhoHi: number }>();
  /** The price interval of p, null when it is certainly unaffordable, 'unsure' when the floats cannot tell. */
  const evaluate = (p: number) => {
    const touched: number[] = [];
    if (tally.length < lo.length) tally = new Int32Array(lo.length * 2);
    for (const g of groups.supporters[p]!) {
      const c = groupClass[g]!;
      if (c === 0) continue;
      if (tally[c] === 0) touched.push(c);
      tally[c]! += weight[g]!;
    }
    const counts = touched.map((c) => tally[c]!);
    for (const c of touched) tally[c] = 0;
    const cost = Number(profile.costs[p]!);
    const alpha = shareBounds(
      touched.map((c) => lo[c]!),
      touched.map((c) => hi[c]!),
      counts,
      cost,
    );
    if (alpha === null || alpha === 'unsure') return alpha;
    const u = utility === 'cost' ? cost : 1;
    const value = { ...alpha, rhoLo: down(alpha.alphaLo / u), rhoHi: up(alpha.alphaHi / u) };
    found.set(p, value);
    return value;
  };
  for (let round = 1; candidates.size > 0; round++) {
    assert(round <= profile.projects.length, 'a round selects a project or ends the run');
    found.clear();
    const order = [...candidates].sort((a, b) => lower[a]! - lower[b]!);
    let best: number | null = null;
    let bestHi = Infinity;
    for (const p of order) {
      if (bestHi < lower[p]!) break;
      const value = evaluate(p);
      if (value === 'unsure') return null;
      if (value === null) {
        candidates.delete(p);
        continue;
      }
      lower[p] = value.rhoLo;
      if (value.rhoHi < bestHi) {
        best = p;
        bestHi = value.rhoHi;
      }
    }
    if (best === null) break;
    for (const [q, value] of found) if (q !== best && value.rhoLo <= bestHi) return null; // too close to call
    const p = best;
    candidates.delete(p);
    selected.push(p);
    spent += profile.costs[p]!;
    if (stopAbove !== null && spent > stopAbove) return { selected, overBudget: true };
    const { alphaLo, alphaHi } = found.get(p)!;
    // The class each paying class moves to (offset by one, 0 meaning not decided yet).
    if (movedTo.length < lo.length) movedTo = new Int32Array(lo.length * 2);
    const paying: number[] = [];
    for (const g of groups.supporters[p]!) {
      const c = groupClass[g]!;
      if (c === 0) continue;
      if (movedTo[c] === 0) {
        const most = hi[c]! - alphaLo;
        const next = most <= 0 ? 0 : lo.length;
        if (next !== 0) {
          lo.push(Math.max(0, down(lo[c]! - alphaHi)));
          hi.push(up(most));
          sizes.push(0);
        }
        movedTo[c] = next + 1;
        paying.push(c);
      }
      const next = movedTo[c]! - 1;
      sizes[c]!--;
      sizes[next]!++;
      groupClass[g] = next;
    }
    for (const c of paying) movedTo[c] = 0;
    compactClasses([lo, hi], sizes, groupClass);
  }
  return { selected, overBudget: false };
}

/**
 * Bounds on the equal share α of a project costing `cost` among supporters whose budgets lie
 * between `lo` and `hi` (each class held by `counts` of them). With f(a) = Σ min(b, a) the money
 * they would pay at a share a, α is where f reaches the cost, and f only grows with a and with
 * the budgets. So a candidate `alphaLo` is below α if f at the upper budgets is still short of
 * the cost there, and `alphaHi` is above α if f at the lower budgets already covers it; both
 * sums are checked with their rounding counted against them. Null when the supporters certainly
 * hold less than the cost; 'unsure' when the floats cannot tell.
 */
function shareBounds(
  lo: number[],
  hi: number[],
  counts: number[],
  cost: number,
): { alphaLo: number; alphaHi: number } | null | 'unsure' {
  const m = 2 * lo.length + 2;
  const pays = (budgets: number[], a: number) =>
    budgets.reduce((sum, b, i) => sum + Math.min(b, a) * counts[i]!, 0);
  if (up(pays(hi, Infinity), m) < cost) return null;
  if (down(pays(lo, Infinity), m) < cost) return 'unsure';
  const alphaLo = approximateShare(hi, counts, cost) * (1 - ALPHA_MARGIN);
  const alphaHi = approximateShare(lo, counts, cost) * (1 + ALPHA_MARGIN);
  if (!(up(pays(hi, alphaLo), m) < cost) || !(down(pays(lo, alphaHi), m) >= cost)) return 'unsure';
  return { alphaLo, alphaHi };
}

/** equalShare in floats: only a guess, which shareBounds checks. */
function approximateShare(budgets: number[], counts: number[], cost: number): number {
  let remaining = cost;
  let payers = counts.reduce((a, b) => a + b, 0);
  let rich = budgets.map((_, i) => i);
  for (let pass = 0; pass <= budgets.length && payers > 0; pass++) {
    const stillRich = rich.filter((i) => {
      if (budgets[i]! * payers >= remaining) return true;
      remaining -= budgets[i]! * counts[i]!;
      payers -= counts[i]!;
      return false;
    });
    if (stillRich.length === rich.length) break;
    rich = stillRich;
  }
  return payers > 0 ? remaining / payers : Infinity;
}

function costOf(profile: Profile, selected: number[]): bigint {
  return selected.reduce((sum, p) => sum + profile.costs[p]!, 0n);
}

/** Every project outside the selection costs more than what is left. */
function exhaustive(profile: Profile, selected: number[]): boolean {
  const left = profile.budget - costOf(profile, selected);
  const chosen = new Set(selected);
  return profile.costs.every((c, p) => chosen.has(p) || c > left);
}

/**
 * MES, then the completion. `add1` (equalshares.net): raise every voter's share by one
 * currency unit at a time and rerun MES, stopping at the first outcome that costs more than
 * the real budget (keeping the one before it) or that is exhaustive; then a greedy pass by
 * votes spends what is left. Choices the definition leaves open, documented here:
 * - "exhaustive" looks at every project, as the reference implementation does;
 * - the raising also stops once every project with a supporter is selected, as no larger
 *   share can select anything more (otherwise a project nobody voted for that fits would keep
 *   the loop going for ever);
 * - every step is counted, one at a time. MES is not monotone in the share, so a search
 *   (doubling, bisection) could land on another outcome than the step-by-one definition.
 *   Two safe shortcuts were measured on the benchmark's 10,000-voter election (733 steps) and
 *   dropped: skipping steps whose runs make exactly the same choices never skipped one (some
 *   voter's budget crosses some share at every step), and screening two steps at once with
 *   screenMes could not call 93% of the pairs. What makes add1 fast is that each step is
 *   screened in floats (screenMes, exact in its outcome), counted exactly (runMes) only when
 *   the screen cannot tell, and that a run stops as soon as it costs more than the budget.
 */
function countMes(profile: Profile, options: CountOptions, tie: Int32Array): CountResult {
  const utility = options.utility ?? 'cost';
  const completion = options.completion ?? 'add1';
  const n = BigInt(profile.voters);
  if (n === 0n) return finish(profile, options, greedy(profile, tie, [], new Map()), null, 0);
  const step = BigInt(options.add1Step ?? 1);
  assert(step > 0n, 'the add1 step is at least one unit');
  const groups = groupVoters(profile);
  // Each voter's share at step t is budget/n + step·t, written over n.
  const shareAt = (t: bigint) => profile.budget + step * t * n;
  let kept = 0n;
  if (completion === 'add1') {
    const supported = groups.supporters.filter((s) => s.length > 0).length;
    // Once a share alone pays for every project, every supported project is selected: the loop has ended by then.
    const lastStep =
      costOf(
        profile,
        profile.projects.map((_, p) => p),
      ) /
        step +
      1n;
    for (let t = 0n; ; t++) {
      assert(t <= lastStep, 'add1 ends once a share pays for every project');
      const stopAbove = t === 0n ? null : profile.budget;
      const run =
        screenMes(profile, groups, shareAt(t), utility, stopAbove) ??
        runMes(profile, groups, shareAt(t), utility, tie, stopAbove, false);
      if (run.overBudget) break;
      kept = t;
      if (exhaustive(profile, run.selected) || run.selected.length === supported) break;
    }
  }
  const run = runMes(profile, groups, shareAt(kept), utility, tie, null, true);
  assert(costOf(profile, run.selected) <= profile.budget, 'the MES outcome kept fits the budget');
  const reasons: Reasons = new Map();
  for (const [p, pay] of run.payments) {
    reasons.set(p, {
      kind: 'equal_shares',
      round: pay.round,
      share: Rational.of(pay.share.num, pay.share.den),
      paidShare: pay.paidShare,
      paidAll: pay.paidAll,
      paidAllTotal: Rational.of(pay.paidAllTotal.num, pay.paidAllTotal.den),
    });
  }
  let selection: Selection = { selected: run.selected, reasons };
  if (completion === 'add1') {
    const completed = greedy(profile, tie, run.selected, new Map());
    for (const p of completed.selected.slice(run.selected.length)) reasons.set(p, completed.reasons.get(p)!);
    selection = { selected: completed.selected, reasons };
  }
  for (const [p, money] of run.supportersMoney) {
    if (reasons.has(p)) continue;
    reasons.set(
      p,
      profile.supporters[p]!.length === 0
        ? { kind: 'no_supporters' }
        : { kind: 'unaffordable', supportersMoney: Rational.of(money.num, money.den) },
    );
  }
  const shareKept = Rational.of(shareAt(kept), n);
  return finish(
    profile,
    { ...options, utility, completion },
    selection,
    shareKept,
    completion === 'add1' ? Number(kept) : null,
  );
}

/**
 * Sequential Phragmén: voters earn money at the same rate; a project is bought once its
 * supporters together hold its cost, which happens at load (Σ their loads + cost) / supporters;
 * the project with the least such load is bought and its supporters' loads all become that
 * load. The rule stops when that project does not fit in what is left of the budget.
 */
function phragmen(profile: Profile, tie: Int32Array): Selection {
  const n = profile.voters;
  // Loads take one value per round: class r is "last paid in round r"; class 0 is load 0.
  const loads: Rational[] = [Rational.ZERO];
  const voterClass = new Int32Array(n);
  const reasons: Reasons = new Map();
  const candidates = new Set<number>();
  profile.projects.forEach((_, p) => {
    if (profile.supporters[p]!.length === 0) reasons.set(p, { kind: 'no_supporters' });
    else if (profile.costs[p]! <= profile.budget) candidates.add(p);
  });
  const lower = new Float64Array(profile.projects.length);
  const loadOf = new Map<number, Rational>();
  const evaluate = (p: number): Frac => {
    const perClass = new Map<number, number>();
    for (const v of profile.supporters[p]!)
      perClass.set(voterClass[v]!, (perClass.get(voterClass[v]!) ?? 0) + 1);
    let total = Rational.of(profile.costs[p]!);
    for (const [c, k] of perClass) total = total.add(loads[c]!.mulInt(BigInt(k)));
    const load = total.divInt(BigInt(profile.supporters[p]!.length));
    loadOf.set(p, load);
    return frac(load.num, load.den);
  };
  const selected: number[] = [];
  let left = profile.budget;
  for (let round = 1; candidates.size > 0; round++) {
    const p = lazyArgmin(candidates, lower, tie, evaluate);
    if (p === null) break;
    if (profile.costs[p]! > left) {
      for (const q of candidates)
        reasons.set(q, { kind: 'phragmen_stopped', stoppedAt: profile.projects[p]!.id, left: Number(left) });
      break;
    }
    candidates.delete(p);
    selected.push(p);
    left -= profile.costs[p]!;
    loads.push(loadOf.get(p)!);
    for (const v of profile.supporters[p]!) voterClass[v] = loads.length - 1;
    reasons.set(p, { kind: 'phragmen_bought', round, load: loadOf.get(p)! });
  }
  profile.projects.forEach((_, p) => {
    if (!reasons.has(p)) reasons.set(p, { kind: 'phragmen_stopped', stoppedAt: null, left: Number(left) });
  });
  return { selected, reasons };
}

function finish(
  profile: Profile,
  options: CountOptions,
  selection: Selection,
  shareKept: Rational | null,
  add1Steps: number | null,
): CountResult {
  const spent = costOf(profile, selection.selected);
  assert(spent <= profile.budget, 'a count never spends more than the budget');
  const position = new Map(selection.selected.map((p, i) => [p, i + 1]));
  return {
    rule: options.rule,
    utility: options.rule === 'mes' ? (options.utility ?? 'cost') : null,
    completion: options.rule === 'mes' ? (options.completion ?? 'add1') : null,
    budget: Number(profile.budget),
    spent: Number(spent),
    winners: selection.selected.map((p) => profile.projects[p]!.id),
    projects: profile.projects.map((project, p) => ({
      id: project.id,
      cost: project.cost,
      votes: Number(profile.scores[p]!),
      supporters: profile.supporters[p]!.length,
      funded: position.has(p),
      position: position.get(p) ?? null,
      reason: selection.reasons.get(p) ?? { kind: 'no_supporters' },
    })),
    shareKept,
    add1Steps,
  };
}

/** One sentence per project for the results page and the CLI, with money in the caller's format. */
export function describeReason(reason: Reason, money: (amount: Rational) => string): string {
  const whole = (n: number) => money(Rational.of(n));
  switch (reason.kind) {
    case 'fitted':
      return `Funded: it fitted in the ${whole(reason.left)} left when its turn came by votes.`;
    case 'no_room':
      return (
        `Not funded: only ${whole(reason.left)} was left when its turn came by votes` +
        (reason.takenBy ? `; funding project ${reason.takenBy} took the money it needed.` : '.')
      );
    case 'equal_shares':
      return (
        `Funded in round ${reason.round} of equal shares: ${reason.paidShare} supporter${reason.paidShare === 1 ? '' : 's'} paid ${money(reason.share)} each` +
        (reason.paidAll
          ? `, and ${reason.paidAll} who had less paid all they had left (${money(reason.paidAllTotal)} in total).`
          : '.')
      );
    case 'unaffordable':
      return `Not funded: its supporters had only ${money(reason.supportersMoney)} of their equal shares left, less than its cost.`;
    case 'phragmen_bought':
      return `Funded in round ${reason.round}: its supporters' load reached ${money(reason.load)} each.`;
    case 'phragmen_stopped':
      return reason.stoppedAt
        ? `Not funded: counting stopped when project ${reason.stoppedAt}, next in line, did not fit in the ${whole(reason.left)} left.`
        : `Not funded: it costs more than the budget.`;
    case 'no_supporters':
      return 'Not funded: nobody voted for it.';
  }
}
