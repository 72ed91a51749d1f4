import type { Generated } from 'kysely';

export interface SessionsTable {
  id: string;
  person_id: number;
  csrf_token: string;
  created_at: Generated<Date>;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface InvitationsTable {
  id: string;
  person_id: number;
  created_by: number;
  created_at: Generated<Date>;
  expires_at: Date;
  used_at: Date | null;
}

export interface AuthTables {
  sessions: SessionsTable;
  invitations: InvitationsTable;
}
