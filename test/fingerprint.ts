import { sql } from 'kysely';
import type { Database } from '../src/core/db.ts';

/**
 * Row counts of every table (but sessions) and the audit chain's head, in two queries: equal
 * fingerprints before and after a refused request mean it changed nothing.
 */
export async function fingerprint(
  db: Database,
): Promise<{ counts: Record<string, number>; auditHead: string | null }> {
  const tables = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'sessions' order by 1`.execute(
    db.kysely,
  );
  const counts = sql.join(
    tables.rows.map(({ name }) => sql`(select count(*)::int from ${sql.table(name)}) as ${sql.ref(name)}`),
  );
  const row = await sql<Record<string, number | string | null>>`
    select ${counts}, (select hash from audit_log order by id desc limit 1) as audit_head__`.execute(
    db.kysely,
  );
  const { audit_head__, ...rest } = row.rows[0]!;
  return { counts: rest as Record<string, number>, auditHead: (audit_head__ as string | null) ?? null };
}
