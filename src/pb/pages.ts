/** The pb pages, registered by concern: process-, proposal-, voting- and results-pages.ts. */
import type { FastifyInstance } from 'fastify';
import { placeScoped } from '../places/scope.ts';
import type { PbPorts } from './funds.ts';
import { registerProcessPages } from './process-pages.ts';
import { registerProposalPages } from './proposal-pages.ts';
import { publicVote, registerVotingPages } from './voting-pages.ts';
import { registerResultsPages } from './results-pages.ts';

export async function pbPages(app: FastifyInstance, ports: PbPorts) {
  publicVote(app);
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      registerProcessPages(scoped, ports);
      registerProposalPages(scoped);
      registerVotingPages(scoped);
      registerResultsPages(scoped, ports);
    }),
  );
}
