/** Proposal pages: proposing, a proposal's page, moderation and council review. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import {
  findProcess,
  listProposals,
  moderateProposal,
  reviewProposal,
  submitProposal,
  validateProposal,
  type ProposalInput,
} from './process-store.ts';
import {
  type Body,
  type Params,
  type ProposalForm,
  type ProposalParams,
  actor,
  text,
  processUrl,
  idFrom,
  pounds,
  mergeFields,
  proposalForm,
} from './page-helpers.ts';

/** Proposing a project, a proposal's page, its moderation and council review. */
export function registerProposalPages(scoped: FastifyInstance) {
  scoped.get<{ Params: Params }>('/pb/:id/propose', { schema: { hide: true } }, async (request, reply) => {
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
  });

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
          if (!input || Object.keys(fields).length) throw new Invalid('The proposal is not complete', fields);
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

  const backToProposals: Pick<ProposalForm, 'reshow' | 'then'> = {
    reshow: (reply, place, ids, body, refusal) =>
      proposalPage(reply, place, ids.processId, ids.proposalId, body, 400, refusal),
    then: () => '#proposals',
  };

  proposalForm(scoped, '/pb/:id/proposals/:proposal/moderation', {
    ...backToProposals,
    save: async (request, place, { processId, proposalId }, body) => {
      const moderation = text(body, 'moderation');
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
    },
  });

  proposalForm(scoped, '/pb/:id/proposals/:proposal/review', {
    ...backToProposals,
    save: async (request, place, { processId, proposalId }, body) => {
      const fields: FieldErrors = {};
      const review = text(body, 'review');
      if (review !== 'eligible' && review !== 'ineligible') fields.review = 'Select eligible or not eligible';
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
    },
  });
}
