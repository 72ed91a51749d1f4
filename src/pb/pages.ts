import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import { Conflict, Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { inPounds, type Pence } from '../core/money.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { formOr, formPage } from '../core/forms.ts';
import { inPlace, inSystem } from '../core/db.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  accessCodeHash,
  BALLOT_KIND_LABELS,
  ballotRulesOf,
  costOf,
  DELIVERY_LABELS,
  DELIVERY_STATUSES,
  describeBallot,
  nextPhase,
  parseTieOrder,
  PHASE_HINTS,
  PHASE_LABELS,
  PHASES,
  RULE_LABELS,
  validateProcess,
  VOTER_MODES,
  type BallotKind,
  type DeliveryStatus,
  type Phase,
  type ProcessSettings,
} from './domain.ts';
import { BALLOT_KINDS, type Ballot } from './election.ts';
import type { PbPorts } from './funds.ts';
import { visibleProposals } from './routes.ts';
import { codeAttemptsOf, guardCodeTry } from './attempts.ts';
import { commitmentsFor } from './funds.ts';
import { ballotCount, accessCodeKnown, castBallot, generateAccessCodes, hasVoted } from './ballot-store.ts';
import { exportPabulib } from './pabulib-store.ts';
import {
  advancePhase,
  ballotProjects,
  createProcess,
  findProcess,
  listProcesses,
  listProposals,
  moderateProposal,
  reviewProposal,
  setTieOrder,
  submitProposal,
  tieOrderRefusal,
  validateProposal,
  type ProcessRow,
  type ProposalInput,
  type ProposalRow,
} from './process-store.ts';
import {
  countVotes,
  listFunded,
  publishResults,
  recordDelivery,
  storedCount,
  type StoredCount,
} from './results-store.ts';
import { listField, penceField, textField } from '../core/form-fields.ts';
import { todayIso } from '../core/dates.ts';

type Body = Record<string, string | string[] | undefined>;
type Params = { slug: string; id: string };
type ProposalParams = Params & { proposal: string };

const actor = (place: PlaceContext) => ({ personId: place.person.id });
const text = textField;
const list = listField;
const processUrl = (place: PlaceContext, id: number, rest = '') => `/places/${place.slug}/pb/${id}${rest}`;

/** Route ids come from the URL; anything that is not a whole number is simply not found. */
function idFrom(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) throw new NotFound('Not found');
  return n;
}

function pounds(body: Body, name: string, fields: FieldErrors, optional = false): Pence | null {
  if (optional && text(body, name) === '') return null;
  return penceField(body, name, fields, { positive: true });
}

function whole(body: Body, name: string, fields: FieldErrors, message: string): number {
  const value = text(body, name);
  if (!/^\d{1,12}$/.test(value)) fields[name] = message;
  return Number(value);
}

/**
 * Adds the store's field messages to the form's own, under the form's names (it asks for pounds
 * in `budget` where the store checks `budget_pence`); what the form found itself comes first.
 */
function mergeFields(fields: FieldErrors, err: unknown, names: Record<string, string>) {
  if (!(err instanceof Invalid)) throw err;
  for (const [name, message] of Object.entries(err.fields ?? {})) fields[names[name] ?? name] ??= message;
}

const items = <T extends string>(
  values: readonly T[],
  labels: Record<T, string>,
  selected: string | undefined,
) =>
  values.map((value) => ({
    value,
    text: labels[value],
    checked: value === selected,
    selected: value === selected,
  }));

/** Staff may act in this phase; residents see what the phase lets them do. */
function can(place: PlaceContext, process: ProcessRow) {
  return {
    manage: allows(place.roles, 'pb.manage'),
    propose: allows(place.roles, 'pb.propose') && process.phase === 'proposals',
    vote: allows(place.roles, 'pb.vote') && process.phase === 'voting',
    tieBreak: allows(place.roles, 'pb.manage') && !tieOrderRefusal(process),
  };
}

// ---- The process's own tie-break ---------------------------------------------------------------

const positionField = (proposal: ProposalRow) => `position-${proposal.id}`;

/**
 * The tie-break form's positions as an order of proposal ids, most preferred first; a blank
 * position leaves the proposal to the default order. Each problem is told against its proposal.
 */
function tieOrderFromForm(proposals: ProposalRow[], body: Body): number[] {
  const fields: FieldErrors = {};
  const taken = new Map<number, ProposalRow>();
  const placed: { id: number; position: number }[] = [];
  for (const proposal of proposals) {
    const name = positionField(proposal);
    const value = text(body, name);
    if (value === '') continue;
    const position = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
    if (!(position >= 1 && position <= proposals.length)) {
      fields[name] =
        `Enter a tie-break position for ${proposal.title} from 1 to ${proposals.length}, or leave it blank`;
      continue;
    }
    const first = taken.get(position);
    if (first) {
      fields[name] =
        `${proposal.title} has position ${position}, as ${first.title} does: use each position once`;
      continue;
    }
    taken.set(position, proposal);
    placed.push({ id: proposal.id, position });
  }
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the tie-break order', fields);
  return placed.sort((a, b) => a.position - b.position).map((p) => p.id);
}

// ---- Opening a process -------------------------------------------------------------------------

const PROCESS_FIELDS = [
  'title',
  'year',
  'budget',
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
  'postcodes',
  'min_age',
  'voters',
];

function processFormContext(place: PlaceContext, values: Body) {
  return {
    title: 'Open a participatory budget',
    place,
    values,
    ballotKindItems: items(
      BALLOT_KINDS,
      BALLOT_KIND_LABELS,
      text(values, 'ballot_kind') || 'approval_budget',
    ),
    ruleItems: items(['greedy', 'mes', 'phragmen'] as const, RULE_LABELS, text(values, 'rule') || 'mes'),
    voterItems: items(
      VOTER_MODES,
      {
        accounts: 'Residents’ accounts (paper voters use access codes)',
        codes: 'Single-use access codes for everyone',
      },
      text(values, 'voters') || 'accounts',
    ),
    utilityItems: items(
      ['cost', 'cardinality'] as const,
      {
        cost: 'Cost (the money funded for what a voter approved)',
        cardinality: 'Cardinality (the number of approved projects funded)',
      },
      text(values, 'utility') || 'cost',
    ),
  };
}

function processInput(body: Body): ProcessSettings {
  const fields: FieldErrors = {};
  const budget = pounds(body, 'budget', fields) ?? 0;
  const kind = text(body, 'ballot_kind') as BallotKind;
  // The budget-limited ballot's limit is money; the others count projects, ranks or points.
  const limit =
    kind === 'approval_budget'
      ? text(body, 'ballot_limit')
        ? pounds(body, 'ballot_limit', fields)
        : budget
      : whole(body, 'ballot_limit', fields, 'Enter a whole number, for example 5');
  const input: ProcessSettings = {
    title: text(body, 'title'),
    year: Number(text(body, 'year')),
    budget_pence: budget,
    proposals_from: text(body, 'proposals_from'),
    review_from: text(body, 'review_from'),
    voting_from: text(body, 'voting_from'),
    results_from: text(body, 'results_from'),
    delivery_from: text(body, 'delivery_from'),
    ballot_kind: kind,
    ballot_limit: limit ?? 0,
    rule: text(body, 'rule') as ProcessSettings['rule'],
    utility: (text(body, 'utility') || 'cost') as ProcessSettings['utility'],
    completion: 'add1',
    postcodes: text(body, 'postcodes').split(','),
    min_age: Number(text(body, 'min_age') || 'x'),
    voters: text(body, 'voters') as ProcessSettings['voters'],
  };
  let checked: ProcessSettings | undefined;
  try {
    checked = validateProcess(input);
  } catch (err) {
    mergeFields(fields, err, { budget_pence: 'budget' });
  }
  if (!checked || Object.keys(fields).length) throw new Invalid('The process is not complete', fields);
  return checked;
}

// ---- Ballot forms ------------------------------------------------------------------------------

/** The ballot form's fields as a ballot: ticked boxes, ranks chosen from lists, or points typed in. */
function ballotFromForm(kind: BallotKind, projectIds: string[], body: Body): Ballot {
  if (kind === 'approval_budget' || kind === 'approval_max') return { projects: list(body, 'projects') };
  if (kind === 'ordinal') {
    const ranked = projectIds
      .map((id) => ({ id, rank: Number(text(body, `rank_${id}`) || 0) }))
      .filter((r) => r.rank > 0);
    if (new Set(ranked.map((r) => r.rank)).size !== ranked.length)
      throw new Invalid('There is a problem with your vote', {
        projects: 'Give each rank to one project only',
      });
    return { projects: ranked.sort((a, b) => a.rank - b.rank).map((r) => r.id) };
  }
  const given = projectIds
    .map((id) => ({ id, points: text(body, `points_${id}`) }))
    .filter((g) => g.points !== '' && g.points !== '0');
  if (!given.every((g) => /^\d{1,9}$/.test(g.points)))
    throw new Invalid('There is a problem with your vote', {
      projects: 'Points must be whole numbers of 1 or more',
    });
  return { projects: given.map((g) => g.id), points: given.map((g) => Number(g.points)) };
}

async function ballotFormContext(
  place: Pick<PlaceContext, 'name' | 'slug'>,
  process: ProcessRow,
  proposals: ProposalRow[],
  values: Body,
  paper: boolean,
) {
  const projects = ballotProjects(proposals);
  const byId = new Map(proposals.map((p) => [String(p.id), p]));
  const rules = ballotRulesOf(process);
  const chosen = new Set(list(values, 'projects'));
  const ranks =
    rules.kind === 'ordinal'
      ? Array.from({ length: Math.min(rules.maxRanks, projects.length) }, (_, i) => i + 1)
      : [];
  return {
    title: paper ? 'Enter a paper ballot' : `Vote: ${process.title}`,
    place,
    process,
    paper,
    values,
    ballotHint: describeBallot(process),
    kind: process.ballot_kind,
    projects: projects.map((p) => {
      const proposal = byId.get(p.id)!;
      return {
        id: p.id,
        title: proposal.title,
        cost: p.cost,
        description: proposal.description,
        location: proposal.location,
        checked: chosen.has(p.id),
        rankItems: [
          { value: '', text: 'Not ranked' },
          ...ranks.map((r) => ({
            value: String(r),
            text: String(r),
            selected: text(values, `rank_${p.id}`) === String(r),
          })),
        ],
        points: text(values, `points_${p.id}`),
      };
    }),
  };
}

// ---- Results -----------------------------------------------------------------------------------

function resultsContext(place: PlaceContext, process: ProcessRow, result: StoredCount) {
  const winners = result.projects.filter((p) => p.funded).sort((a, b) => a.position! - b.position!);
  const chart = barChart({
    caption: `Votes for each project (${result.ballots} ballots)`,
    categories: result.projects.map((p) => `${p.title}${p.funded ? ' (funded)' : ''}`),
    series: [
      {
        name: process.ballot_kind === 'cumulative' ? 'Points' : 'Votes',
        values: result.projects.map((p) => p.votes),
      },
    ],
  });
  return { winners, chart, left: result.budget - result.spent, ruleLabel: RULE_LABELS[result.rule] };
}

/**
 * Voting with an access code and no account, at `/vote/PROCESS` (the address printed on the
 * slips): the code is the credential, as an invitation link is, so there is no session and no
 * CSRF token, and tries are rate-limited. Only a process in its voting phase answers; what it
 * shows is the public ballot.
 */
function publicVote(app: FastifyInstance) {
  type Request = FastifyRequest<{ Params: { process: string }; Body?: Body }>;
  const attempts = codeAttemptsOf(app.deps);
  const handle = async (request: Request, reply: FastifyReply) => {
    const processId = idFrom(request.params.process);
    const owner = await inSystem(app.deps.db, (tx) =>
      tx
        .selectFrom('pb_processes as p')
        .innerJoin('places as pl', 'pl.id', 'p.place_id')
        .select(['p.place_id', 'pl.name', 'pl.slug'])
        .where('p.id', '=', processId)
        .where('p.phase', '=', 'voting')
        .executeTakeFirst(),
    );
    if (!owner) throw new NotFound('There is no vote open at this address');
    const place = { name: owner.name, slug: owner.slug };
    const data = await inPlace(app.deps.db, owner.place_id, async (tx) => ({
      process: await findProcess(tx, owner.place_id, processId),
      proposals: await listProposals(tx, owner.place_id, processId),
    }));
    const body = request.body ?? {};
    const context = {
      ...(await ballotFormContext(place, data.process, data.proposals, body, false)),
      withCode: true,
      action: `/vote/${processId}`,
    };
    if (request.method === 'GET') return reply.page('pb/views/vote.njk', context);
    const shown = await formOr(
      reply,
      'pb/views/vote.njk',
      context,
      ['code', 'projects', 'postcode', 'of_age'],
      async () => {
        const code = text(body, 'code');
        if (!code)
          throw new Invalid('Enter your access code', { code: 'Enter the access code printed on your slip' });
        const ballot = ballotFromForm(
          data.process.ballot_kind,
          ballotProjects(data.proposals).map((p) => p.id),
          body,
        );
        await inPlace(app.deps.db, owner.place_id, async (tx) => {
          await guardCodeTry(attempts, processId, request.ip, accessCodeHash(processId, code), () =>
            accessCodeKnown(tx, owner.place_id, processId, code),
          );
          return castBallot(
            tx,
            owner.place_id,
            processId,
            {
              voter: { code },
              channel: 'online',
              ballot,
              postcode: text(body, 'postcode'),
              ofAge: text(body, 'of_age') === 'yes',
            },
            { personId: null },
          );
        });
      },
    );
    return (
      shown ??
      reply.page('pb/views/voted.njk', { title: 'Your vote has been recorded', process: data.process, place })
    );
  };
  // Wrong codes are limited per client and per process, and ballots per code (guardCodeTry); this
  // ceiling per address only bounds load, high enough for a neighbourhood behind one proxy.
  const config = { csrf: false, rateLimit: { max: 600, timeWindow: '1 minute' } };
  app.get<{ Params: { process: string } }>('/vote/:process', { schema: { hide: true } }, handle);
  app.post<{ Params: { process: string }; Body: Body }>(
    '/vote/:process',
    { config, schema: { hide: true } },
    handle,
  );
}

export async function pbPages(app: FastifyInstance, ports: PbPorts) {
  publicVote(app);
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      scoped.get('/pb', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'pb.read');
        const processes = await inRequestPlace(request, place, (tx) => listProcesses(tx, place.id));
        return reply.page('pb/views/processes.njk', {
          title: `Participatory budgeting – ${place.name}`,
          place,
          processes,
          phaseLabels: PHASE_LABELS,
          canManage: allows(place.roles, 'pb.manage'),
        });
      });

      scoped.get('/pb/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'pb.manage');
        const available = await inRequestPlace(request, place, (tx) =>
          ports.potFunds(actor(place)).available(tx, place.id),
        );
        return reply.page('pb/views/process-new.njk', {
          ...processFormContext(place, { min_age: '16', year: String(new Date().getFullYear()) }),
          available,
        });
      });

      scoped.post<{ Body: Body }>('/pb', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'pb.manage');
        const body = request.body ?? {};
        const funds = ports.potFunds(actor(place));
        const available = await inRequestPlace(request, place, (tx) => funds.available(tx, place.id));
        let created: ProcessRow | undefined;
        const shown = await formOr(
          reply,
          'pb/views/process-new.njk',
          { ...processFormContext(place, body), available },
          PROCESS_FIELDS,
          async () => {
            const settings = processInput(body);
            created = await inRequestPlace(request, place, (tx) =>
              createProcess(tx, place.id, settings, funds, actor(place)),
            ).catch((err: unknown) => {
              // The pot's refusal belongs to the budget field.
              if (err instanceof Conflict) {
                const { message } = inPounds(err);
                throw new Invalid(message, { budget: message });
              }
              throw err;
            });
          },
        );
        return shown ?? reply.redirect(processUrl(place, created!.id), 303);
      });

      scoped.get<{ Params: Params }>('/pb/:id', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'pb.read');
        const processId = idFrom(request.params.id);
        const data = await inRequestPlace(request, place, async (tx) => ({
          process: await findProcess(tx, place.id, processId),
          proposals: visibleProposals(place, await listProposals(tx, place.id, processId)),
          ballots: await ballotCount(tx, place.id, processId),
          result: await storedCount(tx, place.id, processId),
          voted: await hasVoted(tx, place.id, processId, place.person.id),
        }));
        const p = data.process;
        const next = nextPhase(p.phase);
        return reply.page('pb/views/process.njk', {
          title: `${p.title} – ${place.name}`,
          place,
          ...data,
          can: can(place, p),
          phases: PHASES.map((phase, i) => ({
            phase,
            label: PHASE_LABELS[phase],
            from: p[`${phase}_from`],
            current: phase === p.phase,
            done: i < PHASES.indexOf(p.phase),
          })),
          phaseHint: PHASE_HINTS[p.phase],
          phaseLabel: PHASE_LABELS[p.phase],
          nextPhase: next && { value: next, label: PHASE_LABELS[next] },
          ballotKindLabel: BALLOT_KIND_LABELS[p.ballot_kind],
          ballotHint: describeBallot(p),
          ruleLabel: RULE_LABELS[p.rule],
          proposals: data.proposals.map((x) => ({ ...x, cost: costOf(x) })),
          published: Boolean(data.result?.published_at),
          afterVoting: PHASES.indexOf(p.phase) >= PHASES.indexOf('results'),
        });
      });

      // ---- Proposals ----

      scoped.get<{ Params: Params }>(
        '/pb/:id/propose',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.propose');
          const process = await inRequestPlace(request, place, (tx) =>
            findProcess(tx, place.id, idFrom(request.params.id)),
          );
          return reply.page('pb/views/propose.njk', {
            title: 'Propose a project',
            place,
            process,
            values: {},
          });
        },
      );

      scoped.post<{ Params: Params; Body: Body }>(
        '/pb/:id/propose',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.propose');
          const processId = idFrom(request.params.id);
          const body = request.body ?? {};
          const process = await inRequestPlace(request, place, (tx) => findProcess(tx, place.id, processId));
          const shown = await formOr(
            reply,
            'pb/views/propose.njk',
            { title: 'Propose a project', place, process, values: body },
            ['title', 'description', 'cost', 'category', 'location', 'group_name'],
            async () => {
              const fields: FieldErrors = {};
              const cost = pounds(body, 'cost', fields);
              let input: ProposalInput | undefined;
              try {
                input = validateProposal({
                  title: text(body, 'title'),
                  description: text(body, 'description'),
                  cost_pence: cost ?? 0,
                  category: text(body, 'category'),
                  location: text(body, 'location'),
                  group_name: text(body, 'group_name'),
                });
              } catch (err) {
                mergeFields(fields, err, { cost_pence: 'cost' });
              }
              if (!input || Object.keys(fields).length)
                throw new Invalid('The proposal is not complete', fields);
              await inRequestPlace(request, place, (tx) =>
                submitProposal(tx, place.id, processId, input, actor(place)),
              );
            },
          );
          return shown ?? reply.redirect(processUrl(place, processId, '?proposed=1#proposals'), 303);
        },
      );

      const proposalPage = async (
        reply: FastifyReply,
        place: PlaceContext,
        processId: number,
        proposalId: number,
        values: Body,
        status = 200,
        errors?: Invalid,
      ) => {
        const data = await inRequestPlace(reply.request, place, async (tx) => ({
          process: await findProcess(tx, place.id, processId),
          proposals: await listProposals(tx, place.id, processId),
        }));
        const proposal = data.proposals.find((p) => p.id === proposalId);
        if (!proposal) throw new NotFound('No such proposal in this process');
        return reply.page(
          'pb/views/proposal.njk',
          {
            title: `Review: ${proposal.title}`,
            place,
            process: data.process,
            proposal,
            values,
            ...(errors
              ? {
                  errors: errorList(errors.fields, [
                    'moderation',
                    'note',
                    'review',
                    'reason',
                    'council_cost',
                    'cost_note',
                  ]),
                  fieldErrors: fieldMessages(errors.fields),
                }
              : {}),
          },
          status,
        );
      };

      scoped.get<{ Params: ProposalParams }>(
        '/pb/:id/proposals/:proposal',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          return proposalPage(reply, place, idFrom(request.params.id), idFrom(request.params.proposal), {});
        },
      );

      scoped.post<{ Params: ProposalParams; Body: Body }>(
        '/pb/:id/proposals/:proposal/moderation',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const [processId, proposalId] = [idFrom(request.params.id), idFrom(request.params.proposal)];
          const body = request.body ?? {};
          const moderation = text(body, 'moderation');
          try {
            if (moderation !== 'published' && moderation !== 'hidden')
              throw new Invalid('Choose whether to publish it', { moderation: 'Select publish or hide' });
            await inRequestPlace(request, place, (tx) =>
              moderateProposal(
                tx,
                place.id,
                processId,
                proposalId,
                { moderation, note: text(body, 'note') },
                actor(place),
              ),
            );
          } catch (err) {
            if (err instanceof Invalid)
              return proposalPage(reply, place, processId, proposalId, body, 400, err);
            throw err;
          }
          return reply.redirect(processUrl(place, processId, '#proposals'), 303);
        },
      );

      scoped.post<{ Params: ProposalParams; Body: Body }>(
        '/pb/:id/proposals/:proposal/review',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const [processId, proposalId] = [idFrom(request.params.id), idFrom(request.params.proposal)];
          const body = request.body ?? {};
          try {
            const fields: FieldErrors = {};
            const review = text(body, 'review');
            if (review !== 'eligible' && review !== 'ineligible')
              fields.review = 'Select eligible or not eligible';
            const councilCost = pounds(body, 'council_cost', fields, true);
            if (Object.keys(fields).length) throw new Invalid('The review is not complete', fields);
            await inRequestPlace(request, place, (tx) =>
              reviewProposal(
                tx,
                place.id,
                processId,
                proposalId,
                {
                  review: review as 'eligible',
                  reason: text(body, 'reason'),
                  council_cost_pence: councilCost,
                  cost_note: text(body, 'cost_note'),
                },
                actor(place),
              ),
            );
          } catch (err) {
            if (err instanceof Invalid)
              return proposalPage(reply, place, processId, proposalId, body, 400, err);
            throw err;
          }
          return reply.redirect(processUrl(place, processId, '#proposals'), 303);
        },
      );

      // ---- Voting ----

      const ballotPage =
        (paper: boolean) =>
        async (
          request: FastifyRequest<{ Params: Params; Body?: Body }>,
          reply: FastifyReply,
          place: PlaceContext,
        ) => {
          const processId = idFrom(request.params.id);
          const data = await inRequestPlace(request, place, async (tx) => ({
            process: await findProcess(tx, place.id, processId),
            proposals: await listProposals(tx, place.id, processId),
            voted: await hasVoted(tx, place.id, processId, place.person.id),
          }));
          if (data.process.phase !== 'voting') return reply.redirect(processUrl(place, processId), 303);
          const body = request.body ?? {};
          const context = {
            ...(await ballotFormContext(place, data.process, data.proposals, body, paper)),
            voted: data.voted,
          };
          if (request.method === 'GET') return reply.page('pb/views/vote.njk', context);
          const shown = await formOr(
            reply,
            'pb/views/vote.njk',
            context,
            ['code', 'projects', 'postcode', 'of_age'],
            async () => {
              const ballot = ballotFromForm(
                data.process.ballot_kind,
                ballotProjects(data.proposals).map((p) => p.id),
                body,
              );
              const code = text(body, 'code');
              if (paper && !code)
                throw new Invalid('Enter the access code', {
                  code: 'Enter the access code printed on the paper ballot',
                });
              await inRequestPlace(request, place, async (tx) => {
                // A resident trying a code is limited as at the slip address, per person; staff entering paper are not.
                if (code && !paper)
                  await guardCodeTry(
                    codeAttemptsOf(app.deps),
                    processId,
                    `person:${place.person.id}`,
                    accessCodeHash(processId, code),
                    () => accessCodeKnown(tx, place.id, processId, code),
                  );
                return castBallot(
                  tx,
                  place.id,
                  processId,
                  {
                    voter: code ? { code } : { personId: place.person.id },
                    channel: paper ? 'paper' : 'online',
                    ballot,
                    postcode: text(body, 'postcode'),
                    ofAge: text(body, 'of_age') === 'yes',
                  },
                  actor(place),
                );
              });
            },
          );
          return (
            shown ??
            reply.redirect(processUrl(place, processId, paper ? '/paper-ballot?entered=1' : '?voted=1'), 303)
          );
        };
      const vote = ballotPage(false);
      const paper = ballotPage(true);
      scoped.get<{ Params: Params }>('/pb/:id/vote', { schema: { hide: true } }, (request, reply) =>
        vote(request, reply, need(request, 'pb.vote')),
      );
      scoped.post<{ Params: Params; Body: Body }>(
        '/pb/:id/vote',
        { schema: { hide: true } },
        (request, reply) => vote(request, reply, need(request, 'pb.vote')),
      );
      scoped.get<{ Params: Params }>('/pb/:id/paper-ballot', { schema: { hide: true } }, (request, reply) =>
        paper(request, reply, need(request, 'pb.manage')),
      );
      scoped.post<{ Params: Params; Body: Body }>(
        '/pb/:id/paper-ballot',
        { schema: { hide: true } },
        (request, reply) => paper(request, reply, need(request, 'pb.manage')),
      );

      // ---- Staff actions ----

      scoped.post<{ Params: Params; Body: Body }>(
        '/pb/:id/phase',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          await inRequestPlace(request, place, (tx) =>
            advancePhase(tx, place.id, processId, text(request.body ?? {}, 'phase') as Phase, actor(place)),
          );
          return reply.redirect(processUrl(place, processId), 303);
        },
      );

      scoped.post<{ Params: Params; Body: Body }>(
        '/pb/:id/access-codes',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          const howMany = Number(text(request.body ?? {}, 'count'));
          const data = await inRequestPlace(request, place, async (tx) => ({
            process: await findProcess(tx, place.id, processId),
            codes: await generateAccessCodes(tx, place.id, processId, howMany, actor(place)),
          }));
          return reply.header('cache-control', 'no-store').page('pb/views/codes.njk', {
            title: 'Access codes to print',
            place,
            ...data,
            voteUrl: `${request.protocol}://${request.host}/vote/${processId}`,
          });
        },
      );

      formPage<Params>(scoped, {
        path: '/pb/:id/tie-break',
        template: 'pb/views/tie-break.njk',
        // The fields are named after the proposals; their problems are listed in the page's order.
        order: [],
        async context(request, values) {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          const data = await inRequestPlace(request, place, async (tx) => ({
            process: await findProcess(tx, place.id, processId),
            proposals: await listProposals(tx, place.id, processId),
          }));
          const current = parseTieOrder(data.process.tie_order);
          // A fresh form shows the order set now; a submitted one what was typed.
          const fresh = request.method === 'GET';
          return {
            title: `Tie-break order – ${data.process.title}`,
            place,
            process: data.process,
            refusal: tieOrderRefusal(data.process),
            rows: data.proposals.map((p) => {
              const at = current.indexOf(String(p.id));
              return {
                name: positionField(p),
                title: p.title,
                cost: costOf(p),
                value: fresh ? (at >= 0 ? String(at + 1) : '') : text(values, positionField(p)),
              };
            }),
          };
        },
        async submit(request, body) {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          await inRequestPlace(request, place, async (tx) => {
            // Outside its phases the form is refused as the API refuses it, whatever was typed.
            const refusal = tieOrderRefusal(await findProcess(tx, place.id, processId));
            if (refusal) throw new Conflict(refusal);
            const order = text(body, 'default')
              ? []
              : tieOrderFromForm(await listProposals(tx, place.id, processId), body);
            await setTieOrder(tx, place.id, processId, order, actor(place));
          });
          return processUrl(place, processId, '?tie-order=saved');
        },
      });

      scoped.post<{ Params: Params }>('/pb/:id/count', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'pb.manage');
        const processId = idFrom(request.params.id);
        await inRequestPlace(request, place, (tx) => countVotes(tx, place.id, processId, actor(place)));
        return reply.redirect(processUrl(place, processId, '/results'), 303);
      });

      scoped.get<{ Params: Params }>(
        '/pb/:id/publish',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          const data = await inRequestPlace(request, place, async (tx) => ({
            process: await findProcess(tx, place.id, processId),
            result: await storedCount(tx, place.id, processId),
            available: await ports.potFunds(actor(place)).available(tx, place.id),
          }));
          if (!data.result || data.result.published_at)
            return reply.redirect(processUrl(place, processId, '/results'), 303);
          const titles = new Map(data.result.projects.map((p) => [p.id, p.title]));
          const commitments = commitmentsFor(data.result, data.process.title).map((c) => ({
            ...c,
            title: titles.get(c.projectId),
          }));
          return reply.page('pb/views/publish.njk', {
            title: 'Check the results before publishing',
            place,
            ...data,
            commitments,
          });
        },
      );

      scoped.post<{ Params: Params }>(
        '/pb/:id/publish',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const processId = idFrom(request.params.id);
          await inRequestPlace(request, place, (tx) =>
            publishResults(tx, place.id, processId, ports.potFunds(actor(place)), actor(place)),
          );
          return reply.redirect(processUrl(place, processId, '/results'), 303);
        },
      );

      /** The results page; with a delivery update that was refused, its form shows why, the values kept. */
      const resultsPage = async (
        request: FastifyRequest,
        reply: FastifyReply,
        place: PlaceContext,
        processId: number,
        refused?: { proposalId: number; values: Body; error: Invalid },
      ) => {
        const manage = allows(place.roles, 'pb.manage');
        const data = await inRequestPlace(request, place, async (tx) => ({
          process: await findProcess(tx, place.id, processId),
          result: await storedCount(tx, place.id, processId),
          funded: await listFunded(tx, place.id, processId),
        }));
        if (!data.result || (!data.result.published_at && !manage))
          throw new NotFound('The results are not published yet');
        // One form per funded project: its fields are named after the project on the page.
        const fields: FieldErrors = {};
        const refusal = refused ? inPounds(refused.error).fields : undefined;
        for (const [name, message] of Object.entries(refusal ?? {}))
          fields[`${name === 'amount_pence' ? 'spent' : name}-${refused!.proposalId}`] = message;
        return reply.page(
          'pb/views/results.njk',
          {
            title: `Results: ${data.process.title}`,
            place,
            ...data,
            ...resultsContext(place, data.process, data.result),
            canManage: manage,
            deliveryLabels: DELIVERY_LABELS,
            statusItems: DELIVERY_STATUSES.map((s) => ({ value: s, text: DELIVERY_LABELS[s] })),
            refused: refused && { proposalId: refused.proposalId, values: refused.values },
            ...(refused ? { errors: errorList(fields, []), fieldErrors: fieldMessages(fields) } : {}),
          },
          refused ? 400 : 200,
        );
      };

      scoped.get<{ Params: Params }>('/pb/:id/results', { schema: { hide: true } }, async (request, reply) =>
        resultsPage(request, reply, need(request, 'pb.read'), idFrom(request.params.id)),
      );

      scoped.post<{ Params: ProposalParams; Body: Body }>(
        '/pb/:id/funded/:proposal',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const [processId, proposalId] = [idFrom(request.params.id), idFrom(request.params.proposal)];
          const body = request.body ?? {};
          try {
            const fields: FieldErrors = {};
            const spent = text(body, 'spent') ? pounds(body, 'spent', fields) : 0;
            const status = text(body, 'status') as DeliveryStatus;
            if (!DELIVERY_STATUSES.includes(status)) fields.status = 'Select a status';
            if (Object.keys(fields).length) throw new Invalid('The update is not complete', fields);
            await inRequestPlace(request, place, (tx) =>
              recordDelivery(
                tx,
                place.id,
                processId,
                proposalId,
                {
                  status,
                  spent_pence: spent ?? 0,
                  note: text(body, 'note'),
                  date: todayIso(),
                  key: `pb-delivery-${randomUUID()}`,
                },
                actor(place),
              ),
            );
          } catch (err) {
            if (!(err instanceof Invalid)) throw err;
            return resultsPage(request, reply, place, processId, { proposalId, values: body, error: err });
          }
          return reply.redirect(processUrl(place, processId, `/results#funded-${proposalId}`), 303);
        },
      );

      scoped.get<{ Params: Params }>(
        '/pb/:id/export.pb',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'pb.read');
          const processId = idFrom(request.params.id);
          const file = await inRequestPlace(request, place, async (tx) => {
            const process = await findProcess(tx, place.id, processId);
            if (PHASES.indexOf(process.phase) < PHASES.indexOf('results'))
              throw new NotFound('Ballots are exported once voting has closed');
            return exportPabulib(tx, place.id, processId, place.name);
          });
          return reply
            .type('text/plain; charset=utf-8')
            .header('content-disposition', `attachment; filename="${place.slug}-${processId}.pb"`)
            .send(file);
        },
      );
    }),
  );
}
