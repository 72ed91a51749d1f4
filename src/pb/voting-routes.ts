/** The voting API: access codes, online and paper ballots. */
import type { FastifyInstance } from 'fastify';
import { inRequestPlace, need } from '../places/scope.ts';
import { accessCodeHash } from './domain.ts';
import { codeAttemptsOf, guardCodeTry } from './attempts.ts';
import { accessCodeKnown, castBallot, generateAccessCodes } from './ballot-store.ts';
import { closedObject, text as str } from '../core/json-schema.ts';
import { processParams, actor } from './route-helpers.ts';

const ballotBody = closedObject(
  {
    projects: { type: 'array', items: str(20), maxItems: 500 },
    points: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 1_000_000 }, maxItems: 500 },
    postcode: str(10),
    of_age: { type: 'boolean' },
    code: str(40),
  },
  ['projects', 'postcode', 'of_age'],
);

interface BallotBody {
  projects: string[];
  points?: number[];
  postcode: string;
  of_age: boolean;
  code?: string;
}

/** Access codes, ballots cast online, and paper ballots entered by staff. */
export function registerVotingRoutes(scoped: FastifyInstance) {
  scoped.post<{ Params: { slug: string; id: number }; Body: { count: number } }>(
    '/pb/processes/:id/access-codes',
    {
      schema: {
        tags: ['pb'],
        summary: 'Generate single-use access codes; they are answered once and only their hashes are kept',
        params: processParams,
        body: closedObject({ count: { type: 'integer', minimum: 1, maximum: 2000 } }),
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
            codeAttemptsOf(scoped.deps),
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
}
