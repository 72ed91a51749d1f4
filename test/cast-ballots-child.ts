/**
 * Casts paper ballots one transaction each, in a process of its own, so test/faults.test.ts can
 * kill it with SIGKILL in the middle: `node --import tsx test/cast-ballots-child.ts SLUG HOW_MANY`.
 * It prints each ballot's access code once its transaction has committed (an accepted ballot).
 */
import { withDatabase } from '../src/core/command.ts';
import { inPlace } from '../src/core/db.ts';
import { castBallot, generateAccessCodes } from '../src/pb/ballot-store.ts';
import { listProcesses, listProposals } from '../src/pb/process-store.ts';
import { findPlaceBySlug } from '../src/places/store.ts';

const [slug = '', howMany = ''] = process.argv.slice(2);
const staff = { personId: null };
await withDatabase(async (db) => {
  const place = await findPlaceBySlug(db, slug);
  if (!place) throw new Error(`no place ${slug}`);
  const {
    process: open,
    codes,
    projects,
  } = await inPlace(db, place.id, async (tx) => {
    const open = (await listProcesses(tx, place.id)).find((p) => p.phase === 'voting');
    if (!open) throw new Error(`${slug} has no process open for voting`);
    const projects = (await listProposals(tx, place.id, open.id)).filter((p) => p.review === 'eligible');
    return {
      process: open,
      codes: await generateAccessCodes(tx, place.id, open.id, Number(howMany), staff),
      projects,
    };
  });
  for (const [i, code] of codes.entries()) {
    const ballot = { projects: [String(projects[i % projects.length]!.id)] };
    await inPlace(db, place.id, (tx) =>
      castBallot(
        tx,
        place.id,
        open.id,
        { voter: { code }, channel: 'paper', ballot, postcode: 'EX34 8AB', ofAge: true },
        staff,
      ),
    );
    process.stdout.write(`${code}\n`);
  }
});
