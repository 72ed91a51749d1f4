/** Voting pages: the ballot form, the public code-only vote, paper ballots and access codes. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Invalid, NotFound } from '../core/errors.ts';
import { formOr } from '../core/forms.ts';
import { inPlace, inSystem } from '../core/db.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import { accessCodeHash, ballotRulesOf, describeBallot, type BallotKind } from './domain.ts';
import { type Ballot } from './election.ts';
import { codeAttemptsOf, guardCodeTry } from './attempts.ts';
import { accessCodeKnown, castBallot, generateAccessCodes, hasVoted } from './ballot-store.ts';
import {
  ballotProjects,
  findProcess,
  listProposals,
  type ProcessRow,
  type ProposalRow,
} from './process-store.ts';
import { type Body, type Params, actor, text, list, processUrl, idFrom } from './page-helpers.ts';

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

/**
 * Voting with an access code and no account, at `/vote/PROCESS` (the address printed on the
 * slips): the code is the credential, as an invitation link is, so there is no session and no
 * CSRF token, and tries are rate-limited. Only a process in its voting phase answers; what it
 * shows is the public ballot.
 */
export function publicVote(app: FastifyInstance) {
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

/** Voting online and entering paper ballots, and printing access codes. */
export function registerVotingPages(scoped: FastifyInstance) {
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
                codeAttemptsOf(scoped.deps),
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
  scoped.post<{ Params: Params; Body: Body }>('/pb/:id/vote', { schema: { hide: true } }, (request, reply) =>
    vote(request, reply, need(request, 'pb.vote')),
  );
  scoped.get<{ Params: Params }>('/pb/:id/paper-ballot', { schema: { hide: true } }, (request, reply) =>
    paper(request, reply, need(request, 'pb.manage')),
  );
  scoped.post<{ Params: Params; Body: Body }>(
    '/pb/:id/paper-ballot',
    { schema: { hide: true } },
    (request, reply) => paper(request, reply, need(request, 'pb.manage')),
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
}
