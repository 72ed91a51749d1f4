import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from './db.ts';
import {
  ACTORS,
  expectedOutcome,
  makeCast,
  matches,
  probe,
  reachableRoutes,
  readMatrix,
  routeKey,
  validBodyFor,
  type Actor,
  type Cast,
  type MatrixRow,
} from './authorisation-matrix.ts';
import type { RouteEntry } from '../src/core/http.ts';
import { startTestApp, type TestApp } from './support.ts';

/**
 * Every route, API and pages, tried as every role of a place, as a member of another place and with
 * no session: each gets exactly what test/authorisation-matrix.tsv says the route needs.
 */
describe(`authorisation matrix on ${engineName}`, () => {
  let t: TestApp;
  let cast: Cast;
  const matrix = readMatrix();
  before(async () => {
    t = await startTestApp();
    cast = await makeCast(t.app, t.db);
  });
  after(() => t.close());

  it('has a row for every route, and no row for a route that is gone', () => {
    const routes = reachableRoutes(t.app);
    const unclassified = routes.filter((r) => !matrix.has(routeKey(r))).map(routeKey);
    assert.deepEqual(
      unclassified,
      [],
      'These routes are not in test/authorisation-matrix.tsv. Run `npm run matrix -- --suggest`, check each suggested need against the handler, and add the rows.',
    );
    const known = new Set(routes.map(routeKey));
    assert.deepEqual(
      [...matrix.keys()].filter((k) => !known.has(k)),
      [],
      'These rows name routes that no longer exist: remove them',
    );
  });

  it('can build a body each route’s schema accepts, so refusals come from authorisation alone', () => {
    for (const route of reachableRoutes(t.app)) validBodyFor(route);
  });

  it('answers every actor exactly as the row says', async () => {
    const wrong: string[] = [];
    const routes = reachableRoutes(t.app).filter((r) => matrix.has(routeKey(r)));
    const run = async (route: RouteEntry) =>
      wrong.push(...(await check(route, matrix.get(routeKey(route))!)));
    // Reads a few routes at a time (PostgreSQL serves them in parallel, PGlite queues them); then the
    // changes one route at a time, so no DELETE removes what another route's actors are reading.
    const reads = routes.filter((r) => r.method === 'GET');
    for (let i = 0; i < reads.length; i += 4) await Promise.all(reads.slice(i, i + 4).map(run));
    for (const route of routes.filter((r) => r.method !== 'GET')) await run(route);
    assert.deepEqual(wrong.sort(), []);
  });

  /** Every actor on one route; the mismatches, each in a sentence. */
  async function check(route: RouteEntry, row: MatrixRow): Promise<string[]> {
    const wrong: string[] = [];
    const served: Actor[] = [];
    const missing: Actor[] = [];
    for (const actor of ACTORS) {
      const expected = expectedOutcome(row, actor, route.url.includes(':slug'));
      const got = await probe(t.app, t.db, cast, route, actor);
      if (!matches(row, actor, expected, got))
        wrong.push(
          `${routeKey(route)} as ${actor}: expected ${expected}, got ${got.status} ${got.outcome} ${got.message}`.trim(),
        );
      else if (expected === 'allowed') (got.status === 404 ? missing : served).push(actor);
    }
    // A 404 inside the place passes for "allowed" only if the thing is missing for everyone allowed:
    // if one allowed role is served and another gets 404, that 404 is a refusal in disguise. Only
    // reads are compared: a change (erase, withdraw) may rightly leave nothing for the next role.
    if (route.method === 'GET' && served.length && missing.length)
      wrong.push(
        `${routeKey(route)}: served ${served.join(', ')} but 404 for ${missing.join(', ')}, which the row allows`,
      );
    return wrong;
  }
});
