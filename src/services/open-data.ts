import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';
import { poundsNumber } from './store.ts';

/**
 * Grants from the pot to voluntary and community organisations as a 360Giving data package: every
 * payment into a ledger spend account whose service (by name) is delivered by a voluntary and
 * community partner on the service map, unless it was reversed. The ledger's spend accounts name
 * a service, not a payee, so the map says who received it (the first such partner if several).
 * Identifiers use the 360G- prefix the standard gives publishers without an org-id.
 */
export async function grantsPackage(tx: Tx, place: { id: number; slug: string; name: string }) {
  const result = await sql<{
    transaction_id: number;
    leg: number;
    amount_pence: Pence;
    award_date: string;
    memo: string;
    account: string;
    service: string;
    partner_id: number;
    partner_name: string;
  }>`
    select p.transaction_id, p.leg, p.amount_pence, to_char(p.effective_date, 'YYYY-MM-DD') as award_date, t.memo,
           a.name as account, a.service, r.id as partner_id, r.name as partner_name
    from ledger_postings p
    join ledger_transactions t on t.place_id = p.place_id and t.id = p.transaction_id
    join ledger_accounts a on a.place_id = p.place_id and a.id = p.account_id
    join lateral (
      select pt.id, pt.name from services s
      join service_partners sp on sp.place_id = s.place_id and sp.service_id = s.id and sp.role = 'delivers'
      join partners pt on pt.place_id = sp.place_id and pt.id = sp.partner_id and pt.agency_type = 'voluntary'
      where s.place_id = p.place_id and lower(s.name) = lower(a.service)
      order by pt.id limit 1) r on true
    where p.place_id = ${place.id} and a.kind = 'spend' and p.amount_pence > 0
      and t.reverses_id is null
      and not exists (select 1 from ledger_transactions x where x.place_id = t.place_id and x.reverses_id = t.id)
    order by p.effective_date, p.transaction_id, p.leg`.execute(tx);
  const prefix = `360G-placebudget-${place.slug}`;
  const funder = { id: `${prefix}-pot`, name: `${place.name} community budget` };
  return {
    version: '1.4',
    title: `Grants from the ${place.name} community budget to voluntary and community organisations`,
    grants: result.rows.map((g) => ({
      id: `${prefix}-${g.transaction_id}-${g.leg}`,
      title: g.memo || g.account,
      description: `${g.memo || g.account} (${g.service}), paid from the pooled budget to ${g.partner_name}`,
      currency: 'GBP',
      amountAwarded: poundsNumber(g.amount_pence),
      awardDate: g.award_date,
      recipientOrganization: [{ id: `${prefix}-partner-${g.partner_id}`, name: g.partner_name }],
      fundingOrganization: [funder],
    })),
  };
}
