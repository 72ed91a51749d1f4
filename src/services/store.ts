import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/public.ts';
import type { Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import {
  findOverlaps,
  SERVICE_STATUSES,
  type NewService,
  type Overlap,
  type ServiceStatus,
} from './domain.ts';
import { assertPartnersOfPlace, decisionOfPlace, listPartners } from '../places/public.ts';
import { financialYearBounds, financialYearLabel } from '../core/dates.ts';
import { toCsv } from '../core/csv.ts';

export interface ServiceView {
  id: number;
  oruk_id: string;
  name: string;
  description: string;
  client_group: string;
  outcome_area: string;
  status: ServiceStatus;
  review: string | null;
  decision_id: number | null;
  decision_title: string | null;
  url: string | null;
  email: string | null;
  funded_by: { id: number; name: string }[];
  delivered_by: { id: number; name: string }[];
  costs: { partner_id: number; partner_name: string; year: number; cost_pence: Pence }[];
  /** The latest year's cost, all funders together. */
  annual_cost_pence: Pence;
}

/** Every service of the place with its partners and costs, by name. */
export async function listServices(tx: Tx, placeId: number): Promise<ServiceView[]> {
  const services = await tx
    .selectFrom('services')
    .leftJoin('decisions', (join) =>
      join
        .onRef('decisions.place_id', '=', 'services.place_id')
        .onRef('decisions.id', '=', 'services.decision_id'),
    )
    .select([
      'services.id',
      'oruk_id',
      'name',
      'services.description',
      'client_group',
      'outcome_area',
      'status',
      'review',
      'decision_id',
      'decisions.title as decision_title',
      'url',
      'email',
    ])
    .where('services.place_id', '=', placeId)
    .orderBy('name')
    .orderBy('services.id')
    .execute();
  const links = await tx
    .selectFrom('service_partners')
    .innerJoin('partners', (join) =>
      join
        .onRef('partners.place_id', '=', 'service_partners.place_id')
        .onRef('partners.id', '=', 'service_partners.partner_id'),
    )
    .select(['service_id', 'partner_id', 'role', 'partners.name'])
    .where('service_partners.place_id', '=', placeId)
    .orderBy('partners.name')
    .execute();
  const costs = await tx
    .selectFrom('service_costs')
    .innerJoin('partners', (join) =>
      join
        .onRef('partners.place_id', '=', 'service_costs.place_id')
        .onRef('partners.id', '=', 'service_costs.partner_id'),
    )
    .select(['service_id', 'partner_id', 'partners.name as partner_name', 'year', 'cost_pence'])
    .where('service_costs.place_id', '=', placeId)
    .orderBy('year', 'desc')
    .orderBy('partners.name')
    .execute();
  return services.map((s) => {
    const own = costs.filter((c) => c.service_id === s.id);
    const latest = own[0]?.year;
    return {
      ...s,
      funded_by: links
        .filter((l) => l.service_id === s.id && l.role === 'funds')
        .map((l) => ({ id: l.partner_id, name: l.name })),
      delivered_by: links
        .filter((l) => l.service_id === s.id && l.role === 'delivers')
        .map((l) => ({ id: l.partner_id, name: l.name })),
      costs: own.map(({ partner_id, partner_name, year, cost_pence }) => ({
        partner_id,
        partner_name,
        year,
        cost_pence,
      })),
      annual_cost_pence: pence(
        own.filter((c) => c.year === latest).reduce((sum, c) => sum + c.cost_pence, 0),
      ),
    };
  });
}

async function assertPartners(tx: Tx, placeId: number, ids: number[], field: string) {
  await assertPartnersOfPlace(tx, placeId, ids, 'There is a problem with the service', {
    [field]: 'Select partners of this place',
  });
}

/** The partners and the board decision a service names must be this place's own. */
async function assertReferences(tx: Tx, placeId: number, input: NewService) {
  await assertPartners(tx, placeId, input.funded_by, 'funded_by');
  await assertPartners(tx, placeId, input.delivered_by, 'delivered_by');
  if (input.decision_id !== null) {
    const decision = await decisionOfPlace(tx, placeId, input.decision_id);
    if (!decision)
      throw new Invalid('There is a problem with the service', {
        decision_id: 'Select a board decision of this place',
      });
  }
}

/** The service's own columns; its partners are rows of service_partners. */
function columnsOf({ funded_by: _funded, delivered_by: _delivered, ...columns }: NewService) {
  return columns;
}

async function linkPartners(tx: Tx, placeId: number, serviceId: number, input: NewService) {
  const links = [
    ...input.funded_by.map((partner_id) => ({
      place_id: placeId,
      service_id: serviceId,
      partner_id,
      role: 'funds' as const,
    })),
    ...input.delivered_by.map((partner_id) => ({
      place_id: placeId,
      service_id: serviceId,
      partner_id,
      role: 'delivers' as const,
    })),
  ];
  if (links.length)
    await tx
      .insertInto('service_partners')
      .values(links)
      .onConflict((oc) => oc.doNothing())
      .execute();
}

/**
 * Changes a service, its partners and its review decision. A partner with a cost recorded for the
 * service stays a funder: its costs say so, and dropping the link would hide them from the map.
 */
export async function updateService(
  tx: Tx,
  placeId: number,
  serviceId: number,
  input: NewService,
  personId: number,
) {
  const before = await findService(tx, placeId, serviceId);
  await assertReferences(tx, placeId, input);
  await tx
    .updateTable('services')
    .set(columnsOf(input))
    .where('place_id', '=', placeId)
    .where('id', '=', serviceId)
    .execute();
  await tx
    .deleteFrom('service_partners')
    .where('place_id', '=', placeId)
    .where('service_id', '=', serviceId)
    .execute();
  const costed = before.costs.map((c) => c.partner_id);
  await linkPartners(tx, placeId, serviceId, {
    ...input,
    funded_by: [...new Set([...input.funded_by, ...costed])],
  });
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.update',
    subject: `service:${serviceId}`,
    detail: {
      name: input.name,
      review: input.review,
      decision_id: input.decision_id,
      was: { review: before.review, decision_id: before.decision_id },
    },
  });
}

/** Removes a service with its costs, partner links and rules (spend it classified becomes unclassified). */
export async function removeService(tx: Tx, placeId: number, serviceId: number, personId: number) {
  const service = await findService(tx, placeId, serviceId);
  await tx.deleteFrom('services').where('place_id', '=', placeId).where('id', '=', serviceId).execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.remove',
    subject: `service:${serviceId}`,
    detail: { name: service.name },
  });
}

export async function addService(
  tx: Tx,
  placeId: number,
  input: NewService,
  personId: number,
  orukId?: string,
): Promise<number> {
  await assertReferences(tx, placeId, input);
  const row = await tx
    .insertInto('services')
    .values({ place_id: placeId, oruk_id: orukId ?? crypto.randomUUID(), ...columnsOf(input) })
    .returning('id')
    .executeTakeFirstOrThrow();
  await linkPartners(tx, placeId, row.id, input);
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.add',
    subject: `service:${row.id}`,
    detail: { name: input.name },
  });
  return row.id;
}

export async function setServiceCost(
  tx: Tx,
  placeId: number,
  input: { serviceId: number; partnerId: number; year: number; costPence: Pence },
  personId: number,
) {
  if (!(Number.isInteger(input.year) && input.year >= 2000 && input.year <= 2100))
    throw new Invalid('There is a problem with the cost', {
      year: 'Enter the financial year it starts in, like 2025',
    });
  if (input.costPence < 0)
    throw new Invalid('There is a problem with the cost', { cost: 'Enter a cost of £0 or more' });
  await findService(tx, placeId, input.serviceId);
  await assertPartners(tx, placeId, [input.partnerId], 'partner_id');
  await tx
    .insertInto('service_costs')
    .values({
      place_id: placeId,
      service_id: input.serviceId,
      partner_id: input.partnerId,
      year: input.year,
      cost_pence: input.costPence,
    })
    .onConflict((oc) =>
      oc
        .columns(['place_id', 'service_id', 'partner_id', 'year'])
        .doUpdateSet({ cost_pence: input.costPence }),
    )
    .execute();
  // A funder of a service funds it: the map should not need telling twice.
  await tx
    .insertInto('service_partners')
    .values({ place_id: placeId, service_id: input.serviceId, partner_id: input.partnerId, role: 'funds' })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.cost',
    subject: `service:${input.serviceId}`,
    detail: { partner_id: input.partnerId, year: input.year, cost_pence: input.costPence },
  });
}

export async function findService(tx: Tx, placeId: number, serviceId: number): Promise<ServiceView> {
  const service = (await listServices(tx, placeId)).find((s) => s.id === serviceId);
  if (!service) throw new NotFound('No such service in this place');
  return service;
}

/** Overlapping services (same client group and outcome area, different partners), costliest first. */
export async function listOverlaps(
  tx: Tx,
  placeId: number,
): Promise<(Overlap & { partner_names: string[] })[]> {
  const services = await listServices(tx, placeId);
  const names = new Map(
    services.flatMap((s) => [...s.funded_by, ...s.delivered_by]).map((p) => [p.id, p.name]),
  );
  const overlaps = findOverlaps(
    services.map((s) => ({
      id: s.id,
      name: s.name,
      client_group: s.client_group,
      outcome_area: s.outcome_area,
      partner_ids: [...new Set([...s.funded_by, ...s.delivered_by].map((p) => p.id))],
      annual_cost_pence: s.annual_cost_pence,
    })),
  );
  return overlaps.map((o) => ({
    ...o,
    partner_names: o.partner_ids.map((id) => names.get(id) ?? String(id)),
  }));
}

// ---------------------------------------------------------------------------------------------
// Open Referral UK

/** A stable UUID-shaped id for a partner as an ORUK organisation, the same on every export. */
function orukIdOf(kind: string, placeId: number, id: number): string {
  const h = createHash('sha256').update(`placebudget:${kind}:${placeId}:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Pence as a JSON number of pounds: exact, because it is printed from integers. */
export function poundsNumber(amount: Pence): number {
  return Number(
    `${amount < 0 ? '-' : ''}${Math.trunc(Math.abs(amount) / 100)}.${String(Math.abs(amount) % 100).padStart(2, '0')}`,
  );
}

/** The service map as Open Referral UK (HSDS 3.0 UK profile) service objects. */
export function toOruk(placeId: number, services: ServiceView[]) {
  return services.map((s) => {
    const owner = s.delivered_by[0] ?? s.funded_by[0];
    return {
      id: s.oruk_id,
      name: s.name,
      description: s.description,
      status: s.status,
      ...(s.url ? { url: s.url } : {}),
      ...(s.email ? { email: s.email } : {}),
      ...(owner
        ? {
            organization: {
              id: orukIdOf('partner', placeId, owner.id),
              name: owner.name,
              description: `${owner.name}, a partner of the community budget`,
            },
          }
        : {}),
      funding: s.funded_by.map((p) => ({
        id: orukIdOf(`funding:${s.id}`, placeId, p.id),
        service_id: s.oruk_id,
        source: p.name,
      })),
      cost_options: s.costs.map((c) => ({
        id: orukIdOf(`cost:${s.id}:${c.year}`, placeId, c.partner_id),
        service_id: s.oruk_id,
        valid_from: financialYearBounds(c.year).start,
        valid_to: financialYearBounds(c.year).end,
        amount: poundsNumber(c.cost_pence),
        amount_description: `Annual cost ${financialYearLabel(c.year)} funded by ${c.partner_name}`,
      })),
    };
  });
}

const CSV_HEAD = [
  'id',
  'name',
  'client_group',
  'outcome_area',
  'status',
  'review',
  'board_decision',
  'funded_by',
  'delivered_by',
  'annual_cost_pounds',
];

export type ExportFormat = 'oruk' | 'csv';

export async function exportServices(tx: Tx, place: { id: number }, format: ExportFormat): Promise<string> {
  const services = await listServices(tx, place.id);
  if (format === 'oruk') return JSON.stringify(toOruk(place.id, services), null, 2) + '\n';
  const lines = services.map((s) => [
    s.oruk_id,
    s.name,
    s.client_group,
    s.outcome_area,
    s.status,
    s.review ?? '',
    s.decision_title ?? '',
    s.funded_by.map((p) => p.name).join('; '),
    s.delivered_by.map((p) => p.name).join('; '),
    String(poundsNumber(s.annual_cost_pence)),
  ]);
  return toCsv([CSV_HEAD, ...lines]);
}

const MAX_ORUK_SERVICES = 20_000;

/** Strips the HTML the ORUK v1 APIs put in descriptions; the service map keeps plain text. */
function plainText(html: unknown): string {
  if (typeof html !== 'string') return '';
  return html
    .replace(/<br\s*\/?>|<\/p>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
    .slice(0, 5000);
}

/**
 * Imports ORUK services (a v1 list, a v1 page `{content: [...]}`, or v3 service objects) into the
 * map: one transaction; a service already imported (same id) is updated, not duplicated. An
 * organisation whose name is a partner's becomes the delivering partner.
 */
export async function importOruk(
  tx: Tx,
  placeId: number,
  document: unknown,
  personId: number | null,
): Promise<{ added: number; updated: number }> {
  const items = Array.isArray(document) ? document : (document as { content?: unknown[] } | null)?.content;
  if (!Array.isArray(items))
    throw new Invalid('This is not an Open Referral UK service list: expected an array of services', {
      file: 'Choose an ORUK services JSON file',
    });
  if (items.length > MAX_ORUK_SERVICES)
    throw new Invalid(`At most ${MAX_ORUK_SERVICES} services can be imported at once`, {
      file: 'Split the file',
    });
  const partners = await listPartners(tx, placeId);
  const partnerByName = new Map(partners.map((p) => [p.name.toLowerCase(), p.id]));
  const problems: string[] = [];
  const rows = items.map((item, index) => {
    const s = (item ?? {}) as Record<string, unknown>;
    const id = typeof s.id === 'string' ? s.id.trim() : '';
    const name = typeof s.name === 'string' ? s.name.trim() : '';
    if (!id || id.length > 100) problems.push(`service ${index + 1}: no id`);
    if (!name || name.length > 300)
      problems.push(`service ${index + 1} (${id}): no name, or longer than 300 characters`);
    const status = SERVICE_STATUSES.includes(s.status as ServiceStatus)
      ? (s.status as ServiceStatus)
      : 'active';
    const audience = Array.isArray(s.pc_targetAudience)
      ? (s.pc_targetAudience as { audienceType?: string }[])
          .map((a) => a.audienceType?.trim())
          .filter(Boolean)
      : [];
    const org = (s.organization ?? {}) as { name?: unknown };
    return {
      place_id: placeId,
      oruk_id: id,
      name,
      description: plainText(s.description),
      client_group: (audience[0] ?? '').slice(0, 100),
      status,
      url: typeof s.url === 'string' && s.url ? s.url.slice(0, 500) : null,
      email: typeof s.email === 'string' && s.email ? s.email.slice(0, 300) : null,
      partner: typeof org.name === 'string' ? partnerByName.get(org.name.trim().toLowerCase()) : undefined,
    };
  });
  const ids = new Set<string>();
  for (const r of rows) {
    if (ids.has(r.oruk_id)) problems.push(`the id ${r.oruk_id} appears twice`);
    ids.add(r.oruk_id);
  }
  if (problems.length)
    throw new Invalid(
      `${problems.length} services cannot be imported, so none were: ${problems.slice(0, 5).join('; ')}`,
      { file: problems[0]! },
    );
  const existing = new Set(
    (await tx.selectFrom('services').select('oruk_id').where('place_id', '=', placeId).execute()).map(
      (r) => r.oruk_id,
    ),
  );
  let added = 0;
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    const saved = await tx
      .insertInto('services')
      .values(part.map(({ partner: _partner, ...row }) => row))
      .onConflict((oc) =>
        oc.columns(['place_id', 'oruk_id']).doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          description: eb.ref('excluded.description'),
          status: eb.ref('excluded.status'),
          url: eb.ref('excluded.url'),
          email: eb.ref('excluded.email'),
        })),
      )
      .returning(['id', 'oruk_id'])
      .execute();
    const links = saved.flatMap((s, j) =>
      part[j]!.partner
        ? [{ place_id: placeId, service_id: s.id, partner_id: part[j]!.partner!, role: 'delivers' as const }]
        : [],
    );
    if (links.length)
      await tx
        .insertInto('service_partners')
        .values(links)
        .onConflict((oc) => oc.doNothing())
        .execute();
    added += part.filter((r) => !existing.has(r.oruk_id)).length;
  }
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'service.import_oruk',
    subject: `place:${placeId}`,
    detail: { services: rows.length, added },
  });
  return { added, updated: rows.length - added };
}
