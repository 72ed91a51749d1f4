import fs from 'node:fs';
import type { Tx } from '../core/db.ts';
import { parseBusinessCase } from './domain.ts';
import { createBusinessCase } from './store.ts';

/** The README's worked example, as a business case in the places where the demo analyst works. */
export async function seedCbaDemo(tx: Tx, placeIds: Map<string, number>, personId: number) {
  const model = parseBusinessCase(
    JSON.parse(fs.readFileSync(new URL('./examples/key-worker-500-families.json', import.meta.url), 'utf8')),
  );
  for (const slug of ['greater-manchester', 'essex']) {
    const placeId = placeIds.get(slug);
    if (placeId !== undefined) await createBusinessCase(tx, placeId, personId, model);
  }
}
