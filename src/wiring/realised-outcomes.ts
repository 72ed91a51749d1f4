/**
 * Cost-benefit analysis meets families: the families module's side of src/cba/ports.ts, what the
 * costed events of the families a business case is linked to show.
 */
import { defaultCatalogue } from '../families/catalogue.ts';
import { cohort } from '../families/costing.ts';
import { timeline } from '../families/events.ts';
import type { RealisedEvents } from '../cba/forecast.ts';
import type { RealisedOutcomesSource } from '../cba/ports.ts';
import { addMonths } from '../core/dates.ts';

/**
 * Families taken on in the window whose twelve months after are over by `today` count; those
 * taken on more recently are reported apart, since half a year after is not a year after.
 */
export const familiesRealisedSource: RealisedOutcomesSource = {
  async realisedEvents(tx, { placeId, takenOnFrom, takenOnTo, today }) {
    const { perFamily } = await cohort(tx, placeId, defaultCatalogue, null);
    const linked = perFamily.filter((f) => f.taken_on >= takenOnFrom && f.taken_on <= takenOnTo);
    const complete = linked.filter((f) => addMonths(f.taken_on, 12) <= today);
    const counts = new Map<string, RealisedEvents>();
    for (const family of complete) {
      const beforeFrom = addMonths(family.taken_on, -12);
      const afterTo = addMonths(family.taken_on, 12);
      for (const e of await timeline(tx, placeId, family.family_id, defaultCatalogue, null)) {
        const row = counts.get(e.event_type) ?? { code: e.event_type, before: 0, after: 0 };
        if (e.occurred_on >= beforeFrom && e.occurred_on < family.taken_on) row.before += e.quantity;
        else if (e.occurred_on >= family.taken_on && e.occurred_on < afterTo) row.after += e.quantity;
        counts.set(e.event_type, row);
      }
    }
    return {
      families: complete.length,
      tooRecent: linked.length - complete.length,
      events: [...counts.values()],
    };
  },
};
