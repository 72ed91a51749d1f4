import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { authPages } from './auth/pages.ts';
import { registerSessions } from './auth/plugin.ts';
import { cbaRoutes } from './cba/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { createHttpShell, type AppDeps } from './core/http.ts';
import { ledgerPages } from './ledger/pages.ts';
import { ledgerRoutes } from './ledger/routes.ts';
import { familyPages } from './families/pages.ts';
import { familyRoutes } from './families/routes.ts';
import { networkPages } from './network/pages.ts';
import { livePlaceFigures as placeFigures } from './network/live-figures.ts';
import { networkRoutes } from './network/routes.ts';
import { outcomePages } from './outcomes/pages.ts';
import { outcomeRoutes } from './outcomes/routes.ts';
import { placePages } from './places/pages.ts';
import { placeRoutes } from './places/routes.ts';
import { pbPages } from './pb/pages.ts';
import { pbRoutes } from './pb/routes.ts';

/** The whole product as one Fastify app: each capability adds its API routes and its pages. */
export async function buildApp(deps: AppDeps, logger: FastifyServerOptions['logger'] = false): Promise<FastifyInstance> {
  const app = await createHttpShell(deps, logger);
  registerSessions(app);
  app.decorateRequest('place', null);
  await app.register(authRoutes);
  await app.register(authPages);
  await app.register(placeRoutes);
  await app.register(placePages);
  await app.register(ledgerRoutes);
  await app.register(ledgerPages);
  await app.register(cbaRoutes);
  await app.register(familyRoutes);
  await app.register(familyPages);
  await app.register(outcomeRoutes);
  await app.register(outcomePages);
  await app.register(pbRoutes);
  await app.register(pbPages);
  await app.register(networkRoutes(placeFigures));
  await app.register(networkPages(placeFigures));
  await app.ready();
  return app;
}
