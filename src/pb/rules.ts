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
  | { kind: 'equal_shares'; round: number; share: Rational; paidShare: number; paidAll: number; paidAllTotal: Rational }
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
      reasons.set(p, { kind: 'no_room', left: Number(left), takenBy: taker >= 0 ? profile.projects[selected[taker]!]!.id : null });
    }
  }
  return { selected, reasons };
}

/**
 * A non-negative fraction whose numerator is affine in add1's step t: (x + y·t) / den, with
 * `v` its numerator at the step being counted. Parts need not be in lowest terms, which keeps
 * them cheap to build and compare. Outside add1 (and for Phragmén) y is 0.
 */
interface Frac {
  x: bigint;
  y: bigint;
  den: bigint;
  v: bigint;
}
const constant = (num: bigint, den: bigint): Frac => ({ x: num, y: 0n, den, v: num });
const lessNow = (a: Frac, b: Frac) => a.v * b.den < b.v * a.den;

/**
 * How far add1 can skip ahead without changing anything. Every decision of an MES run is a
 * sign test of an affine function of the step t (budgets, equal shares and prices per unit of
 * utility are all affine in t once the run's choices are fixed). Recording each test gives
 * the last step up to which every test keeps its result, so the run there would make the same
 * choices and select the same projects: the steps in between need not be counted one by one.
 */
class Validity {
  limit: bigint | null = null;
  constructor(readonly on: boolean) {}

  /** x + y·t ≥ 0 (> 0 when strict) held at this step; the run is valid only while it holds. */
  keep(x: bigint, y: bigint, strict: boolean) {
    if (!this.on || y >= 0n) return;
    const q = x / -y;
    const last = strict && x % -y === 0n ? q - 1n : q;
    if (this.limit === null || last < this.limit) this.limit = last;
  }

  /** a ≤ b (a < b when strict) held at this step. */
  keepOrder(a: Frac, b: Frac, strict: boolean) {
    if (!this.on) return;
    this.keep(b.x * a.den - a.x * b.den, b.y * a.den - a.y * b.den, strict);
  }

  /** Whether a comes before b, ties going to a when `tieToA`; the answer is recorded. */
  decide(a: Frac, b: Frac, tieToA: boolean): boolean {
    const left = a.v * b.den;
    const right = b.v * a.den;
    const before = tieToA ? left <= right : left < right;
    if (before) this.keepOrder(a, b, !tieToA);
    else this.keepOrder(b, a, tieToA);
    return before;
  }
}

/**
 * Picks the candidate with the least value, evaluating as few as it can: each candidate's
 * value never goes down between rounds (MES: supporters only lose money; Phragmén: loads only
 * grow), so last round's value is a lower bound, and once the best value found comes before
 * the next candidate's bound no later candidate can beat it. `evaluate` returns null for a
 * candidate that can never be chosen again; it is dropped.
 */
function lazyArgmin(candidates: Set<number>, bound: Frac[], tie: Int32Array, validity: Validity, evaluate: (p: number) => Frac | null): number | null {
  const order = [...candidates].sort((a, b) => (lessNow(bound[a]!, bound[b]!) ? -1 : lessNow(bound[b]!, bound[a]!) ? 1 : tie[a]! - tie[b]!));
  let best: number | null = null;
  let bestValue: Frac | null = null;
  for (const p of order) {
    if (best !== null && validity.decide(bestValue!, bound[p]!, tie[best]! < tie[p]!)) break;
    const value = evaluate(p);
    if (value === null) {
      candidates.delete(p);
      continue;
    }
    bound[p] = value;
    if (best === null || validity.decide(value, bestValue!, tie[p]! < tie[best]!)) {
      best = p;
      bestValue = value;
    }
  }
  return best;
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
  /** The last add1 step at which this run would select the same projects (null: every later step). */
  sameUpTo: bigint | null;
  payments: Map<number, MesPayment>;
  /** What each unselected project's supporters had left at the end, when explaining. */
  supportersMoney: Map<number, Frac>;
}

interface MesStart {
  /** Each voter's share is (x + y·t) / den. */
  share: Frac;
  t: bigint;
}

/**
 * One run of MES. Voters whose budgets are equal are kept as one class (at first all voters
 * are one class), so the work per round follows the number of distinct budgets, not voters.
 * All budgets are integers over a common scale L, which grows by the number of payers each
 * round, so every comparison is integer arithmetic. With `stopAbove`, the run gives up as soon
 * as what it selected costs more than that (add1 only needs to know that).
 */
function runMes(profile: Profile, start: MesStart, utility: Utility, tie: Int32Array, stopAbove: bigint | null, explain: boolean, track: boolean): MesRun {
  const n = profile.voters;
  const t = start.t;
  const validity = new Validity(track);
  let scale = start.share.den;
  // Class 0 is "no money left"; class 1 is the starting share.
  const bx: bigint[] = [0n, start.share.x];
  const by: bigint[] = [0n, start.share.y];
  const bv: bigint[] = [0n, start.share.x + start.share.y * t];
  const sizes: number[] = [0, n];
  const voterClass = new Int32Array(n).fill(1);
  let tally = new Int32Array(16);
  const candidates = new Set(profile.projects.map((_, i) => i).filter((p) => profile.supporters[p]!.length > 0));
  const bound: Frac[] = profile.projects.map(() => constant(0n, 1n));
  const selected: number[] = [];
  const payments = new Map<number, MesPayment>();
  const found = new Map<number, { rx: bigint; ry: bigint; rv: bigint; payers: bigint }>();
  let spent = 0n;

  /**
   * The equal share α of project p: its cost spread over the supporters with money, those
   * with less than α paying all they have. Returned as the price per unit of utility, α / u.
   */
  const evaluate = (p: number): Frac | null => {
    const touched: number[] = [];
    if (tally.length < bv.length) tally = new Int32Array(bv.length * 2);
    for (const v of profile.supporters[p]!) {
      const c = voterClass[v]!;
      if (c === 0) continue;
      if (tally[c] === 0) touched.push(c);
      tally[c]!++;
    }
    touched.sort((a, b) => (bv[a]! < bv[b]! ? -1 : bv[a]! > bv[b]! ? 1 : 0));
    let rx = profile.costs[p]! * scale;
    let ry = 0n;
    let rv = rx;
    let payers = 0n;
    for (const c of touched) payers += BigInt(tally[c]!);
    let split = touched.length;
    for (let i = 0; i < touched.length; i++) {
      const c = touched[i]!;
      if (bv[c]! * payers >= rv) {
        split = i;
        break;
      }
      const k = BigInt(tally[c]!);
      rx -= bx[c]! * k;
      ry -= by[c]! * k;
      rv -= bv[c]! * k;
      payers -= k;
    }
    for (const c of touched) tally[c] = 0;
    if (split === touched.length) {
      validity.keep(rx, ry, true); // still unaffordable: its supporters hold less than its cost
      return null;
    }
    if (track) {
      // The same supporters pay all they have (budget ≤ α) and the rest pay α (budget ≥ α).
      touched.forEach((c, i) => {
        if (i < split) validity.keep(rx - bx[c]! * payers, ry - by[c]! * payers, false);
        else validity.keep(bx[c]! * payers - rx, by[c]! * payers - ry, false);
      });
    }
    found.set(p, { rx, ry, rv, payers });
    // α = remaining / (payers · L); ρ = α / u.
    const u = utility === 'cost' ? profile.costs[p]! : 1n;
    return { x: rx, y: ry, den: payers * scale * u, v: rv };
  };

  for (let round = 1; candidates.size > 0; round++) {
    found.clear();
    const p = lazyArgmin(candidates, bound, tie, validity, evaluate);
    if (p === null) break;
    candidates.delete(p);
    selected.push(p);
    spent += profile.costs[p]!;
    if (stopAbove !== null && spent > stopAbove) return { selected, overBudget: true, sameUpTo: null, payments, supportersMoney: new Map() };
    const { rx, ry, rv, payers } = found.get(p)!;
    // Pay: the new scale is L·payers; a budget b becomes b·payers, less `remaining` for a payer.
    let paidShare = 0;
    let paidAll = 0;
    let paidAllTotal = 0n;
    const moved = new Map<number, number>();
    for (let c = 1; c < bv.length; c++) {
      bx[c]! *= payers;
      by[c]! *= payers;
      bv[c]! *= payers;
    }
    for (const v of profile.supporters[p]!) {
      const c = voterClass[v]!;
      if (c === 0) continue;
      let next = moved.get(c);
      if (next === undefined) {
        if (bv[c]! <= rv) {
          validity.keep(rx - bx[c]!, ry - by[c]!, false);
          next = 0;
        } else {
          validity.keep(bx[c]! - rx, by[c]! - ry, true);
          next = bv.length;
          bx.push(bx[c]! - rx);
          by.push(by[c]! - ry);
          bv.push(bv[c]! - rv);
          sizes.push(0);
        }
        moved.set(c, next);
      }
      if (next === 0) {
        paidAll++;
        paidAllTotal += bv[c]!;
      } else paidShare++;
      sizes[c]!--;
      sizes[next]!++;
      voterClass[v] = next;
    }
    scale *= payers;
    if (explain) payments.set(p, { round, share: constant(rv, scale), paidShare, paidAll, paidAllTotal: constant(paidAllTotal, scale) });
    compactClasses([bx, by, bv], sizes, voterClass);
  }
  const supportersMoney = new Map<number, Frac>();
  if (explain) {
    for (let p = 0; p < profile.projects.length; p++) {
      if (payments.has(p)) continue;
      let total = 0n;
      for (const v of profile.supporters[p]!) total += bv[voterClass[v]!]!;
      supportersMoney.set(p, constant(total, scale));
    }
  }
  return { selected, overBudget: false, sameUpTo: validity.limit, payments, supportersMoney };
}

/** Drops classes nobody is in any more, so the class count follows the live budgets. */
function compactClasses(columns: bigint[][], sizes: number[], voterClass: Int32Array) {
  let live = 0;
  for (let c = 1; c < sizes.length; c++) if (sizes[c]! > 0) live++;
  if (live * 2 + 16 > sizes.length) return;
  const renumber = new Int32Array(sizes.length);
  let next = 1;
  for (let c = 1; c < sizes.length; c++) {
    if (sizes[c]! === 0) continue;
    renumber[c] = next;
    for (const column of columns) column[next] = column[c]!;
    sizes[next] = sizes[c]!;
    next++;
  }
  for (const column of columns) column.length = next;
  sizes.length = next;
  for (let v = 0; v < voterClass.length; v++) voterClass[v] = renumber[voterClass[v]!]!;
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
 * - steps whose runs would make exactly the same choices are skipped (see Validity): this is
 *   not a search on the share, which could land on a different outcome because MES is not
 *   monotone in it; every step where any choice could change is counted.
 */
function countMes(profile: Profile, options: CountOptions, tie: Int32Array): CountResult {
  const utility = options.utility ?? 'cost';
  const completion = options.completion ?? 'add1';
  const n = BigInt(profile.voters);
  if (n === 0n) return finish(profile, options, greedy(profile, tie, [], new Map()), null, 0);
  const step = BigInt(options.add1Step ?? 1);
  assert(step > 0n, 'the add1 step is at least one unit');
  // Each voter's share at step t is budget/n + step·t, written over n.
  const share: Frac = { x: profile.budget, y: step * n, den: n, v: profile.budget };
  let kept = 0n;
  if (completion === 'add1') {
    const supported = profile.supporters.filter((s) => s.length > 0).length;
    for (let t = 0n; ; ) {
      const run = runMes(profile, { share, t }, utility, tie, t === 0n ? null : profile.budget, false, true);
      if (run.overBudget) break;
      if (exhaustive(profile, run.selected) || run.selected.length === supported || run.sameUpTo === null) {
        kept = t;
        break;
      }
      assert(run.sameUpTo >= t, 'a run is valid at its own step');
      kept = run.sameUpTo;
      t = run.sameUpTo + 1n;
    }
  }
  const run = runMes(profile, { share, t: kept }, utility, tie, null, true, false);
  assert(costOf(profile, run.selected) <= profile.budget, 'the MES outcome kept fits the budget');
  const reasons: Reasons = new Map();
  for (const [p, pay] of run.payments) {
    reasons.set(p, {
      kind: 'equal_shares',
      round: pay.round,
      share: Rational.of(pay.share.v, pay.share.den),
      paidShare: pay.paidShare,
      paidAll: pay.paidAll,
      paidAllTotal: Rational.of(pay.paidAllTotal.v, pay.paidAllTotal.den),
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
    reasons.set(p, profile.supporters[p]!.length === 0 ? { kind: 'no_supporters' } : { kind: 'unaffordable', supportersMoney: Rational.of(money.v, money.den) });
  }
  const shareKept = Rational.of(share.x + share.y * kept, share.den);
  return finish(profile, { ...options, utility, completion }, selection, shareKept, completion === 'add1' ? Number(kept) : null);
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
  const bound: Frac[] = profile.projects.map(() => constant(0n, 1n));
  const untracked = new Validity(false);
  const loadOf = new Map<number, Rational>();
  const evaluate = (p: number): Frac => {
    const perClass = new Map<number, number>();
    for (const v of profile.supporters[p]!) perClass.set(voterClass[v]!, (perClass.get(voterClass[v]!) ?? 0) + 1);
    let total = Rational.of(profile.costs[p]!);
    for (const [c, k] of perClass) total = total.add(loads[c]!.mulInt(BigInt(k)));
    const load = total.divInt(BigInt(profile.supporters[p]!.length));
    loadOf.set(p, load);
    return constant(load.num, load.den);
  };
  const selected: number[] = [];
  let left = profile.budget;
  for (let round = 1; candidates.size > 0; round++) {
    const p = lazyArgmin(candidates, bound, tie, untracked, evaluate);
    if (p === null) break;
    if (profile.costs[p]! > left) {
      for (const q of candidates) reasons.set(q, { kind: 'phragmen_stopped', stoppedAt: profile.projects[p]!.id, left: Number(left) });
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

function finish(profile: Profile, options: CountOptions, selection: Selection, shareKept: Rational | null, add1Steps: number | null): CountResult {
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
      return `Not funded: only ${whole(reason.left)} was left when its turn came by votes` + (reason.takenBy ? `; funding project ${reason.takenBy} took the money it needed.` : '.');
    case 'equal_shares':
      return (
        `Funded in round ${reason.round} of equal shares: ${reason.paidShare} supporter${reason.paidShare === 1 ? '' : 's'} paid ${money(reason.share)} each` +
        (reason.paidAll ? `, and ${reason.paidAll} who had less paid all they had left (${money(reason.paidAllTotal)} in total).` : '.')
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
