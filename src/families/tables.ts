import type { Generated } from 'kysely';
import type { FamilyStatus, LegalBasis, Outcome } from './domain.ts';

export interface FamilyAgreementsTable {
  place_id: number;
  id: Generated<number>;
  title: string;
  purposes: string[];
  data_categories: string[];
  legal_basis: LegalBasis;
  starts_on: string;
  ends_on: string | null;
  created_by: number;
  created_at: Generated<Date>;
}

export interface FamilyAgreementPartiesTable {
  place_id: number;
  agreement_id: number;
  partner_id: number;
}

/** household_name, address and postcode are personal data: only record.ts reads them, behind the access rule. */
export interface FamiliesTable {
  place_id: number;
  id: Generated<number>;
  reference: string;
  household_name: string | null;
  address: string | null;
  postcode: string | null;
  lead_professional_id: number | null;
  lead_partner_id: number | null;
  taken_on: string;
  status: Generated<FamilyStatus>;
  closure_reason: string | null;
  erased_at: Date | null;
  created_at: Generated<Date>;
}

export interface FamilyMembersTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  name: string | null;
  date_of_birth: string | null;
  /** Null once the family is erased. */
  relationship: string | null;
  erased_at: Date | null;
}

export interface FamilyProfessionalsTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  partner_id: number;
  /** Null once the family is erased. */
  name: string | null;
  role: string;
}

export interface FamilyConsentsTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  purpose: string;
  state: 'given' | 'withdrawn';
  given_by: string | null;
  recorded_on: string;
  recorded_by: number;
}

export interface FamilyEventsTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  event_type: string;
  occurred_on: string;
  quantity: number;
  partner_id: number;
  note: Generated<string>;
  recorded_by: number | null;
}

export interface FamilyMatchListsTable {
  place_id: number;
  id: Generated<number>;
  partner_id: number;
  key_id: string;
  rows: number;
  uploaded_by: number;
  uploaded_at: Generated<Date>;
}

export interface FamilyMatchEntriesTable {
  place_id: number;
  list_id: number;
  line: number;
  person_key: string;
  household_key: string;
  criteria: string[];
}

export interface FamilyGoalsTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  outcome: Outcome;
  /** Null once the family is erased. */
  description: string | null;
  status: Generated<'open' | 'met'>;
  met_on: string | null;
  created_by: number;
}

export interface FamilyClaimsTable {
  place_id: number;
  id: Generated<number>;
  family_id: number;
  goal_id: number;
  amount: number;
  /** Null once the family is erased. */
  evidence: string | null;
  status: Generated<'claimed' | 'approved' | 'rejected'>;
  claimed_by: number;
  claimed_at: Generated<Date>;
  decided_by: number | null;
  decided_at: Date | null;
  posting_ref: string | null;
}

/** One row per place that has changed a default; a place without one uses DEFAULT_MATCH_THRESHOLD. */
export interface FamilySettingsTable {
  place_id: number;
  match_threshold: Generated<number>;
  updated_by: number;
  updated_at: Generated<Date>;
}

export interface FamiliesTables {
  family_agreements: FamilyAgreementsTable;
  family_agreement_parties: FamilyAgreementPartiesTable;
  families: FamiliesTable;
  family_members: FamilyMembersTable;
  family_professionals: FamilyProfessionalsTable;
  family_consents: FamilyConsentsTable;
  family_events: FamilyEventsTable;
  family_match_lists: FamilyMatchListsTable;
  family_match_entries: FamilyMatchEntriesTable;
  family_goals: FamilyGoalsTable;
  family_claims: FamilyClaimsTable;
  family_settings: FamilySettingsTable;
}
