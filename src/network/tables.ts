import type { Generated } from 'kysely';

export interface PracticeNotesTable {
  place_id: number;
  id: Generated<number>;
  title: string;
  what_they_did: string;
  cost_pence: number | null;
  cost_note: Generated<string>;
  what_changed: string;
  contact: string;
  tags: Generated<string[]>;
  published_by: number | null;
  published_at: Generated<Date>;
  withdrawn_at: Date | null;
}

export interface BenchmarkSharingTable {
  place_id: number;
  shares: boolean;
  decided_by: number | null;
  decided_at: Generated<Date>;
}

export interface NetworkTables {
  practice_notes: PracticeNotesTable;
  benchmark_sharing: BenchmarkSharingTable;
}
