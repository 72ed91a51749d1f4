/** Stored processes: settings, phases, the tie-break, proposals, their moderation and council review. */
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { type Actor } from '../ledger/public.ts';
import {
  costOf,
  LIMITS,
  nextPhase,
  PHASE_DATES,
  PHASE_LABELS,
  type Moderation,
  type Phase,
  type ProcessSettings,
  type Review,
} from './domain.ts';
import { type Project } from './election.ts';
import { assertBudgetAvailable, type PotFunds } from './funds.ts';
import { sealBallots } from './seal-store.ts';

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
  ...PHASE_DATES,
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

export async function insertProcess(
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

export function requirePhase(process: ProcessRow, phases: readonly Phase[], doing: string) {
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
