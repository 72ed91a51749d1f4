import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { formatPounds, pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { listCommitments, spendCommitment, type Actor } from '../ledger/public.ts';
import {
  accessCodeHash,
  ballotRulesOf,
  costOf,
  LIMITS,
  newAccessCode,
  nextPhase,
  parseTieOrder,
  PHASE_LABELS,
  voterOfCode,
  voterOfPerson,
  type BallotChannel,
  type DeliveryStatus,
  type Moderation,
  type Phase,
  type ProcessSettings,
  type Review,
  validateProcess,
} from './domain.ts';
import {
  profileOf,
  validateBallot,
  voteTypeOf,
  type Ballot,
  type Election,
  type Project,
} from './election.ts';
import { assertBudgetAvailable, commitmentsFor, type PotFunds } from './funds.ts';
import { PB_ACCOUNTS } from './domain.ts';
import { Rational } from './rational.ts';
import { pabulibOf, parsePabulib, writePabulib } from './pabulib.ts';
import { compareIds, count, describeReason, RULES, type CountResult, type Reason } from './rules.ts';
import { formatPostcode, postcodeInAreas } from '../core/postcodes.ts';

export interface ProcessRow extends ProcessSettings {
  id: number;
  phase: Phase;
  tie_order: string;
}

const processColumns = [
  'id',
  'year',
  'title',
  'budget_pence',
  'phase',
  'proposals_from',
  'review_from',
  'voting_from',
  'results_from',
  'delivery_from',
  'ballot_kind',
  'ballot_limit',
  'rule',
  'utility',
  'completion',
  'tie_order',
  'postcodes',
  'min_age',
  'voters',
] as const;

/**
 * Opens a process in its proposals phase. Its budget is an allocation from the neighbourhood
 * pot, so it may not be more than the pot holds now (asked inside this transaction).
 */
export async function createProcess(
  tx: Tx,
  placeId: number,
  settings: ProcessSettings,
  funds: PotFunds,
  actor: Actor,
): Promise<ProcessRow> {
  await assertBudgetAvailable(funds, tx, placeId, pence(settings.budget_pence));
  return insertProcess(tx, placeId, settings, {}, actor);
}

async function insertProcess(
  tx: Tx,
  placeId: number,
  settings: ProcessSettings,
  extra: { phase?: Phase; tie_order?: string },
  actor: Actor,
): Promise<ProcessRow> {
  const clash = await tx
    .selectFrom('pb_processes')
    .select('id')
    .where('place_id', '=', placeId)
    .where('year', '=', settings.year)
    .executeTakeFirst();
  if (clash)
    throw new Invalid('There is already a process for that year', {
      year: `This place already has a participatory budget for ${settings.year}`,
    });
  const row = await tx
    .insertInto('pb_processes')
    .values({ place_id: placeId, ...settings, ...extra, created_by: actor.personId })
    .returning(processColumns)
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.process.open',
    subject: `pb_process:${row.id}`,
    detail: { year: row.year, budget_pence: row.budget_pence, rule: row.rule, ballot_kind: row.ballot_kind },
  });
  return row;
}

export async function listProcesses(tx: Tx, placeId: number): Promise<ProcessRow[]> {
  return tx
    .selectFrom('pb_processes')
    .select(processColumns)
    .where('place_id', '=', placeId)
    .orderBy('year', 'desc')
    .execute();
}

export async function findProcess(
  tx: Tx,
  placeId: number,
  processId: number,
  lock: boolean | 'share' = false,
): Promise<ProcessRow> {
  let query = tx
    .selectFrom('pb_processes')
    .select(processColumns)
    .where('place_id', '=', placeId)
    .where('id', '=', processId);
  if (lock === 'share') query = query.forShare();
  else if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new NotFound('No such participatory budgeting process in this place');
  return row;
}

/** Why something cannot be done in the process's phase, or null when it can. */
function phaseRefusal(process: Pick<ProcessRow, 'phase'>, phases: readonly Phase[], doing: string) {
  return phases.includes(process.phase)
    ? null
    : `You cannot ${doing} in the ${PHASE_LABELS[process.phase].toLowerCase()} phase`;
}

function requirePhase(process: ProcessRow, phases: readonly Phase[], doing: string) {
  const refusal = phaseRefusal(process, phases, doing);
  if (refusal) throw new Conflict(refusal);
}

/** The process's own tie-break may change until voting opens. */
const TIE_ORDER_PHASES: readonly Phase[] = ['proposals', 'review'];

/** Why the tie-break cannot change now (the words setTieOrder refuses with), or null when it can. */
export function tieOrderRefusal(process: Pick<ProcessRow, 'phase'>): string | null {
  return phaseRefusal(process, TIE_ORDER_PHASES, 'change the tie-break');
}

/** Staff move a process to its next phase; results lead to delivery only once they are published. */
export async function advancePhase(
  tx: Tx,
  placeId: number,
  processId: number,
  to: Phase,
  actor: Actor,
): Promise<ProcessRow> {
  const process = await findProcess(tx, placeId, processId, true);
  if (nextPhase(process.phase) !== to)
    throw new Conflict(
      `The process is in its ${PHASE_LABELS[process.phase].toLowerCase()} phase; it can only move to the next one`,
    );
  if (to === 'delivery') {
    const stored = await tx
      .selectFrom('pb_counts')
      .select('published_at')
      .where('place_id', '=', placeId)
      .where('process_id', '=', processId)
      .executeTakeFirst();
    if (!stored?.published_at) throw new Conflict('Publish the results before delivery starts');
  }
  // The close: ballots lose their voters here, in the same transaction as the phase change.
  const sealed = to === 'results' ? { sealed: await sealBallots(tx, placeId, processId) } : {};
  return changeProcess(tx, placeId, process, { phase: to }, actor, 'pb.process.phase', {
    from: process.phase,
    to,
    ...sealed,
  });
}

/** Changes a process's own settings and audits the change, in the caller's transaction. */
async function changeProcess(
  tx: Tx,
  placeId: number,
  process: ProcessRow,
  changes: { phase?: Phase; tie_order?: string },
  actor: Actor,
  action: string,
  detail: Record<string, unknown>,
): Promise<ProcessRow> {
  await tx
    .updateTable('pb_processes')
    .set(changes)
    .where('place_id', '=', placeId)
    .where('id', '=', process.id)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action,
    subject: `pb_process:${process.id}`,
    detail,
  });
  return { ...process, ...changes };
}

/**
 * Sets the process's own tie-break, before voting opens: proposals in this order first, then
 * those not listed by the default (fewer cost, then the lower id).
 */
export async function setTieOrder(
  tx: Tx,
  placeId: number,
  processId: number,
  order: number[],
  actor: Actor,
): Promise<ProcessRow> {
  const process = await findProcess(tx, placeId, processId, true);
  const refusal = tieOrderRefusal(process);
  if (refusal) throw new Conflict(refusal);
  const known = new Set((await listProposals(tx, placeId, processId)).map((p) => p.id));
  if (new Set(order).size !== order.length || !order.every((id) => known.has(id)))
    throw new Invalid('The tie-break lists proposals of this process, each once', {
      order: 'List proposals of this process, each once',
    });
  return changeProcess(tx, placeId, process, { tie_order: order.join(',') }, actor, 'pb.process.tie_order', {
    order,
  });
}

// ---- Proposals ---------------------------------------------------------------------------------

export interface ProposalInput {
  title: string;
  description: string;
  cost_pence: number;
  category: string;
  location: string;
  group_name: string | null;
}

export interface ProposalRow extends ProposalInput {
  id: number;
  process_id: number;
  proposed_by: number | null;
  moderation: Moderation;
  moderation_note: string;
  review: Review;
  review_reason: string;
  council_cost_pence: number | null;
  cost_note: string;
}

const proposalColumns = [
  'id',
  'process_id',
  'title',
  'description',
  'cost_pence',
  'category',
  'location',
  'group_name',
  'proposed_by',
  'moderation',
  'moderation_note',
  'review',
  'review_reason',
  'council_cost_pence',
  'cost_note',
] as const;

export function validateProposal(input: { [K in keyof ProposalInput]?: unknown }): ProposalInput {
  const fields: FieldErrors = {};
  const text = (name: keyof ProposalInput, max: number, message: string) => {
    const value = typeof input[name] === 'string' ? (input[name] as string).trim() : '';
    if (!value || value.length > max) fields[name] = `${message} (up to ${max} characters)`;
    return value;
  };
  const title = text('title', 120, 'Enter a short title for the project');
  const description = text('description', 3000, 'Describe the project and who it is for');
  const category = text('category', 60, 'Enter a category, for example Green spaces');
  const location = text('location', 200, 'Enter where it would happen');
  const group = typeof input.group_name === 'string' ? input.group_name.trim() : '';
  if (group.length > 200) fields.group_name = 'Enter a group name of up to 200 characters';
  const cost = input.cost_pence;
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost <= 0 || cost > LIMITS.budgetPence)
    fields.cost_pence = 'Enter what the project would cost, more than £0';
  if (Object.keys(fields).length) throw new Invalid('The proposal is not complete', fields);
  return { title, description, category, location, group_name: group || null, cost_pence: cost as number };
}

/** Residents and community groups propose while the proposals phase is open; staff moderate before anything is public. */
export async function submitProposal(
  tx: Tx,
  placeId: number,
  processId: number,
  input: ProposalInput,
  actor: Actor,
): Promise<ProposalRow> {
  const process = await findProcess(tx, placeId, processId);
  requirePhase(process, ['proposals'], 'propose a project');
  const row = await tx
    .insertInto('pb_proposals')
    .values({ place_id: placeId, process_id: processId, ...input, proposed_by: actor.personId })
    .returning(proposalColumns)
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.proposal.submit',
    subject: `pb_proposal:${row.id}`,
    detail: { process_id: processId, cost_pence: row.cost_pence },
  });
  return row;
}

export async function listProposals(tx: Tx, placeId: number, processId: number): Promise<ProposalRow[]> {
  return tx
    .selectFrom('pb_proposals')
    .select(proposalColumns)
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .orderBy('id')
    .execute();
}

async function findProposal(
  tx: Tx,
  placeId: number,
  processId: number,
  proposalId: number,
): Promise<ProposalRow> {
  const row = await tx
    .selectFrom('pb_proposals')
    .select(proposalColumns)
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .where('id', '=', proposalId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new NotFound('No such proposal in this process');
  return row;
}

/** Publishes a proposal or hides it (with a note saying why), before voting opens. */
export async function moderateProposal(
  tx: Tx,
  placeId: number,
  processId: number,
  proposalId: number,
  input: { moderation: 'published' | 'hidden'; note: string },
  actor: Actor,
): Promise<ProposalRow> {
  requirePhase(await findProcess(tx, placeId, processId), ['proposals', 'review'], 'moderate proposals');
  await findProposal(tx, placeId, processId, proposalId);
  const note = input.note.trim();
  if (input.moderation === 'hidden' && !note)
    throw new Invalid('Say why the proposal is hidden', { note: 'Enter why the proposal is hidden' });
  if (note.length > 500) throw new Invalid('The note is too long', { note: 'Enter at most 500 characters' });
  await tx
    .updateTable('pb_proposals')
    .set({ moderation: input.moderation, moderation_note: note })
    .where('place_id', '=', placeId)
    .where('id', '=', proposalId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.proposal.moderate',
    subject: `pb_proposal:${proposalId}`,
    detail: { moderation: input.moderation, note_length: note.length },
  });
  return findProposal(tx, placeId, processId, proposalId);
}

export interface ReviewInput {
  review: 'eligible' | 'ineligible';
  reason: string;
  council_cost_pence: number | null;
  cost_note: string;
}

/** The council's review: feasible and eligible or not, with a published reason; its cost estimate may replace the proposer's, with a note. */
export async function reviewProposal(
  tx: Tx,
  placeId: number,
  processId: number,
  proposalId: number,
  input: ReviewInput,
  actor: Actor,
): Promise<ProposalRow> {
  requirePhase(await findProcess(tx, placeId, processId), ['proposals', 'review'], 'review proposals');
  const proposal = await findProposal(tx, placeId, processId, proposalId);
  const fields: FieldErrors = {};
  const reason = input.reason.trim();
  const costNote = input.cost_note.trim();
  if (!reason || reason.length > 1000)
    fields.reason = 'Enter the reason for the decision, which is published (up to 1000 characters)';
  if (
    input.council_cost_pence !== null &&
    (!Number.isSafeInteger(input.council_cost_pence) ||
      input.council_cost_pence <= 0 ||
      input.council_cost_pence > LIMITS.budgetPence)
  )
    fields.council_cost = 'Enter the council’s estimate, more than £0';
  if (input.council_cost_pence !== null && (!costNote || costNote.length > 500))
    fields.cost_note = 'Explain the council’s estimate (up to 500 characters)';
  if (Object.keys(fields).length) throw new Invalid('The review is not complete', fields);
  if (input.review === 'eligible' && proposal.moderation !== 'published')
    throw new Invalid('Publish the proposal before it goes on the ballot', {
      review: 'Publish the proposal first',
    });
  await tx
    .updateTable('pb_proposals')
    .set({
      review: input.review,
      review_reason: reason,
      council_cost_pence: input.council_cost_pence,
      cost_note: input.council_cost_pence === null ? '' : costNote,
    })
    .where('place_id', '=', placeId)
    .where('id', '=', proposalId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.proposal.review',
    subject: `pb_proposal:${proposalId}`,
    detail: {
      review: input.review,
      council_cost_pence: input.council_cost_pence,
      reason_length: reason.length,
      cost_note_length: costNote.length,
    },
  });
  return findProposal(tx, placeId, processId, proposalId);
}

/** The ballot: published proposals the council found eligible, at the council-checked cost. */
export function ballotProjects(proposals: ProposalRow[]): Project[] {
  return proposals
    .filter((p) => p.moderation === 'published' && p.review === 'eligible')
    .map((p) => ({ id: String(p.id), cost: costOf(p), name: p.title }));
}

// ---- Electorate and ballots --------------------------------------------------------------------

/** A batch of single-use access codes for paper and in-person voting; only their hashes are kept, so this is the one time they are seen. */
export async function generateAccessCodes(
  tx: Tx,
  placeId: number,
  processId: number,
  howMany: number,
  actor: Actor,
): Promise<string[]> {
  const process = await findProcess(tx, placeId, processId, true);
  requirePhase(process, ['proposals', 'review', 'voting'], 'print access codes');
  if (!Number.isInteger(howMany) || howMany < 1 || howMany > LIMITS.codesPerBatch)
    throw new Invalid('Choose how many codes', { count: `Enter a number from 1 to ${LIMITS.codesPerBatch}` });
  const last = await tx
    .selectFrom('pb_access_codes')
    .select(sql<number>`coalesce(max(batch), 0)::int`.as('batch'))
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .executeTakeFirstOrThrow();
  const batch = last.batch + 1;
  const codes = new Set<string>();
  while (codes.size < howMany) codes.add(newAccessCode());
  await tx
    .insertInto('pb_access_codes')
    .values(
      [...codes].map((code) => ({
        place_id: placeId,
        process_id: processId,
        code_hash: accessCodeHash(processId, code),
        batch,
      })),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.codes.generate',
    subject: `pb_process:${processId}`,
    detail: { batch, count: howMany },
  });
  return [...codes];
}

export interface CastInput {
  /** A resident's own account, or a single-use access code. */
  voter: { personId: number } | { code: string };
  channel: 'online' | 'paper';
  ballot: Ballot;
  postcode: string;
  /** The voter says (or staff checked on paper) they are of the minimum age. */
  ofAge: boolean;
}

/**
 * Records one voter's ballot: eligibility (postcode, age, account or code as the process
 * requires) is checked, the ballot validated against the process's ballot kind, and a revote
 * replaces the voter's earlier ballot, until voting closes.
 *
 * One person, one vote: a process of accounts takes access codes only on paper ballots that staff
 * enter, a process of codes takes no accounts, a signed-in resident voting with a code is bound to
 * it (so a second code of theirs is refused), and a ballot replaces only an online ballot of the
 * same voter: a paper ballot never replaces anything, and a code used on paper cannot vote again.
 */
export async function castBallot(
  tx: Tx,
  placeId: number,
  processId: number,
  input: CastInput,
  actor: Actor,
): Promise<{ replaced: boolean }> {
  // A share lock: votes run side by side, but not beside the close, which seals what is here.
  const process = await findProcess(tx, placeId, processId, 'share');
  requirePhase(process, ['voting'], 'vote');
  const fields: FieldErrors = {};
  if (!postcodeInAreas(process.postcodes, input.postcode))
    fields.postcode = `Enter a full postcode in the neighbourhood (${process.postcodes.join(', ')})`;
  if (!input.ofAge) fields.of_age = `Confirm the voter is aged ${process.min_age} or over`;
  let voter: string;
  let personId: number | null;
  if ('code' in input.voter) {
    if (process.voters === 'accounts' && input.channel === 'online')
      fields.code =
        'This vote uses residents’ accounts: sign in to vote. Access codes are only for paper ballots';
    else if (!(await accessCodeKnown(tx, placeId, processId, input.voter.code)))
      fields.code = 'Enter the access code exactly as printed';
    voter = voterOfCode(accessCodeHash(processId, input.voter.code));
    // Staff entering paper are not the voter; a resident signed in and voting with a code is.
    personId = input.channel === 'online' ? actor.personId : null;
  } else {
    if (process.voters === 'codes') fields.code = 'Enter your access code: this vote uses access codes';
    voter = voterOfPerson(input.voter.personId);
    personId = input.voter.personId;
  }
  if (Object.keys(fields).length) throw new Invalid('There is a problem with your vote', fields);
  const proposals = await listProposals(tx, placeId, processId);
  const checked = validateBallot(ballotRulesOf(process), ballotProjects(proposals), input.ballot);
  if (personId !== null) {
    const other = await tx
      .selectFrom('pb_voted')
      .select('voter')
      .where('place_id', '=', placeId)
      .where('process_id', '=', processId)
      .where('person_id', '=', personId)
      .where('voter', '<>', voter)
      .executeTakeFirst();
    if (other) throw new Conflict('You have already voted in this process: each person has one vote');
  }
  const channel = input.channel as BallotChannel;
  // The register of who voted: one statement, so of two concurrent votes of one voter the later
  // waits and then replaces, and only an online ballot by the same voter (or the code's anonymous
  // holder) can be replaced.
  const registered = await tx
    .insertInto('pb_voted')
    .values({
      place_id: placeId,
      process_id: processId,
      voter,
      person_id: personId,
      channel,
      entered_by: channel === 'paper' ? actor.personId : null,
    })
    .onConflict((oc) =>
      oc
        .columns(['place_id', 'process_id', 'voter'])
        .doUpdateSet({ person_id: sql`coalesce(pb_voted.person_id, excluded.person_id)` })
        .where('pb_voted.channel', '=', 'online')
        .where(sql<string>`excluded.channel`, '=', 'online')
        .where(
          sql<boolean>`(excluded.person_id is null or pb_voted.person_id is null or pb_voted.person_id = excluded.person_id)`,
        ),
    )
    // xmax is set only on a row version that replaced another: true for a revote.
    .returning(sql<boolean>`xmax <> 0`.as('replaced'))
    .executeTakeFirst();
  if (!registered) throw new Conflict(await refusedRevote(tx, placeId, processId, voter, channel));
  const { replaced } = registered;
  const values = {
    channel,
    projects: checked.projects.map(Number),
    points: checked.points ?? null,
    postcode: formatPostcode(input.postcode),
    entered_by: channel === 'paper' ? actor.personId : null,
  };
  await tx
    .insertInto('pb_ballots')
    .values({ place_id: placeId, process_id: processId, voter, ...values })
    .onConflict((oc) => oc.columns(['place_id', 'process_id', 'voter']).doUpdateSet(values))
    .execute();
  // The audit says that someone voted, and how, never for what; after the close no ballot carries
  // anything (time, serial, voter) its entries could be lined up with.
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.ballot.cast',
    subject: `pb_process:${processId}`,
    detail: { channel: input.channel, replaced },
  });
  return { replaced };
}

/** Why a voter's ballot could not be taken over their earlier one (see castBallot). */
async function refusedRevote(
  tx: Tx,
  placeId: number,
  processId: number,
  voter: string,
  channel: BallotChannel,
): Promise<string> {
  const earlier = await tx
    .selectFrom('pb_voted')
    .select('channel')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .where('voter', '=', voter)
    .executeTakeFirst();
  if (channel === 'paper')
    return 'This access code has already been used to vote, and a paper ballot never replaces a ballot: nothing was saved. Set the paper ballot aside for the returning officer';
  if (earlier?.channel === 'paper')
    return 'This access code has already been used to vote on a paper ballot, so it cannot be used again';
  return 'This access code has already been used to vote by someone else, so it cannot be used again';
}

/** Is this one of the process's access codes? */
export async function accessCodeKnown(
  tx: Tx,
  placeId: number,
  processId: number,
  code: string,
): Promise<boolean> {
  const known = await tx
    .selectFrom('pb_access_codes')
    .select('code_hash')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .where('code_hash', '=', accessCodeHash(processId, code))
    .executeTakeFirst();
  return Boolean(known);
}

/**
 * The close: each ballot's content moves to pb_sealed_ballots under a random id, written in
 * content order, and the ballots with voters are deleted; only the register of who voted stays.
 */
async function sealBallots(tx: Tx, placeId: number, processId: number): Promise<number> {
  const pending = await tx
    .selectFrom('pb_ballots')
    .select(['projects', 'points'])
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .execute();
  await insertSealed(tx, placeId, processId, pending);
  await tx
    .deleteFrom('pb_ballots')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .execute();
  return pending.length;
}

/** Compares ballots by content only: projects, then points. */
function byContent(
  a: { projects: number[]; points: number[] | null },
  b: { projects: number[]; points: number[] | null },
): number {
  const arrays = (x: number[], y: number[]) => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  return arrays(a.projects, b.projects) || arrays(a.points ?? [], b.points ?? []);
}

async function insertSealed(
  tx: Tx,
  placeId: number,
  processId: number,
  ballots: { projects: number[]; points: number[] | null }[],
) {
  const rows = [...ballots].sort(byContent).map((b) => ({
    place_id: placeId,
    process_id: processId,
    id: randomBytes(16).toString('hex'),
    projects: b.projects,
    points: b.points,
  }));
  for (let i = 0; i < rows.length; i += 1000)
    await tx
      .insertInto('pb_sealed_ballots')
      .values(rows.slice(i, i + 1000))
      .execute();
}

/** How many ballots there are, on paper and online: before the close this is all that is public. */
export async function ballotCount(
  tx: Tx,
  placeId: number,
  processId: number,
): Promise<{ total: number; paper: number }> {
  const row = await tx
    .selectFrom('pb_voted')
    .select([
      sql<number>`count(*)::int`.as('total'),
      sql<number>`(count(*) filter (where channel = 'paper'))::int`.as('paper'),
    ])
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .executeTakeFirstOrThrow();
  return row;
}

/** Has this resident voted already (so the page can say a new vote replaces it)? */
export async function hasVoted(
  tx: Tx,
  placeId: number,
  processId: number,
  personId: number,
): Promise<boolean> {
  const row = await tx
    .selectFrom('pb_voted')
    .select('voter')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .where('voter', '=', voterOfPerson(personId))
    .executeTakeFirst();
  return Boolean(row);
}

/**
 * The process as an election for the counting rules: ballot projects in id order, ballots in
 * content order (the sealed ballots after the close), an order that says nothing about who cast them.
 */
export async function electionOf(tx: Tx, placeId: number, process: ProcessRow): Promise<Election> {
  const projects = ballotProjects(await listProposals(tx, placeId, process.id));
  const table =
    process.phase === 'results' || process.phase === 'delivery' ? 'pb_sealed_ballots' : 'pb_ballots';
  const ballots = (
    await tx
      .selectFrom(table)
      .select(['projects', 'points'])
      .where('place_id', '=', placeId)
      .where('process_id', '=', process.id)
      .execute()
  ).sort(byContent);
  return {
    budget: process.budget_pence,
    projects,
    voteType: voteTypeOf(ballotRulesOf(process)),
    ballots: ballots.map((b) => ({
      projects: b.projects.map(String),
      ...(b.points ? { points: b.points } : {}),
    })),
  };
}

export function countElection(process: ProcessRow, election: Election): CountResult {
  return count(profileOf(election), {
    rule: process.rule,
    utility: process.utility,
    completion: process.completion,
    tieOrder: parseTieOrder(process.tie_order),
    add1Step: LIMITS.add1StepPence,
  });
}

// ---- Count and publish -------------------------------------------------------------------------

export interface StoredOutcome {
  id: string;
  title: string;
  cost: number;
  votes: number;
  supporters: number;
  funded: boolean;
  position: number | null;
  /** The rule's reason as stored, fractions written "num/den". */
  reason: { kind: Reason['kind'] } & Record<string, unknown>;
  explanation: string;
}

export interface StoredCount {
  rule: CountResult['rule'];
  utility: CountResult['utility'];
  completion: CountResult['completion'];
  budget: number;
  spent: number;
  ballots: number;
  winners: string[];
  projects: StoredOutcome[];
  shareKept: string | null;
  add1Steps: number | null;
  counted_at: Date;
  published_at: Date | null;
}

/** Money in explanations: exact pounds and pence, or "about" when a share is a fraction of a penny. */
function explainMoney(amount: Rational): string {
  return amount.den === 1n
    ? formatPounds(Number(amount.num))
    : `about ${formatPounds(Math.round(amount.toNumber()))}`;
}

/** Fractions are written "num/den" so the stored result is exact; they are only read back for display. */
const exactJson = (_key: string, value: unknown) => (value instanceof Rational ? value.toString() : value);

/** Counts the votes with the process's stored rule once voting has closed; a recount replaces the count until it is published. */
export async function countVotes(
  tx: Tx,
  placeId: number,
  processId: number,
  actor: Actor,
): Promise<StoredCount> {
  const process = await findProcess(tx, placeId, processId, true);
  requirePhase(process, ['results'], 'count the votes');
  const earlier = await tx
    .selectFrom('pb_counts')
    .select('published_at')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .executeTakeFirst();
  if (earlier?.published_at) throw new Conflict('The results are published and cannot be counted again');
  const election = await electionOf(tx, placeId, process);
  const result = countElection(process, election);
  const titles = new Map(election.projects.map((p) => [p.id, p.name ?? p.id]));
  const detail = {
    utility: result.utility,
    completion: result.completion,
    winners: result.winners,
    projects: result.projects.map((p) => ({
      ...p,
      title: titles.get(p.id) ?? p.id,
      explanation: describeReason(p.reason, explainMoney),
    })),
    shareKept: result.shareKept,
    add1Steps: result.add1Steps,
  };
  const values = {
    rule: result.rule,
    budget_pence: result.budget,
    spent_pence: result.spent,
    ballots: election.ballots.length,
    result: JSON.stringify(detail, exactJson),
    counted_by: actor.personId,
    counted_at: new Date(),
  };
  if (earlier)
    await tx
      .updateTable('pb_counts')
      .set(values)
      .where('place_id', '=', placeId)
      .where('process_id', '=', processId)
      .execute();
  else
    await tx
      .insertInto('pb_counts')
      .values({ place_id: placeId, process_id: processId, ...values })
      .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.count',
    subject: `pb_process:${processId}`,
    detail: {
      rule: result.rule,
      spent_pence: result.spent,
      winners: result.winners,
      ballots: values.ballots,
    },
  });
  return (await storedCount(tx, placeId, processId))!;
}

export async function storedCount(tx: Tx, placeId: number, processId: number): Promise<StoredCount | null> {
  const row = await tx
    .selectFrom('pb_counts')
    .selectAll()
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .executeTakeFirst();
  if (!row) return null;
  const detail = JSON.parse(row.result) as Omit<
    StoredCount,
    'rule' | 'budget' | 'spent' | 'ballots' | 'counted_at' | 'published_at'
  >;
  return {
    ...detail,
    rule: row.rule,
    budget: row.budget_pence,
    spent: row.spent_pence,
    ballots: row.ballots,
    counted_at: row.counted_at,
    published_at: row.published_at,
  };
}

/**
 * Publishes the count: each winner's money becomes a ledger commitment from the neighbourhood
 * pot, in selection order, in this transaction, so either every winner is funded or none is
 * (the ledger refuses a commitment beyond the pot's available balance).
 */
export async function publishResults(
  tx: Tx,
  placeId: number,
  processId: number,
  funds: PotFunds,
  actor: Actor,
): Promise<StoredCount> {
  const process = await findProcess(tx, placeId, processId, true);
  requirePhase(process, ['results'], 'publish results');
  const stored = await storedCount(tx, placeId, processId);
  if (!stored) throw new Conflict('Count the votes before publishing the results');
  if (stored.published_at) throw new Conflict('The results are already published');
  const commitments = commitmentsFor(stored, process.title);
  for (const [i, c] of commitments.entries()) {
    const proposalId = Number(c.projectId);
    const commitmentId = await funds.commit(tx, placeId, proposalId, c.amount, c.memo);
    await tx
      .insertInto('pb_funded')
      .values({
        place_id: placeId,
        process_id: processId,
        proposal_id: proposalId,
        position: i + 1,
        amount_pence: c.amount,
        commitment_id: commitmentId,
      })
      .execute();
  }
  await tx
    .updateTable('pb_counts')
    .set({ published_by: actor.personId, published_at: new Date() })
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.publish',
    subject: `pb_process:${processId}`,
    detail: { winners: stored.winners, spent_pence: stored.spent },
  });
  return (await storedCount(tx, placeId, processId))!;
}

// ---- Delivery ----------------------------------------------------------------------------------

export interface FundedProject {
  proposal_id: number;
  title: string;
  position: number;
  amount_pence: Pence;
  commitment_id: number;
  spent_pence: Pence;
  outstanding_pence: Pence;
  status: DeliveryStatus;
  updates: { status: DeliveryStatus; spent_pence: number; note: string; recorded_at: Date }[];
}

export async function listFunded(tx: Tx, placeId: number, processId: number): Promise<FundedProject[]> {
  const funded = await tx
    .selectFrom('pb_funded as f')
    .innerJoin('pb_proposals as p', (j) =>
      j.onRef('p.place_id', '=', 'f.place_id').onRef('p.id', '=', 'f.proposal_id'),
    )
    .select(['f.proposal_id', 'p.title', 'f.position', 'f.amount_pence', 'f.commitment_id'])
    .where('f.place_id', '=', placeId)
    .where('f.process_id', '=', processId)
    .orderBy('f.position')
    .execute();
  if (funded.length === 0) return [];
  const commitments = new Map((await listCommitments(tx, placeId)).map((c) => [c.id, c]));
  const updates = await tx
    .selectFrom('pb_delivery_updates')
    .select(['proposal_id', 'status', 'spent_pence', 'note', 'recorded_at'])
    .where('place_id', '=', placeId)
    .where(
      'proposal_id',
      'in',
      funded.map((f) => f.proposal_id),
    )
    .orderBy('id', 'desc')
    .execute();
  return funded.map((f) => {
    const own = updates.filter((u) => u.proposal_id === f.proposal_id);
    const c = commitments.get(f.commitment_id);
    return {
      ...f,
      spent_pence: c?.spent_pence ?? pence(0),
      outstanding_pence: c?.outstanding_pence ?? pence(0),
      status: own[0]?.status ?? 'not_started',
      updates: own.map(({ proposal_id: _, ...u }) => u),
    };
  });
}

/** A delivery update: a status, a note, and any spend, which the ledger takes from the project's commitment. */
export async function recordDelivery(
  tx: Tx,
  placeId: number,
  processId: number,
  proposalId: number,
  input: { status: DeliveryStatus; spent_pence: number; note: string; date: string; key: string },
  actor: Actor,
): Promise<FundedProject> {
  requirePhase(await findProcess(tx, placeId, processId), ['delivery'], 'record delivery');
  const funded = await tx
    .selectFrom('pb_funded')
    .select(['commitment_id'])
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .where('proposal_id', '=', proposalId)
    .executeTakeFirst();
  if (!funded) throw new NotFound('That project was not funded by this process');
  const note = input.note.trim();
  if (note.length > 2000)
    throw new Invalid('The note is too long', { note: 'Enter at most 2000 characters' });
  if (input.spent_pence > 0) {
    await spendCommitment(
      tx,
      placeId,
      funded.commitment_id,
      {
        key: input.key,
        date: input.date,
        spend_account: PB_ACCOUNTS.spend,
        amount_pence: pence(input.spent_pence),
        memo: note.slice(0, 500) || 'Participatory budgeting project spend',
      },
      actor,
    );
  }
  await tx
    .insertInto('pb_delivery_updates')
    .values({
      place_id: placeId,
      proposal_id: proposalId,
      status: input.status,
      spent_pence: input.spent_pence,
      note,
      recorded_by: actor.personId,
    })
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.delivery',
    subject: `pb_proposal:${proposalId}`,
    detail: { status: input.status, spent_pence: input.spent_pence },
  });
  return (await listFunded(tx, placeId, processId)).find((f) => f.proposal_id === proposalId)!;
}

// ---- Pabulib -----------------------------------------------------------------------------------

/** Settings with no Pabulib key of their own travel in META under this prefix, so a file read back gives the same process. */
const META_PREFIX = 'placebudget_';
const LIMIT_KEY = {
  approval_budget: 'max_sum_cost',
  approval_max: 'max_length',
  ordinal: 'max_length',
  cumulative: 'max_sum_points',
} as const;

/** A stored process with its ballots as a Pabulib file, for researchers: no voter details, costs and budget in pence. */
export async function exportPabulib(
  tx: Tx,
  placeId: number,
  processId: number,
  placeName: string,
): Promise<string> {
  const process = await findProcess(tx, placeId, processId);
  const proposals = new Map((await listProposals(tx, placeId, processId)).map((p) => [String(p.id), p]));
  const election = await electionOf(tx, placeId, process);
  const file = pabulibOf(election, [
    ['description', process.title],
    ['country', 'United Kingdom'],
    ['unit', placeName],
    ['instance', String(process.year)],
    ['currency', 'GBP (amounts in pence)'],
    ['date_begin', process.voting_from],
    ['date_end', process.results_from],
    ['rule', process.rule],
    [LIMIT_KEY[process.ballot_kind], String(process.ballot_limit)],
    ...(
      [
        'ballot_kind',
        'utility',
        'completion',
        'tie_order',
        'min_age',
        'voters',
        'proposals_from',
        'review_from',
        'voting_from',
        'results_from',
        'delivery_from',
      ] as const
    ).map((k): [string, string] => [META_PREFIX + k, String(process[k])]),
    [META_PREFIX + 'postcodes', process.postcodes.join(',')],
  ]);
  file.projectColumns.push('category', 'location', 'description');
  for (const row of file.projects) {
    const p = proposals.get(row.project_id!)!;
    Object.assign(row, { category: p.category, location: p.location, description: p.description });
  }
  return writePabulib(file);
}

/**
 * Imports a Pabulib file as a new process of this place, in its results phase, ready to count:
 * each project becomes an eligible proposal, each vote a ballot. New proposal ids follow the
 * file's order; where the file's own ids would break ties differently, the process keeps the
 * file's tie order, so it counts exactly as the file does.
 */
export async function importPabulib(
  tx: Tx,
  placeId: number,
  text: string,
  defaults: { year?: number },
  actor: Actor,
): Promise<ProcessRow> {
  const { file, election, voterIds } = parsePabulib(text);
  const meta = new Map(file.meta);
  const ours = (k: string) => meta.get(META_PREFIX + k);
  if (election.voteType === 'scoring')
    throw new Invalid('Scoring ballots can be counted from the command line but not run as a process', {
      file: 'Choose a file with approval, ordinal or cumulative votes',
    });
  const ballotKind = (ours('ballot_kind') ??
    (election.voteType === 'approval'
      ? meta.has('max_sum_cost')
        ? 'approval_budget'
        : 'approval_max'
      : election.voteType)) as ProcessSettings['ballot_kind'];
  const widest = Math.max(
    1,
    ...election.ballots.map((b) =>
      election.voteType === 'cumulative' ? (b.points ?? []).reduce((a, x) => a + x, 0) : b.projects.length,
    ),
  );
  const limitText = meta.get(LIMIT_KEY[ballotKind] ?? 'max_length');
  const date = (k: string) =>
    ours(k) ??
    meta.get(k === 'voting_from' ? 'date_begin' : 'date_end') ??
    `${defaults.year ?? meta.get('instance')}-01-01`;
  const year = Number(meta.get('instance') ?? defaults.year);
  const rule = (meta.get('rule') ?? 'greedy') as ProcessSettings['rule'];
  const settings = validateProcess({
    year,
    title: meta.get('description') ?? `Imported ${meta.get('unit') ?? 'election'} ${year}`,
    budget_pence: election.budget,
    proposals_from: date('proposals_from'),
    review_from: date('review_from'),
    voting_from: date('voting_from'),
    results_from: date('results_from'),
    delivery_from: date('delivery_from'),
    ballot_kind: ballotKind,
    ballot_limit: limitText ? Number(limitText) : ballotKind === 'approval_budget' ? election.budget : widest,
    rule: (RULES as readonly string[]).includes(rule) ? rule : 'greedy',
    utility: (ours('utility') ?? 'cost') as ProcessSettings['utility'],
    completion: (ours('completion') ?? 'add1') as ProcessSettings['completion'],
    postcodes: (ours('postcodes') ?? 'ZZ99').split(','),
    min_age: Number(ours('min_age') ?? 16),
    voters: (ours('voters') ?? 'codes') as ProcessSettings['voters'],
  });
  const process = await insertProcess(tx, placeId, settings, { phase: 'results' }, actor);
  const newIds = new Map<string, number>();
  for (const [i, p] of file.projects.entries()) {
    const project = election.projects[i]!;
    const row = await tx
      .insertInto('pb_proposals')
      .values({
        place_id: placeId,
        process_id: process.id,
        title: (p.name || `Project ${project.id}`).slice(0, 120),
        description: (p.description || p.name || `Project ${project.id} of the imported election`).slice(
          0,
          3000,
        ),
        cost_pence: project.cost,
        category: (p.category || 'Imported').slice(0, 60),
        location: (p.location || meta.get('unit') || 'Not given').slice(0, 200),
        group_name: null,
        proposed_by: null,
        moderation: 'published',
        review: 'eligible',
        review_reason: 'On the ballot of the imported election',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    newIds.set(project.id, row.id);
  }
  const fileOrder = parseTieOrder(ours('tie_order') ?? '');
  const byDefault = tieOrderOf(election.projects, fileOrder);
  const byNewIds = tieOrderOf(
    election.projects.map((p) => ({ ...p, id: String(newIds.get(p.id)) })),
    [],
  );
  const tieOrder = byDefault.map((id) => String(newIds.get(id)));
  if (tieOrder.join(',') !== byNewIds.join(',')) {
    await tx
      .updateTable('pb_processes')
      .set({ tie_order: tieOrder.join(',') })
      .where('place_id', '=', placeId)
      .where('id', '=', process.id)
      .execute();
  }
  // The file's voters are registered as having voted; their ballots go straight in sealed.
  const ballots = election.ballots.map((b) => ({
    projects: b.projects.map((id) => newIds.get(id)!),
    points: b.points ?? null,
  }));
  const voted = voterIds.map((id) => ({
    place_id: placeId,
    process_id: process.id,
    voter: `file:${id}`,
    channel: 'import' as const,
  }));
  for (let i = 0; i < voted.length; i += 1000)
    await tx
      .insertInto('pb_voted')
      .values(voted.slice(i, i + 1000))
      .execute();
  await insertSealed(tx, placeId, process.id, ballots);
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'pb.import',
    subject: `pb_process:${process.id}`,
    detail: { projects: newIds.size, ballots: ballots.length },
  });
  return findProcess(tx, placeId, process.id);
}

/** Projects from most to least preferred when tied: a given order first, then fewer cost, then the lower id (as rules.ts does). */
function tieOrderOf(projects: Project[], preferred: string[]): string[] {
  const rank = new Map(preferred.map((id, i) => [id, i]));
  return [...projects]
    .sort(
      (a, b) =>
        (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity) ||
        a.cost - b.cost ||
        compareIds(a.id, b.id),
    )
    .map((p) => p.id);
}
