/** Results pages: the count, publication, the results, delivery and the Pabulib export. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { barChart } from '../core/chart.ts';
import { Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { inPounds } from '../core/money.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import { DELIVERY_LABELS, DELIVERY_STATUSES, PHASES, RULE_LABELS, type DeliveryStatus } from './domain.ts';
import { commitmentsFor, type PbPorts } from './funds.ts';
import { exportPabulib } from './pabulib-store.ts';
import { findProcess, type ProcessRow } from './process-store.ts';
import {
  countVotes,
  listFunded,
  publishResults,
  recordDelivery,
  storedCount,
  type StoredCount,
} from './results-store.ts';
import { todayIso } from '../core/dates.ts';
import {
  type Body,
  type Params,
  actor,
  text,
  processUrl,
  idFrom,
  pounds,
  proposalForm,
} from './page-helpers.ts';

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

/** Counting, publishing, the results page, delivery and the Pabulib export. */
export function registerResultsPages(scoped: FastifyInstance, ports: PbPorts) {
  scoped.post<{ Params: Params }>('/pb/:id/count', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.manage');
    const processId = idFrom(request.params.id);
    await inRequestPlace(request, place, (tx) => countVotes(tx, place.id, processId, actor(place)));
    return reply.redirect(processUrl(place, processId, '/results'), 303);
  });

  scoped.get<{ Params: Params }>('/pb/:id/publish', { schema: { hide: true } }, async (request, reply) => {
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
  });

  scoped.post<{ Params: Params }>('/pb/:id/publish', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'pb.manage');
    const processId = idFrom(request.params.id);
    await inRequestPlace(request, place, (tx) =>
      publishResults(tx, place.id, processId, ports.potFunds(actor(place)), actor(place)),
    );
    return reply.redirect(processUrl(place, processId, '/results'), 303);
  });

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

  proposalForm(scoped, '/pb/:id/funded/:proposal', {
    save: async (request, place, { processId, proposalId }, body) => {
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
    },
    reshow: (reply, place, { processId, proposalId }, body, refusal) =>
      resultsPage(reply.request, reply, place, processId, { proposalId, values: body, error: refusal }),
    then: ({ proposalId }) => `/results#funded-${proposalId}`,
  });

  scoped.get<{ Params: Params }>('/pb/:id/export.pb', { schema: { hide: true } }, async (request, reply) => {
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
  });
}
