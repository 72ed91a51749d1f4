import type { Tx } from '../core/db.ts';
import { parseBusinessCase } from './domain.ts';
import { createBusinessCase } from './store.ts';
import { workedExample } from './examples/index.ts';

/** The README's worked example, as a business case in the places where the demo analyst works. */
export async function seedCbaDemo(tx: Tx, placeIds: Map<string, number>, personId: number) {
  const model = parseBusinessCase(workedExample());
  for (const slug of ['greater-manchester', 'essex']) {
    const placeId = placeIds.get(slug);
    if (placeId !== undefined) await createBusinessCase(tx, placeId, personId, model);
  }
}
