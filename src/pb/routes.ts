import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  accessCodeHash,
  DELIVERY_STATUSES,
  PHASES,
  validateProcess,
  VOTER_MODES,
  type DeliveryStatus,
  type Phase,
  type ProcessSettings,
} from './domain.ts';
import { BALLOT_KINDS } from './election.ts';
import type { PbPorts } from './funds.ts';
import { codeAttemptsOf, guardCodeTry } from './attempts.ts';
import { COMPLETIONS, RULES, UTILITIES } from './rules.ts';
import { accessCodeKnown, ballotCount, castBallot, generateAccessCodes } from './ballot-store.ts';
import { exportPabulib, importPabulib } from './pabulib-store.ts';
import {
  advancePhase,
  createProcess,
  findProcess,
  listProcesses,
  listProposals,
  moderateProposal,
  reviewProposal,
  setTieOrder,
  submitProposal,
  validateProposal,
  type ProposalRow,
} from './process-store.ts';
import { countVotes, listFunded, publishResults, recordDelivery, storedCount } from './results-store.ts';
import { id, isoDate as date, penceAmount, slugParam, text as str } from '../core/json-schema.ts';

const pence = penceAmount(100_000_000_000);
const processParams = {
  type: 'object',
  properties: { slug: str(60), id },
  required: ['slug', 'id'],
} as const;
const proposalParams = {
  type: 'object',
  properties: { slug: str(60), id, proposal: id },
  required: ['slug', 'id', 'proposal'],
} as const;

const processBody = {
  type: 'object',
  properties: {
    year: { type: 'integer', minimum: 2000, maximum: 2100 },
    title: str(200),
    budget_pence: pence,
    proposals_from: date,
    review_from: date,
    voting_from: date,
    results_from: date,
    delivery_from: date,
    ballot_kind: { type: 'string', enum: BALLOT_KINDS },
    ballot_limit: { type: 'integer', minimum: 1, maximum: 100_000_000_000 },
    rule: { type: 'string', enum: RULES },
    utility: { type: 'string', enum: UTILITIES },
    completion: { type: 'string', enum: COMPLETIONS },
    postcodes: { type: 'array', items: str(10), minItems: 1, maxItems: 200 },
    min_age: { type: 'integer', minimum: 0, maximum: 120 },
    voters: { type: 'string', enum: VOTER_MODES },
  },
  required: [
    'year',
    'title',
    'budget_pence',
    'proposals_from',
    'review_from',
    'voting_from',
    'results_from',
    'delivery_from',
    'ballot_kind',
    'ballot_limit',
    'rule',
    'postcodes',
    'min_age',
    'voters',
  ],
  additionalProperties: false,
} as const;

const ballotBody = {
  type: 'object',
  properties: {
    projects: { type: 'array', items: str(20), maxItems: 500 },
    points: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 1_000_000 }, maxItems: 500 },
    postcode: str(10),
    of_age: { type: 'boolean' },
    code: str(40),
  },
  required: ['projects', 'postcode', 'of_age'],
  additionalProperties: false,
} as const;

interface BallotBody {
  projects: string[];
  points?: number[];
  postcode: string;
  of_age: boolean;
  code?: string;
}

const actor = (place: PlaceContext) => ({ personId: place.person.id });

/** What a member sees of proposals: staff see everything; others see what moderation published. */
export function visibleProposals(place: PlaceContext, proposals: ProposalRow[]): ProposalRow[] {
  if (allows(place.roles, 'pb.manage')) return proposals;
  return proposals.filter((p) => p.moderation === 'published' || p.proposed_by === place.person.id);
}

export async function pbRoutes(app: FastifyInstance, ports: PbPorts) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      scoped.get(
        '/pb/processes',
        {
          schema: {
            tags: ['pb'],
            summary: 'Participatory budgeting processes, newest year first',
            params: slugParam,
          },
        },
        async (request) => {
          const place = need(request, 'pb.read');
          return inRequestPlace(request, place, (tx) => listProcesses(tx, place.id));
        },
      );

      scoped.post<{ Body: Omit<ProcessSettings, 'utility' | 'completion'> & Partial<ProcessSettings> }>(
        '/pb/processes',
        {
          schema: {
            tags: ['pb'],
            summary: 'Open a process; its budget may not be more than the pot’s available balance',
            params: slugParam,
            body: processBody,
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const settings = validateProcess({ utility: 'cost', completion: 'add1', ...request.body });
          const created = await inRequestPlace(request, place, (tx) =>
            createProcess(tx, place.id, settings, ports.potFunds(actor(place)), actor(place)),
          );
          return reply.code(201).send(created);
        },
      );

      scoped.get<{ Params: { slug: string; id: number } }>(
        '/pb/processes/:id',
        {
          schema: {
            tags: ['pb'],
            summary: 'A process, its proposals and the number of ballots (not their content) so far',
            params: processParams,
          },
        },
        async (request) => {
          const place = need(request, 'pb.read');
          return inRequestPlace(request, place, async (tx) => ({
            process: await findProcess(tx, place.id, request.params.id),
            proposals: visibleProposals(place, await listProposals(tx, place.id, request.params.id)),
            ballots: await ballotCount(tx, place.id, request.params.id),
          }));
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: { phase: Phase } }>(
        '/pb/processes/:id/phase',
        {
          schema: {
            tags: ['pb'],
            summary: 'Move the process to its next phase',
            params: processParams,
            body: {
              type: 'object',
              properties: { phase: { type: 'string', enum: PHASES } },
              required: ['phase'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          return inRequestPlace(request, place, (tx) =>
            advancePhase(tx, place.id, request.params.id, request.body.phase, actor(place)),
          );
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: { order: number[] } }>(
        '/pb/processes/:id/tie-order',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Set the process’s own tie-break before voting: proposal ids, most preferred first (the default is fewer cost, then the lower id)',
            params: processParams,
            body: {
              type: 'object',
              properties: { order: { type: 'array', items: id, maxItems: 1000 } },
              required: ['order'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          return inRequestPlace(request, place, (tx) =>
            setTieOrder(tx, place.id, request.params.id, request.body.order, actor(place)),
          );
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: Record<string, unknown> }>(
        '/pb/processes/:id/proposals',
        {
          schema: {
            tags: ['pb'],
            summary: 'Propose a project (residents, for themselves or a community group)',
            params: processParams,
            body: {
              type: 'object',
              properties: {
                title: str(120),
                description: str(3000),
                cost_pence: pence,
                category: str(60),
                location: str(200),
                group_name: str(200),
              },
              required: ['title', 'description', 'cost_pence', 'category', 'location'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.propose');
          const input = validateProposal(request.body);
          return reply
            .code(201)
            .send(
              await inRequestPlace(request, place, (tx) =>
                submitProposal(tx, place.id, request.params.id, input, actor(place)),
              ),
            );
        },
      );

      scoped.post<{
        Params: { slug: string; id: number; proposal: number };
        Body: { moderation: 'published' | 'hidden'; note?: string };
      }>(
        '/pb/processes/:id/proposals/:proposal/moderation',
        {
          schema: {
            tags: ['pb'],
            summary: 'Publish or hide a proposal',
            params: proposalParams,
            body: {
              type: 'object',
              properties: { moderation: { type: 'string', enum: ['published', 'hidden'] }, note: str(500) },
              required: ['moderation'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          const { moderation, note = '' } = request.body;
          return inRequestPlace(request, place, (tx) =>
            moderateProposal(
              tx,
              place.id,
              request.params.id,
              request.params.proposal,
              { moderation, note },
              actor(place),
            ),
          );
        },
      );

      scoped.post<{
        Params: { slug: string; id: number; proposal: number };
        Body: {
          review: 'eligible' | 'ineligible';
          reason: string;
          council_cost_pence?: number;
          cost_note?: string;
        };
      }>(
        '/pb/processes/:id/proposals/:proposal/review',
        {
          schema: {
            tags: ['pb'],
            summary:
              'The council’s review: eligible or not with a published reason; its cost estimate may replace the proposer’s',
            params: proposalParams,
            body: {
              type: 'object',
              properties: {
                review: { type: 'string', enum: ['eligible', 'ineligible'] },
                reason: str(1000),
                council_cost_pence: pence,
                cost_note: str(500),
              },
              required: ['review', 'reason'],
              additionalProperties: false,
            },
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          const { review, reason, council_cost_pence = null, cost_note = '' } = request.body;
          return inRequestPlace(request, place, (tx) =>
            reviewProposal(
              tx,
              place.id,
              request.params.id,
              request.params.proposal,
              { review, reason, council_cost_pence, cost_note },
              actor(place),
            ),
          );
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: { count: number } }>(
        '/pb/processes/:id/access-codes',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Generate single-use access codes; they are answered once and only their hashes are kept',
            params: processParams,
            body: {
              type: 'object',
              properties: { count: { type: 'integer', minimum: 1, maximum: 2000 } },
              required: ['count'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const codes = await inRequestPlace(request, place, (tx) =>
            generateAccessCodes(tx, place.id, request.params.id, request.body.count, actor(place)),
          );
          return reply.code(201).send({ codes });
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: BallotBody }>(
        '/pb/processes/:id/ballots',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Vote (a revote replaces the earlier online ballot until voting closes; at the close ballots are sealed without voters)',
            params: processParams,
            body: ballotBody,
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.vote');
          const b = request.body;
          const processId = request.params.id;
          const result = await inRequestPlace(request, place, async (tx) => {
            // A code tried by a signed-in resident is limited as at the slip address, per person.
            if (b.code)
              await guardCodeTry(
                codeAttemptsOf(app.deps),
                processId,
                `person:${place.person.id}`,
                accessCodeHash(processId, b.code),
                () => accessCodeKnown(tx, place.id, processId, b.code!),
              );
            return castBallot(
              tx,
              place.id,
              processId,
              {
                voter: b.code ? { code: b.code } : { personId: place.person.id },
                channel: 'online',
                ballot: { projects: b.projects, ...(b.points ? { points: b.points } : {}) },
                postcode: b.postcode,
                ofAge: b.of_age,
              },
              actor(place),
            );
          });
          return reply.code(201).send(result);
        },
      );

      scoped.post<{ Params: { slug: string; id: number }; Body: BallotBody }>(
        '/pb/processes/:id/paper-ballots',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Enter a paper ballot, by the access code printed on it; marked as paper. Refused (409) when the code has already voted: a paper ballot never replaces one',
            params: processParams,
            body: { ...ballotBody, required: [...ballotBody.required, 'code'] },
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const b = request.body;
          const result = await inRequestPlace(request, place, (tx) =>
            castBallot(
              tx,
              place.id,
              request.params.id,
              {
                voter: { code: b.code! },
                channel: 'paper',
                ballot: { projects: b.projects, ...(b.points ? { points: b.points } : {}) },
                postcode: b.postcode,
                ofAge: b.of_age,
              },
              actor(place),
            ),
          );
          return reply.code(201).send(result);
        },
      );

      scoped.post<{ Params: { slug: string; id: number } }>(
        '/pb/processes/:id/count',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Count the votes with the process’s rule (after voting closes; a recount replaces it until published)',
            params: processParams,
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          return inRequestPlace(request, place, (tx) =>
            countVotes(tx, place.id, request.params.id, actor(place)),
          );
        },
      );

      scoped.post<{ Params: { slug: string; id: number } }>(
        '/pb/processes/:id/publish',
        {
          schema: {
            tags: ['pb'],
            summary: 'Publish the count: every winner becomes a ledger commitment from the neighbourhood pot',
            params: processParams,
          },
        },
        async (request) => {
          const place = need(request, 'pb.manage');
          return inRequestPlace(request, place, (tx) =>
            publishResults(tx, place.id, request.params.id, ports.potFunds(actor(place)), actor(place)),
          );
        },
      );

      scoped.get<{ Params: { slug: string; id: number } }>(
        '/pb/processes/:id/results',
        {
          schema: {
            tags: ['pb'],
            summary:
              'The published result with each project’s explanation, and the delivery of what was funded',
            params: processParams,
          },
        },
        async (request) => {
          const place = need(request, 'pb.read');
          return inRequestPlace(request, place, async (tx) => {
            const result = await storedCount(tx, place.id, request.params.id);
            // Staff check a count before publishing it; everyone else sees it once published.
            if (!result || (!result.published_at && !allows(place.roles, 'pb.manage')))
              throw new NotFound('The results are not published yet');
            return { result, funded: await listFunded(tx, place.id, request.params.id) };
          });
        },
      );

      scoped.post<{
        Params: { slug: string; id: number; proposal: number };
        Body: { status: DeliveryStatus; spent_pence?: number; note?: string; date: string };
      }>(
        '/pb/processes/:id/funded/:proposal/updates',
        {
          schema: {
            tags: ['pb'],
            summary:
              'Record delivery progress of a funded project; spend is taken from its ledger commitment',
            params: proposalParams,
            body: {
              type: 'object',
              properties: {
                status: { type: 'string', enum: DELIVERY_STATUSES },
                spent_pence: { type: 'integer', minimum: 0, maximum: 100_000_000_000 },
                note: str(2000),
                date,
              },
              required: ['status', 'date'],
              additionalProperties: false,
            },
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const { status, spent_pence = 0, note = '', date: on } = request.body;
          const funded = await inRequestPlace(request, place, (tx) =>
            recordDelivery(
              tx,
              place.id,
              request.params.id,
              request.params.proposal,
              { status, spent_pence, note, date: on, key: `pb-delivery-${randomUUID()}` },
              actor(place),
            ),
          );
          return reply.code(201).send(funded);
        },
      );

      scoped.get<{ Params: { slug: string; id: number } }>(
        '/pb/processes/:id/pabulib',
        {
          schema: {
            tags: ['pb'],
            summary: 'The process and its ballots as a Pabulib .pb file (after voting closes)',
            params: processParams,
          },
        },
        async (request, reply) => {
          const place = need(request, 'pb.read');
          const text = await inRequestPlace(request, place, async (tx) => {
            const process = await findProcess(tx, place.id, request.params.id);
            if (PHASES.indexOf(process.phase) < PHASES.indexOf('results'))
              throw new Invalid('Ballots are exported once voting has closed');
            return exportPabulib(tx, place.id, process.id, place.name);
          });
          return reply
            .type('text/plain; charset=utf-8')
            .header('content-disposition', `attachment; filename="${place.slug}-${request.params.id}.pb"`)
            .send(text);
        },
      );

      scoped.post<{ Body: { file: string; year?: number } }>(
        '/pb/import',
        {
          schema: {
            tags: ['pb'],
            summary: 'Import a Pabulib .pb file as a new process in its results phase, ready to count',
            params: slugParam,
            body: {
              type: 'object',
              properties: { file: str(20_000_000), year: { type: 'integer', minimum: 2000, maximum: 2100 } },
              required: ['file'],
              additionalProperties: false,
            },
          },
          bodyLimit: 25 * 1024 * 1024,
        },
        async (request, reply) => {
          const place = need(request, 'pb.manage');
          const { file, year } = request.body;
          const process = await inRequestPlace(request, place, (tx) =>
            importPabulib(tx, place.id, file, { ...(year ? { year } : {}) }, actor(place)),
          );
          return reply.code(201).send(process);
        },
      );
    }),
  );
}
