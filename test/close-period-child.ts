/**
 * Closes one place's financial year in a process of its own, so test/faults.test.ts can kill it
 * with SIGKILL in the middle: `node --import tsx test/close-period-child.ts SLUG YEAR`.
 */
import { withDatabase } from '../src/core/command.ts';
import { inPlace } from '../src/core/db.ts';
import { closePeriod } from '../src/ledger/periods.ts';
import { findPlaceBySlug } from '../src/places/store.ts';

const [slug = '', year = ''] = process.argv.slice(2);
await withDatabase(async (db) => {
  const place = await findPlaceBySlug(db, slug);
  if (!place) throw new Error(`no place ${slug}`);
  process.stderr.write('Closing\n');
  const closed = await inPlace(db, place.id, (tx) =>
    closePeriod(tx, place.id, Number(year), { personId: null }),
  );
  console.log(JSON.stringify(closed));
});
