/** The processes API: list, open, read, move a phase, set the tie-break. */
import type { FastifyInstance } from 'fastify';
import { inRequestPlace, need } from '../places/scope.ts';
import {
  PHASE_DATES,
  PHASES,
  validateProcess,
  VOTER_MODES,
  type Phase,
  type ProcessSettings,
} from './domain.ts';
import { BALLOT_KINDS } from './election.ts';
import type { PbPorts } from './funds.ts';
import { COMPLETIONS, RULES, UTILITIES } from './rules.ts';
import { ballotCount } from './ballot-store.ts';
import {
  advancePhase,
  createProcess,
  findProcess,
  listProcesses,
  listProposals,
  setTieOrder,
} from './process-store.ts';
import { closedObject, id, isoDate as date, slugParam, text as str } from '../core/json-schema.ts';
import { pence, processParams, actor, visibleProposals } from './route-helpers.ts';

const processBody = closedObject(
  {
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
  [
    'year',
    'title',
    'budget_pence',
    ...PHASE_DATES,
    'ballot_kind',
    'ballot_limit',
    'rule',
    'postcodes',
    'min_age',
    'voters',
  ],
);

/** Processes: list, open, read, move on a phase, and set the tie-break. */
export function registerProcessRoutes(scoped: FastifyInstance, ports: PbPorts) {
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
        body: closedObject({ phase: { type: 'string', enum: PHASES } }),
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
        body: closedObject({ order: { type: 'array', items: id, maxItems: 1000 } }),
      },
    },
    async (request) => {
      const place = need(request, 'pb.manage');
      return inRequestPlace(request, place, (tx) =>
        setTieOrder(tx, place.id, request.params.id, request.body.order, actor(place)),
      );
    },
  );
}
