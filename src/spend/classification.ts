import { sql } from 'kysely';
import { appendAudit } from '../audit/public.ts';
import type { Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import type { Pence } from '../core/money.ts';
import { findService } from '../services/public.ts';
import { RULE_FIELDS, type RuleField } from './domain.ts';

// Classification: which service each spend line belongs to

export async function addRule(
  tx: Tx,
  placeId: number,
  input: { field: string; value: string; serviceId: number; priority?: number },
  personId: number,
) {
  const errors: Record<string, string> = {};
  if (!RULE_FIELDS.includes(input.field as RuleField)) errors.field = 'Select what the rule matches on';
  const value = input.value.trim().toLowerCase();
  if (!value || value.length > 300) errors.value = 'Enter the value to match, 300 characters or fewer';
  const priority = input.priority ?? 100;
  if (!(Number.isInteger(priority) && priority >= 1 && priority <= 1000))
    errors.priority = 'Enter a priority from 1 (first) to 1000';
  if (Object.keys(errors).length) throw new Invalid('There is a problem with the rule', errors);
  await findService(tx, placeId, input.serviceId);
  const clash = await tx
    .selectFrom('classification_rules')
    .select('id')
    .where('place_id', '=', placeId)
    .where('field', '=', input.field as RuleField)
    .where('value', '=', value)
    .executeTakeFirst();
  if (clash)
    throw new Invalid('There is a problem with the rule', { value: 'A rule already matches that value' });
  const row = await tx
    .insertInto('classification_rules')
    .values({
      place_id: placeId,
      field: input.field as RuleField,
      value,
      service_id: input.serviceId,
      priority,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.rule.add',
    subject: `rule:${row.id}`,
    detail: { field: input.field, value, service_id: input.serviceId },
  });
  return row.id;
}

export async function listRules(tx: Tx, placeId: number) {
  return tx
    .selectFrom('classification_rules')
    .innerJoin('services', (join) =>
      join
        .onRef('services.place_id', '=', 'classification_rules.place_id')
        .onRef('services.id', '=', 'classification_rules.service_id'),
    )
    .select([
      'classification_rules.id',
      'field',
      'value',
      'service_id',
      'services.name as service_name',
      'priority',
    ])
    .where('classification_rules.place_id', '=', placeId)
    .orderBy('priority')
    .orderBy('classification_rules.id')
    .execute();
}

export async function removeRule(tx: Tx, placeId: number, ruleId: number, personId: number) {
  const removed = await tx
    .deleteFrom('classification_rules')
    .where('place_id', '=', placeId)
    .where('id', '=', ruleId)
    .returning(['field', 'value'])
    .executeTakeFirst();
  if (!removed) throw new NotFound('No such rule in this place');
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.rule.remove',
    subject: `rule:${ruleId}`,
    detail: removed,
  });
}

/**
 * Each spend line's service: the first matching rule by priority (then age). Kept as a query,
 * not stored, so a new or corrected rule reclassifies every line at once.
 */
export function classified(placeId: number) {
  return sql`
    select l.*, i.partner_id, r.service_id
    from spend_lines l
    join spend_imports i on i.place_id = l.place_id and i.id = l.import_id
    left join lateral (
      select r.service_id from classification_rules r
      where r.place_id = l.place_id
        and r.value = lower(btrim(case r.field when 'expense_area' then l.expense_area when 'expense_type' then l.expense_type
                                              when 'supplier' then l.supplier else l.account_code end))
      order by r.priority, r.id limit 1) r on true
    where l.place_id = ${placeId}`;
}

export interface SpendByServiceRow {
  service_id: number | null;
  service_name: string | null;
  partner_id: number | null;
  partner_name: string | null;
  /** YYYY-MM */
  month: string;
  lines: number;
  amount_pence: Pence;
}

/**
 * Spend by service by partner by month: what the ledger's actuals should reconcile with once
 * the ledger capability is merged (a null service is unclassified spend).
 */
export async function spendByServiceByPartnerByMonth(tx: Tx, placeId: number): Promise<SpendByServiceRow[]> {
  const result = await sql<SpendByServiceRow>`
    select c.service_id, s.name as service_name, c.partner_id, p.name as partner_name,
           to_char(c.paid_on, 'YYYY-MM') as month, count(*)::int as lines, sum(c.amount_pence)::bigint as amount_pence
    from (${classified(placeId)}) c
    left join services s on s.place_id = ${placeId} and s.id = c.service_id
    left join partners p on p.place_id = ${placeId} and p.id = c.partner_id
    group by 1, 2, 3, 4, 5
    order by 5, 4 nulls last, 2 nulls last`.execute(tx);
  return result.rows;
}

export interface UnclassifiedRow {
  expense_area: string;
  expense_type: string;
  lines: number;
  amount_pence: Pence;
}

/** Spend no rule assigns to a service, by expense area and type, largest first: what to write rules for next. */
export async function unclassifiedSpend(tx: Tx, placeId: number, limit = 100): Promise<UnclassifiedRow[]> {
  const result = await sql<UnclassifiedRow>`
    select expense_area, expense_type, count(*)::int as lines, sum(amount_pence)::bigint as amount_pence
    from (${classified(placeId)}) c
    where c.service_id is null
    group by 1, 2
    order by 4 desc, 1, 2
    limit ${limit}`.execute(tx);
  return result.rows;
}

export interface ReconciliationRow {
  service: string;
  /** YYYY-MM */
  month: string;
  /** Classified lines of the imported spend files, all partners together. */
  spend_file_pence: Pence;
  /** Postings to the ledger's spend accounts for the service. */
  ledger_pence: Pence;
  /** spend file − ledger: positive when the published files show more than the ledger. */
  difference_pence: Pence;
  partners: string[];
}

/**
 * Spend by service by month from the published files against the ledger's actual spend on the
 * same services (spend accounts whose service has the service's name, in any case). A service
 * or month present on one side only shows the other side as zero.
 */
export async function reconcileWithLedger(tx: Tx, placeId: number): Promise<ReconciliationRow[]> {
  const result = await sql<ReconciliationRow>`
    with files as (
      select lower(s.name) as key, min(s.name) as service, to_char(c.paid_on, 'YYYY-MM') as month,
             sum(c.amount_pence)::bigint as pence, array_agg(distinct coalesce(p.name, 'Unknown publisher')) as partners
      from (${classified(placeId)}) c
      join services s on s.place_id = ${placeId} and s.id = c.service_id
      left join partners p on p.place_id = ${placeId} and p.id = c.partner_id
      group by 1, 3),
    ledger as (
      select lower(a.service) as key, min(a.service) as service, to_char(p.effective_date, 'YYYY-MM') as month, sum(p.amount_pence)::bigint as pence
      from ledger_postings p
      join ledger_accounts a on a.place_id = p.place_id and a.id = p.account_id
      where p.place_id = ${placeId} and a.kind = 'spend' and a.service is not null
      group by 1, 3)
    select coalesce(f.service, l.service) as service, coalesce(f.month, l.month) as month,
           coalesce(f.pence, 0)::bigint as spend_file_pence, coalesce(l.pence, 0)::bigint as ledger_pence,
           (coalesce(f.pence, 0) - coalesce(l.pence, 0))::bigint as difference_pence,
           coalesce(f.partners, array[]::text[]) as partners
    from files f full join ledger l on l.key = f.key and l.month = f.month
    order by 1, 2`.execute(tx);
  return result.rows;
}
