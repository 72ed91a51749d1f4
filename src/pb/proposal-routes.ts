/** The proposals API: list and submit, moderate, review. */
import type { FastifyInstance } from 'fastify';
import { inRequestPlace, need } from '../places/scope.ts';
import { moderateProposal, reviewProposal, submitProposal, validateProposal } from './process-store.ts';
import { closedObject, text as str } from '../core/json-schema.ts';
import { pence, processParams, proposalParams, actor } from './route-helpers.ts';

/** Proposals: list and submit, moderate and review. */
export function registerProposalRoutes(scoped: FastifyInstance) {
  scoped.post<{ Params: { slug: string; id: number }; Body: Record<string, unknown> }>(
    '/pb/processes/:id/proposals',
    {
      schema: {
        tags: ['pb'],
        summary: 'Propose a project (residents, for themselves or a community group)',
        params: processParams,
        body: closedObject(
          {
            title: str(120),
            description: str(3000),
            cost_pence: pence,
            category: str(60),
            location: str(200),
            group_name: str(200),
          },
          ['title', 'description', 'cost_pence', 'category', 'location'],
        ),
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
        body: closedObject(
          { moderation: { type: 'string', enum: ['published', 'hidden'] }, note: str(500) },
          ['moderation'],
        ),
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
        body: closedObject(
          {
            review: { type: 'string', enum: ['eligible', 'ineligible'] },
            reason: str(1000),
            council_cost_pence: pence,
            cost_note: str(500),
          },
          ['review', 'reason'],
        ),
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
}
