import type { Generated, JSONColumnType } from 'kysely';

export interface AuditLogTable {
  id: Generated<number>;
  at: Date;
  person_id: number | null;
  place_id: number | null;
  action: string;
  subject: string;
  /** Defaults to {} in the database; the audit writer always gives it, as it is part of the hash. */
  detail: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  prev_hash: string;
  hash: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
}
