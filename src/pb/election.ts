import { assert, Invalid } from '../core/errors.ts';

/**
 * What a count needs, independent of where it came from (a process in the database or a
 * Pabulib file): projects with integer costs, the ballots, and the budget. Costs and the
 * budget are in one currency unit throughout: pence for our processes, whatever the file
 * says for a Pabulib file.
 */
export interface Project {
  id: string;
  cost: number;
  name?: string;
}

export const VOTE_TYPES = ['approval', 'ordinal', 'cumulative', 'scoring'] as const;
export type VoteType = (typeof VOTE_TYPES)[number];

/** Projects a voter chose; `points` (same length) for cumulative and scoring ballots, ranked best first for ordinal ones. */
export interface Ballot {
  projects: string[];
  points?: number[];
}

export interface Election {
  budget: number;
  projects: Project[];
  voteType: VoteType;
  ballots: Ballot[];
}

/** The limits a process puts on each ballot, which decide the ballot form and its validation. */
export type BallotRules =
  | { kind: 'approval_budget'; limit: number }
  | { kind: 'approval_max'; maxProjects: number }
  | { kind: 'ordinal'; maxRanks: number }
  | { kind: 'cumulative'; maxPoints: number };

export const BALLOT_KINDS = ['approval_budget', 'approval_max', 'ordinal', 'cumulative'] as const;

export function voteTypeOf(rules: BallotRules): VoteType {
  return rules.kind === 'ordinal' ? 'ordinal' : rules.kind === 'cumulative' ? 'cumulative' : 'approval';
}

/**
 * Checks one voter's ballot against the process's limits; messages are for the voter.
 * Returns the ballot in canonical form (approval sets sorted by the project list's order).
 */
export function validateBallot(rules: BallotRules, projects: Project[], ballot: Ballot): Ballot {
  const byId = new Map(projects.map((p) => [p.id, p]));
  const chosen = ballot.projects;
  const problem = (message: string): never => {
    throw new Invalid('There is a problem with your vote', { projects: message });
  };
  if (new Set(chosen).size !== chosen.length) problem('Choose each project only once');
  for (const id of chosen) if (!byId.has(id)) problem('Choose projects from the list');
  switch (rules.kind) {
    case 'approval_budget': {
      if (chosen.length === 0) problem('Choose at least one project');
      const total = chosen.reduce((sum, id) => sum + byId.get(id)!.cost, 0);
      if (total > rules.limit)
        problem(
          `The projects you chose cost more than the budget; remove some so they cost ${rules.limit} or less`,
        );
      return { projects: canonicalOrder(projects, chosen) };
    }
    case 'approval_max':
      if (chosen.length === 0) problem('Choose at least one project');
      if (chosen.length > rules.maxProjects) problem(`Choose up to ${rules.maxProjects} projects`);
      return { projects: canonicalOrder(projects, chosen) };
    case 'ordinal':
      if (chosen.length === 0) problem('Rank at least one project');
      if (chosen.length > rules.maxRanks) problem(`Rank up to ${rules.maxRanks} projects`);
      return { projects: [...chosen] };
    case 'cumulative': {
      const points = ballot.points ?? [];
      if (points.length !== chosen.length) problem('Give each project you choose a number of points');
      if (!points.every((p) => Number.isSafeInteger(p) && p > 0))
        problem('Points must be whole numbers of 1 or more');
      const total = points.reduce((a, b) => a + b, 0);
      if (total === 0) problem('Give at least one project some points');
      if (total > rules.maxPoints)
        problem(`You can give ${rules.maxPoints} points in total; you gave ${total}`);
      const order = canonicalOrder(projects, chosen);
      const pointsOf = new Map(chosen.map((id, i) => [id, points[i]!]));
      return { projects: order, points: order.map((id) => pointsOf.get(id)!) };
    }
  }
}

function canonicalOrder(projects: Project[], chosen: string[]): string[] {
  const wanted = new Set(chosen);
  return projects.filter((p) => wanted.has(p.id)).map((p) => p.id);
}

/**
 * The election in the compact shape the counting rules work on: project indexes, each
 * project's supporters, and each project's score. Ordinal and point ballots count as approval
 * of every project they name with points above zero for MES and Phragmén, which are defined
 * for approval ballots; greedy uses the points themselves (ordinal: one vote per named project).
 */
export interface Profile {
  projects: Project[];
  budget: bigint;
  costs: bigint[];
  voters: number;
  /** Voter indexes supporting each project, ascending. */
  supporters: Int32Array[];
  /** Approvals (approval and ordinal) or points (cumulative and scoring) per project. */
  scores: bigint[];
}

export function profileOf(election: Election): Profile {
  assert(
    Number.isSafeInteger(election.budget) && election.budget >= 0,
    'the budget is a whole number of 0 or more',
  );
  const index = new Map<string, number>();
  election.projects.forEach((p, i) => {
    assert(!index.has(p.id), `project ${p.id} is listed twice`);
    assert(Number.isSafeInteger(p.cost) && p.cost > 0, `project ${p.id} has a cost of at least 1`);
    index.set(p.id, i);
  });
  const lists: number[][] = election.projects.map(() => []);
  const scores = election.projects.map(() => 0n);
  const pointsCount = election.voteType === 'cumulative' || election.voteType === 'scoring';
  election.ballots.forEach((ballot, voter) => {
    const seen = new Set<number>();
    ballot.projects.forEach((id, k) => {
      const p = index.get(id);
      assert(p !== undefined, `ballot ${voter + 1} names project ${id}, which is not in the election`);
      assert(!seen.has(p), `ballot ${voter + 1} names project ${id} twice`);
      seen.add(p);
      const points = pointsCount ? (ballot.points?.[k] ?? 0) : 1;
      assert(
        Number.isSafeInteger(points) && points >= 0,
        `ballot ${voter + 1} gives project ${id} points that are not a whole number`,
      );
      if (points === 0) return;
      lists[p]!.push(voter);
      scores[p]! += BigInt(points);
    });
  });
  return {
    projects: election.projects,
    budget: BigInt(election.budget),
    costs: election.projects.map((p) => BigInt(p.cost)),
    voters: election.ballots.length,
    supporters: lists.map((l) => Int32Array.from(l)),
    scores,
  };
}
