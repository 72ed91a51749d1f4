import type { ColumnType, Generated, Selectable } from 'kysely';
import type { Role } from '../auth/domain.ts';
import type { AgencyType, PlaceKind, SignOffRule } from './domain.ts';

export interface PlacesTable {
  id: Generated<number>;
  slug: string;
  name: string;
  kind: PlaceKind;
  parent_id: number | null;
  local_authority: string | null;
  summary: Generated<string>;
  board_sign_off_rule: Generated<SignOffRule>;
  created_at: Generated<Date>;
}

export interface PeopleTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
}

export interface PartnersTable {
  place_id: number;
  id: Generated<number>;
  name: string;
  agency_type: AgencyType;
  created_at: Generated<Date>;
}

export interface MembershipsTable {
  place_id: number;
  person_id: number;
  role: Role;
  partner_id: number | null;
  created_at: Generated<Date>;
}

export interface PlaceFactsTable {
  place_id: number;
  id: Generated<number>;
  label: string;
  value: string;
  source: string;
}

export interface DecisionsTable {
  place_id: number;
  id: Generated<number>;
  title: string;
  description: Generated<string>;
  kind: Generated<string>;
  /** The year a `period_reopen` decision re-opens; null for other kinds. */
  financial_year: number | null;
  sign_off_rule: SignOffRule;
  proposed_by: number;
  proposed_at: Generated<Date>;
  agreed_at: Date | null;
}

export interface DecisionSignOffsTable {
  place_id: number;
  decision_id: number;
  partner_id: number;
  signed_by: number;
  signed_at: Generated<Date>;
}

export interface PlacesTables {
  places: PlacesTable;
  people: PeopleTable;
  partners: PartnersTable;
  memberships: MembershipsTable;
  place_facts: PlaceFactsTable;
  decisions: DecisionsTable;
  decision_sign_offs: DecisionSignOffsTable;
}

export type Place = Selectable<PlacesTable>;
export type Partner = Selectable<PartnersTable>;
