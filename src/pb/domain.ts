import { createHash, randomInt } from 'node:crypto';
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { formatPounds } from '../core/money.ts';
import { BALLOT_KINDS, type BallotRules } from './election.ts';
import { COMPLETIONS, RULES, UTILITIES, type Completion, type RuleName, type Utility } from './rules.ts';
import { isIsoDate } from '../core/dates.ts';
import { isPostcodeArea, normalisePostcodeArea } from '../core/postcodes.ts';

/** The ledger accounts PB holds its winners' money in and spends it from, opened on first use. */
export const PB_ACCOUNTS = { commitment: 'PB-COMMIT', spend: 'PB-SPEND' } as const;

export const PHASES = ['proposals', 'review', 'voting', 'results', 'delivery'] as const;
export type Phase = (typeof PHASES)[number];

export const PHASE_LABELS: Record<Phase, string> = {
  proposals: 'Proposals',
  review: 'Council review',
  voting: 'Voting',
  results: 'Results',
  delivery: 'Delivery',
};

/** What residents can do in each phase, shown on the process page. */
export const PHASE_HINTS: Record<Phase, string> = {
  proposals: 'Residents and community groups propose projects.',
  review:
    'The council checks each proposal is feasible, eligible and costed right, and publishes its reasons.',
  voting:
    'Residents vote for the projects on the ballot. Only the number of ballots is public until voting closes.',
  results: 'Voting has closed; the votes are counted and the result published.',
  delivery: 'The funded projects are delivered; their spend and progress are published.',
};

export type BallotKind = (typeof BALLOT_KINDS)[number];
export const BALLOT_KIND_LABELS: Record<BallotKind, string> = {
  approval_budget: 'Approve projects up to the budget',
  approval_max: 'Approve up to a number of projects',
  ordinal: 'Rank projects',
  cumulative: 'Share out points',
};
export const RULE_LABELS: Record<RuleName, string> = {
  greedy: 'Greedy: most votes first, while they fit',
  mes: 'Method of Equal Shares',
  phragmen: 'Sequential Phragmén',
};

export const VOTER_MODES = ['accounts', 'codes'] as const;
export type VoterMode = (typeof VOTER_MODES)[number];
export type Moderation = 'pending' | 'published' | 'hidden';
export type Review = 'pending' | 'eligible' | 'ineligible';
export type BallotChannel = 'online' | 'paper' | 'import';
export const DELIVERY_STATUSES = ['not_started', 'in_progress', 'completed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const DELIVERY_LABELS: Record<DeliveryStatus, string> = {
  not_started: 'Not started',
  in_progress: 'In progress',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export const LIMITS = { codesPerBatch: 2000, budgetPence: 100_000_000_000, add1StepPence: 100 } as const;

/** The phase after `phase`, or null in delivery, the last. */
export function nextPhase(phase: Phase): Phase | null {
  return PHASES[PHASES.indexOf(phase) + 1] ?? null;
}

export interface ProcessSettings {
  year: number;
  title: string;
  budget_pence: number;
  proposals_from: string;
  review_from: string;
  voting_from: string;
  results_from: string;
  delivery_from: string;
  ballot_kind: BallotKind;
  ballot_limit: number;
  rule: RuleName;
  utility: Utility;
  completion: Completion;
  postcodes: string[];
  min_age: number;
  voters: VoterMode;
}

/** The day each phase opens on, in the order of PHASES: a process's dates. */
export const PHASE_DATES = [
  'proposals_from',
  'review_from',
  'voting_from',
  'results_from',
  'delivery_from',
] as const;

function throwIfAny(fields: FieldErrors, message: string) {
  if (Object.keys(fields).length) throw new Invalid(message, fields);
}

/** Checks a new process's settings; every problem is reported against its field. */
export function validateProcess(input: ProcessSettings): ProcessSettings {
  const fields: FieldErrors = {};
  const title = input.title.trim();
  if (!title || title.length > 200) fields.title = 'Enter a title of up to 200 characters';
  if (!Number.isInteger(input.year) || input.year < 2000 || input.year > 2100)
    fields.year = 'Enter a year between 2000 and 2100';
  if (
    !Number.isSafeInteger(input.budget_pence) ||
    input.budget_pence <= 0 ||
    input.budget_pence > LIMITS.budgetPence
  )
    fields.budget_pence = `Enter a budget more than £0 and at most ${formatPounds(LIMITS.budgetPence)}`;
  for (const f of PHASE_DATES) if (!isIsoDate(input[f])) fields[f] = 'Enter a real date written YYYY-MM-DD';
  PHASE_DATES.slice(1).forEach((f, i) => {
    if (!fields[f] && !fields[PHASE_DATES[i]!] && input[f] < input[PHASE_DATES[i]!])
      fields[f] = `This phase cannot start before the ${PHASE_LABELS[PHASES[i]!].toLowerCase()} phase`;
  });
  if (!(BALLOT_KINDS as readonly string[]).includes(input.ballot_kind))
    fields.ballot_kind = 'Select a kind of ballot';
  if (!Number.isSafeInteger(input.ballot_limit) || input.ballot_limit <= 0)
    fields.ballot_limit = 'Enter a whole number of 1 or more';
  if (!(RULES as readonly string[]).includes(input.rule)) fields.rule = 'Select a counting rule';
  else if (input.rule !== 'greedy' && (input.ballot_kind === 'ordinal' || input.ballot_kind === 'cumulative'))
    fields.rule = 'Equal shares and Phragmén count approval ballots; use greedy for ranked or points ballots';
  if (!(UTILITIES as readonly string[]).includes(input.utility))
    fields.utility = 'Select cost or cardinality';
  if (!(COMPLETIONS as readonly string[]).includes(input.completion))
    fields.completion = 'Select add1 or none';
  const postcodes = input.postcodes.map(normalisePostcodeArea).filter((p) => p !== '');
  if (postcodes.length === 0 || postcodes.length > 200)
    fields.postcodes = 'Enter the postcodes of the neighbourhood, for example W12 7';
  else if (!postcodes.every(isPostcodeArea))
    fields.postcodes = 'Enter postcode districts or sectors like W12 or W12 7, separated by commas';
  if (!Number.isInteger(input.min_age) || input.min_age < 0 || input.min_age > 120)
    fields.min_age = 'Enter an age between 0 and 120';
  if (!(VOTER_MODES as readonly string[]).includes(input.voters))
    fields.voters = 'Select how residents prove they may vote';
  throwIfAny(fields, 'The process is not complete');
  return { ...input, title, postcodes: [...new Set(postcodes)] };
}

/** The limits on each ballot, from the process's kind and its one number. */
export function ballotRulesOf(process: { ballot_kind: BallotKind; ballot_limit: number }): BallotRules {
  switch (process.ballot_kind) {
    case 'approval_budget':
      return { kind: 'approval_budget', limit: process.ballot_limit };
    case 'approval_max':
      return { kind: 'approval_max', maxProjects: process.ballot_limit };
    case 'ordinal':
      return { kind: 'ordinal', maxRanks: process.ballot_limit };
    case 'cumulative':
      return { kind: 'cumulative', maxPoints: process.ballot_limit };
  }
}

/** The ballot's limit in words, for the voter. */
export function describeBallot(process: { ballot_kind: BallotKind; ballot_limit: number }): string {
  switch (process.ballot_kind) {
    case 'approval_budget':
      return `Choose the projects you want, costing ${formatPounds(process.ballot_limit)} or less in total.`;
    case 'approval_max':
      return `Choose up to ${process.ballot_limit} projects you want.`;
    case 'ordinal':
      return `Rank up to ${process.ballot_limit} projects, 1 for the one you want most.`;
    case 'cumulative':
      return `Share up to ${process.ballot_limit} points between the projects you want.`;
  }
}

/** A proposal's cost in the count: the council's estimate when it replaced the proposer's. */
export function costOf(proposal: { cost_pence: number; council_cost_pence: number | null }): number {
  return proposal.council_cost_pence ?? proposal.cost_pence;
}

export function parseTieOrder(text: string): string[] {
  return text === '' ? [] : text.split(',');
}

// Access codes: no 0/O, 1/I/L, so a code read aloud or copied from paper is typed right.
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 12;

/** A fresh single-use access code, written in groups of four: 12 of 31 symbols is about 59 bits. */
export function newAccessCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code.match(/.{4}/g)!.join('-');
}

/** Codes are typed with or without dashes and in any case; only this hash is stored. */
export function accessCodeHash(processId: number, code: string): string {
  const normal = code.replace(/[\s-]/g, '').toUpperCase();
  return createHash('sha256').update(`pb-access-code:${processId}:${normal}`).digest('hex');
}

export function voterOfPerson(personId: number): string {
  return `person:${personId}`;
}

export function voterOfCode(hash: string): string {
  return `code:${hash}`;
}
