import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { authPages } from './auth/pages.ts';
import { registerSessions } from './auth/plugin.ts';
import type { PasswordCost } from './auth/password.ts';
import type { ThrottleOptions } from './auth/throttle.ts';
import { cbaPages } from './cba/pages.ts';
import { cbaRoutes } from './cba/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { createHttpShell, type AppDeps } from './core/http.ts';
import { ledgerPages } from './ledger/pages.ts';
import { ledgerRoutes } from './ledger/routes.ts';
import { familyPages } from './families/pages.ts';
import { familyRoutes } from './families/routes.ts';
import { familyFormPages } from './families/forms.ts';
import { networkPages } from './network/pages.ts';
import { networkRoutes } from './network/routes.ts';
import { outcomePages } from './outcomes/pages.ts';
import { outcomeRoutes } from './outcomes/routes.ts';
import { placePages } from './places/pages.ts';
import { placeRoutes } from './places/routes.ts';
import { servicePages } from './services/pages.ts';
import { serviceRoutes } from './services/routes.ts';
import { spendPages } from './spend/pages.ts';
import { spendRoutes } from './spend/routes.ts';
import { pbPages } from './pb/pages.ts';
import { pbRoutes } from './pb/routes.ts';
import { buildWiring, type Wiring } from './wiring/index.ts';

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  wiring?: Wiring;
  /**
   * The sign-in limiter's settings over its defaults: set in code only (tests shorten its waits),
   * never from the environment, so no deployment can switch it off.
   */
  signInThrottle?: Partial<ThrottleOptions>;
  /**
   * scrypt's cost for passwords set and checked through the app, the product's own by default.
   * Likewise in code only: a test that is not about passwords makes it cheap.
   */
  passwordCost?: PasswordCost;
}

/**
 * The whole product as one Fastify app: each capability adds its API routes and its pages, and
 * those that need another capability are given its adapter from src/wiring/.
 */
export async function buildApp(
  deps: AppDeps,
  { logger = false, wiring = buildWiring(), signInThrottle, passwordCost }: AppOptions = {},
): Promise<FastifyInstance> {
  const app = await createHttpShell(deps, logger);
  registerSessions(app, { throttle: signInThrottle, passwordCost });
  app.decorateRequest('place', null);
  await app.register(authRoutes);
  await app.register(authPages);
  await app.register(placeRoutes);
  await app.register(placePages);
  await app.register(ledgerRoutes);
  await app.register(ledgerPages);
  await app.register(cbaRoutes, wiring.cba);
  await app.register(cbaPages, wiring.cba);
  await app.register(familyRoutes, wiring.families);
  await app.register(familyPages);
  await app.register(familyFormPages, wiring.families);
  await app.register(outcomeRoutes);
  await app.register(outcomePages);
  await app.register(serviceRoutes);
  await app.register(servicePages);
  await app.register(spendRoutes);
  await app.register(spendPages);
  await app.register(pbRoutes, wiring.pb);
  await app.register(pbPages, wiring.pb);
  await app.register(networkRoutes(wiring.network.figures));
  await app.register(networkPages(wiring.network.figures));
  await app.ready();
  return app;
}
