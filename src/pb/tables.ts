import type { Generated } from 'kysely';
import type { BallotChannel, DeliveryStatus, Moderation, Phase, ProcessSettings, Review } from './domain.ts';
import type { Completion, RuleName, Utility } from './rules.ts';

/** A process is stored as its settings, with the phase it is in and its tie-break. */
export interface PbProcessesTable extends Omit<ProcessSettings, 'utility' | 'completion'> {
  place_id: number;
  id: Generated<number>;
  phase: Generated<Phase>;
  utility: Generated<Utility>;
  completion: Generated<Completion>;
  tie_order: Generated<string>;
  created_by: number | null;
  created_at: Generated<Date>;
}

export interface PbProposalsTable {
  place_id: number;
  process_id: number;
  id: Generated<number>;
  title: string;
  description: string;
  cost_pence: number;
  category: string;
  location: string;
  group_name: string | null;
  proposed_by: number | null;
  proposed_at: Generated<Date>;
  moderation: Generated<Moderation>;
  moderation_note: Generated<string>;
  review: Generated<Review>;
  review_reason: Generated<string>;
  council_cost_pence: number | null;
  cost_note: Generated<string>;
}

export interface PbAccessCodesTable {
  place_id: number;
  process_id: number;
  code_hash: string;
  batch: number;
  created_at: Generated<Date>;
}

export interface PbBallotsTable {
  place_id: number;
  process_id: number;
  voter: string;
  channel: BallotChannel;
  projects: number[];
  points: number[] | null;
  postcode: Generated<string>;
  entered_by: number | null;
}

/** Who has voted in a process, without what: kept after the close. */
export interface PbVotedTable {
  place_id: number;
  process_id: number;
  voter: string;
  person_id: number | null;
  channel: BallotChannel;
  entered_by: number | null;
}

/** A ballot's content after the close: a random id and nothing that links or orders it. */
export interface PbSealedBallotsTable {
  place_id: number;
  process_id: number;
  id: string;
  projects: number[];
  points: number[] | null;
}

export interface PbCountsTable {
  place_id: number;
  process_id: number;
  rule: RuleName;
  budget_pence: number;
  spent_pence: number;
  ballots: number;
  result: string;
  counted_by: number | null;
  counted_at: Generated<Date>;
  published_by: number | null;
  published_at: Date | null;
}

export interface PbFundedTable {
  place_id: number;
  process_id: number;
  proposal_id: number;
  position: number;
  amount_pence: number;
  commitment_id: number;
}

export interface PbDeliveryUpdatesTable {
  place_id: number;
  proposal_id: number;
  id: Generated<number>;
  status: DeliveryStatus;
  spent_pence: Generated<number>;
  note: Generated<string>;
  recorded_by: number | null;
  recorded_at: Generated<Date>;
}

export interface PbTables {
  pb_processes: PbProcessesTable;
  pb_proposals: PbProposalsTable;
  pb_access_codes: PbAccessCodesTable;
  pb_ballots: PbBallotsTable;
  pb_voted: PbVotedTable;
  pb_sealed_ballots: PbSealedBallotsTable;
  pb_counts: PbCountsTable;
  pb_funded: PbFundedTable;
  pb_delivery_updates: PbDeliveryUpdatesTable;
}
