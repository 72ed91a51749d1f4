import type { Tx } from '../core/db.ts';
import { pence } from '../core/money.ts';
import { addService, setServiceCost } from './store.ts';

/**
 * A first count of services for each whole place, in 2012/13: two pairs that overlap (the
 * duplication the pilots looked for), and the ledger demo's services by the same names, so spend
 * reconciles and the voluntary sector's share of community safety shows as 360Giving grants.
 */
const DEMO_SERVICES = [
  {
    name: 'Families with complex needs',
    client_group: 'Families with complex needs',
    outcome_area: 'Reduce offending',
    funder: 'council',
    pounds: 1_200_000,
  },
  {
    name: 'Integrated offender management',
    client_group: 'Families with complex needs',
    outcome_area: 'Reduce offending',
    funder: 'police',
    pounds: 850_000,
  },
  {
    name: 'Early help',
    client_group: 'Children and young people',
    outcome_area: 'Early help',
    funder: 'council',
    pounds: 2_400_000,
  },
  {
    name: 'Health visiting',
    client_group: 'Children and young people',
    outcome_area: 'Early help',
    funder: 'health',
    pounds: 1_750_000,
  },
  {
    name: 'Work and skills',
    client_group: 'Adults out of work',
    outcome_area: 'Work and skills',
    funder: 'dwp',
    pounds: 600_000,
  },
  {
    name: 'Community safety',
    client_group: 'Residents',
    outcome_area: 'Safer communities',
    funder: 'council',
    pounds: 400_000,
    deliverer: 'voluntary',
  },
] as const;

export async function seedServicesDemo(tx: Tx, placeIds: Map<string, number>, personId: number) {
  for (const placeId of placeIds.values()) {
    const place = await tx
      .selectFrom('places')
      .select('kind')
      .where('id', '=', placeId)
      .executeTakeFirstOrThrow();
    if (place.kind !== 'whole_place') continue;
    const partners = await tx
      .selectFrom('partners')
      .select(['id', 'agency_type'])
      .where('place_id', '=', placeId)
      .orderBy('id')
      .execute();
    const partnerOf = (type: string | undefined) => partners.find((p) => p.agency_type === type)?.id;
    for (const s of DEMO_SERVICES) {
      const funder = partnerOf(s.funder);
      if (funder === undefined) continue;
      const deliverer = partnerOf('deliverer' in s ? s.deliverer : undefined);
      const serviceId = await addService(
        tx,
        placeId,
        {
          name: s.name,
          description: '',
          client_group: s.client_group,
          outcome_area: s.outcome_area,
          status: 'active',
          review: null,
          decision_id: null,
          funded_by: [funder],
          delivered_by: deliverer ? [deliverer] : [funder],
        },
        personId,
      );
      await setServiceCost(
        tx,
        placeId,
        { serviceId, partnerId: funder, year: 2012, costPence: pence(s.pounds * 100) },
        personId,
      );
    }
  }
}
