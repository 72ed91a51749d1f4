import type { Generated } from 'kysely';
import type { ServiceStatus, ReviewDecision, ServicePartnerRole } from './domain.ts';

export interface ServicesTable {
  place_id: number;
  id: Generated<number>;
  oruk_id: string;
  name: string;
  description: Generated<string>;
  client_group: Generated<string>;
  outcome_area: Generated<string>;
  status: Generated<ServiceStatus>;
  review: ReviewDecision | null;
  decision_id: number | null;
  url: string | null;
  email: string | null;
  created_at: Generated<Date>;
}

export interface ServicePartnersTable {
  place_id: number;
  service_id: number;
  partner_id: number;
  role: ServicePartnerRole;
}

export interface ServiceCostsTable {
  place_id: number;
  service_id: number;
  partner_id: number;
  year: number;
  cost_pence: number;
}

export interface ServicesTables {
  services: ServicesTable;
  service_partners: ServicePartnersTable;
  service_costs: ServiceCostsTable;
}
