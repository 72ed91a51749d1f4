/** Voting: access codes, casting online and paper ballots, and who has voted. */
import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { Conflict, Invalid, type FieldErrors } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { type Actor } from '../ledger/public.ts';
import {
  accessCodeHash,
  ballotRulesOf,
  LIMITS,
  newAccessCode,
  voterOfCode,
  voterOfPerson,
  type BallotChannel,
} from './domain.ts';
import { validateBallot, type Ballot } from './election.ts';
import { formatPostcode, postcodeInAreas } from '../core/postcodes.ts';
import { findProcess, requirePhase, listProposals, ballotProjects } from './process-store.ts';

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
