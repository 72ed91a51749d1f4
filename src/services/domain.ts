import { Invalid, type FieldErrors } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';

export const SERVICE_STATUSES = ['active', 'inactive', 'defunct', 'temporarily closed'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** What the programme board decides for each service after the review. */
export const REVIEW_DECISIONS = ['pool', 'align', 'redesign', 'decommission', 'keep'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];
export const REVIEW_LABELS: Record<ReviewDecision, string> = {
  pool: 'Pool into the community budget',
  align: 'Align with partners’ budgets',
  redesign: 'Redesign',
  decommission: 'Decommission',
  keep: 'Keep as it is',
};

export const SERVICE_PARTNER_ROLES = ['funds', 'delivers'] as const;
export type ServicePartnerRole = (typeof SERVICE_PARTNER_ROLES)[number];

export interface NewService {
  name: string;
  description: string;
  client_group: string;
  outcome_area: string;
  status: ServiceStatus;
  review: ReviewDecision | null;
  decision_id: number | null;
  funded_by: number[];
  delivered_by: number[];
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
const ids = (value: unknown): number[] =>
  [value ?? []]
    .flat()
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0);

/** Checks a service from a form or the API; messages say what to do, as the GOV.UK pattern asks. */
export function validateNewService(input: Record<string, unknown>): NewService {
  const errors: FieldErrors = {};
  const name = text(input.name);
  if (!name) errors.name = 'Enter the name of the service';
  else if (name.length > 300) errors.name = 'Service name must be 300 characters or fewer';
  const client_group = text(input.client_group);
  const outcome_area = text(input.outcome_area);
  if (client_group.length > 100) errors.client_group = 'Client group must be 100 characters or fewer';
  if (outcome_area.length > 100) errors.outcome_area = 'Outcome area must be 100 characters or fewer';
  const status = (text(input.status) || 'active') as ServiceStatus;
  if (!SERVICE_STATUSES.includes(status)) errors.status = 'Select the status of the service';
  const review = (text(input.review) || null) as ReviewDecision | null;
  if (review !== null && !REVIEW_DECISIONS.includes(review)) errors.review = 'Select a review decision';
  const decision = text(String(input.decision_id ?? ''));
  const decision_id = decision ? Number(decision) : null;
  if (decision_id !== null && !(Number.isSafeInteger(decision_id) && decision_id > 0))
    errors.decision_id = 'Select a board decision';
  if (Object.keys(errors).length) throw new Invalid('There is a problem with the service', errors);
  return {
    name,
    description: text(input.description).slice(0, 5000),
    client_group,
    outcome_area,
    status,
    review,
    decision_id,
    funded_by: ids(input.funded_by),
    delivered_by: ids(input.delivered_by),
  };
}

export interface ServiceCost {
  id: number;
  name: string;
  client_group: string;
  outcome_area: string;
  /** Partners funding or delivering it. */
  partner_ids: number[];
  annual_cost_pence: Pence;
}

export interface Overlap {
  client_group: string;
  outcome_area: string;
  services: ServiceCost[];
  partner_ids: number[];
  combined_cost_pence: Pence;
}

/**
 * The duplication the pilots set out to strip out: services of two or more different partners
 * for the same client group and outcome area. Services with no client group or outcome area
 * cannot be compared and are left out.
 */
export function findOverlaps(services: ServiceCost[]): Overlap[] {
  const groups = new Map<string, ServiceCost[]>();
  for (const s of services) {
    if (!s.client_group || !s.outcome_area) continue;
    const key = `${s.client_group.toLowerCase()}\u001f${s.outcome_area.toLowerCase()}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const overlaps: Overlap[] = [];
  for (const members of groups.values()) {
    const partners = [...new Set(members.flatMap((s) => s.partner_ids))].sort((a, b) => a - b);
    const distinctOwners = new Set(members.map((s) => s.partner_ids.slice().sort().join(',')));
    if (members.length < 2 || partners.length < 2 || distinctOwners.size < 2) continue;
    overlaps.push({
      client_group: members[0]!.client_group,
      outcome_area: members[0]!.outcome_area,
      services: members,
      partner_ids: partners,
      combined_cost_pence: pence(members.reduce((sum, s) => sum + s.annual_cost_pence, 0)),
    });
  }
  return overlaps.sort((a, b) => b.combined_cost_pence - a.combined_cost_pence);
}
