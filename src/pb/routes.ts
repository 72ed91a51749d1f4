/** The pb API, registered by concern: process-, proposal-, voting- and results-routes.ts. */
import type { FastifyInstance } from 'fastify';
import { placeScoped } from '../places/scope.ts';
import type { PbPorts } from './funds.ts';
import { registerProcessRoutes } from './process-routes.ts';
import { registerProposalRoutes } from './proposal-routes.ts';
import { registerVotingRoutes } from './voting-routes.ts';
import { registerResultsRoutes } from './results-routes.ts';

export async function pbRoutes(app: FastifyInstance, ports: PbPorts) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      registerProcessRoutes(scoped, ports);
      registerProposalRoutes(scoped);
      registerVotingRoutes(scoped);
      registerResultsRoutes(scoped, ports);
    }),
  );
}
