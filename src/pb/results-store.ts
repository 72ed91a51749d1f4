/** Counting a stored process, the stored result, publication (raising commitments) and delivery spend. */
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, NotFound } from '../core/errors.ts';
import { formatPounds, pence, type Pence } from '../core/money.ts';
import { appendAudit } from '../audit/public.ts';
import { listCommitments, spendCommitment, type Actor } from '../ledger/public.ts';
import { ballotRulesOf, type DeliveryStatus, PB_ACCOUNTS } from './domain.ts';
import { voteTypeOf, type Election } from './election.ts';
import { commitmentsFor, type PotFunds } from './funds.ts';
import { Rational } from './rational.ts';
import { describeReason, type CountResult, type Reason } from './rules.ts';
import {
  findProcess,
  requirePhase,
  listProposals,
  ballotProjects,
  type ProcessRow,
} from './process-store.ts';
import { byContent } from './seal-store.ts';
import { countElection } from './count.ts';

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
