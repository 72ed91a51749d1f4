/**
 * `npm run matrix -- --suggest`: prints a row of test/authorisation-matrix.tsv for every route the
 * table does not classify yet, with the need its handler shows today (the roles it lets through).
 * Check each against what the route should need before pasting it in: the test proves the table,
 * so a wrong row would bless a wrong route.
 */
import { ROLES, type Role } from '../src/auth/domain.ts';
import {
  makeCast,
  permissionsGrantedTo,
  probe,
  reachableRoutes,
  readMatrix,
  routeKey,
} from '../test/authorisation-matrix.ts';
import { startTestApp } from '../test/support.ts';

if (!process.argv.includes('--suggest')) {
  console.error('Usage: npm run matrix -- --suggest');
  process.exit(2);
}
const t = await startTestApp();
try {
  const cast = await makeCast(t.app, t.db);
  const matrix = readMatrix();
  const unclassified = reachableRoutes(t.app).filter((r) => !matrix.has(routeKey(r)));
  for (const route of unclassified) {
    const placed = route.url.includes(':slug');
    const statuses = new Map<string, number>();
    const outcomes = new Map<Role, Awaited<ReturnType<typeof probe>>>();
    for (const role of ROLES) {
      const got = await probe(t.app, t.db, cast, route, role);
      statuses.set(role, got.status);
      outcomes.set(role, got);
    }
    // Where some roles get 403, the handler checked the permission before looking the thing up, so
    // a 404 for the others is "let through, nothing there" (the cast has no such thing).
    const checksFirst = [...statuses.values()].includes(403);
    const letThrough = ROLES.filter((role) => {
      const got = outcomes.get(role)!;
      return got.outcome === 'allowed' && (got.status !== 404 || checksFirst);
    });
    const anonymous = await probe(t.app, t.db, cast, route, 'no-session');
    let need: string;
    if (anonymous.outcome === 'allowed') need = 'public';
    else if (!placed) need = 'signed-in';
    else if (letThrough.length === ROLES.length) need = 'member';
    else {
      const [first, ...others] = permissionsGrantedTo(letThrough);
      need = first ?? '?';
      if (others.length) need += `\t# or ${others.join(', ')}: check the handler's need()`;
      if (!first)
        need += `\t# no permission is held by exactly ${letThrough.join(', ') || 'no role'} (a 404 inside the place counts as refused here)`;
    }
    const hides = placed && ROLES.some((r) => !letThrough.includes(r) && statuses.get(r) === 404);
    const row = [route.method, route.url, ...need.split('\t')];
    if (hides) row.splice(3, 0, '404');
    console.log(row.join('\t'));
  }
  if (unclassified.length === 0) console.error('Every route is classified.');
} finally {
  await t.close();
}
