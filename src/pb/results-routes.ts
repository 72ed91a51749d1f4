/** The results API: count, publish, results, delivery, and Pabulib export and import. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { inRequestPlace, need } from '../places/scope.ts';
import { DELIVERY_STATUSES, PHASES, type DeliveryStatus } from './domain.ts';
import type { PbPorts } from './funds.ts';
import { exportPabulib, importPabulib } from './pabulib-store.ts';
import { findProcess } from './process-store.ts';
import { countVotes, listFunded, publishResults, recordDelivery, storedCount } from './results-store.ts';
import { closedObject, isoDate as date, slugParam, text as str } from '../core/json-schema.ts';
import { processParams, proposalParams, actor } from './route-helpers.ts';

/** Counting, publishing, the results, delivery spend, and a process to and from Pabulib. */
export function registerResultsRoutes(scoped: FastifyInstance, ports: PbPorts) {
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
        summary: 'The published result with each project’s explanation, and the delivery of what was funded',
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
        summary: 'Record delivery progress of a funded project; spend is taken from its ledger commitment',
        params: proposalParams,
        body: closedObject(
          {
            status: { type: 'string', enum: DELIVERY_STATUSES },
            spent_pence: { type: 'integer', minimum: 0, maximum: 100_000_000_000 },
            note: str(2000),
            date,
          },
          ['status', 'date'],
        ),
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
        body: closedObject(
          { file: str(20_000_000), year: { type: 'integer', minimum: 2000, maximum: 2100 } },
          ['file'],
        ),
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
}
