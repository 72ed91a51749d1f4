/** A stored process to and from a Pabulib file: export for researchers, import as a process with sealed ballots. */
import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { type Actor } from '../ledger/public.ts';
import { parseTieOrder, PHASE_DATES, type ProcessSettings, validateProcess } from './domain.ts';
import { type Project } from './election.ts';
import { pabulibOf, parsePabulib, writePabulib } from './pabulib.ts';
import { compareIds, RULES } from './rules.ts';
import { findProcess, insertProcess, listProposals, type ProcessRow } from './process-store.ts';
import { insertSealed } from './seal-store.ts';
import { electionOf } from './results-store.ts';

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
      ['ballot_kind', 'utility', 'completion', 'tie_order', 'min_age', 'voters', ...PHASE_DATES] as const
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
