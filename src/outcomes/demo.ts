import type { Tx } from '../core/db.ts';
import { DEMO_INDICATORS } from './demo-data.ts';
import { createIndicator, recordActuals } from './store.ts';

/** Adds the demo indicators to the whole places the places seed has just created. */
export async function seedOutcomesDemo(tx: Tx, placeIds: Map<string, number>, personId: number) {
  for (const [slug, indicators] of Object.entries(DEMO_INDICATORS)) {
    const placeId = placeIds.get(slug);
    if (placeId === undefined) continue;
    for (const { actuals, ...indicator } of indicators) {
      const created = await createIndicator(tx, placeId, indicator, { personId });
      const values = actuals.map(([period_end, value]) => ({ period_end, value, note: '' }));
      await recordActuals(tx, placeId, created.id, values, { personId }, 'imported');
    }
  }
}
