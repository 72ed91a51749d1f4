import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../src/core/db.ts';

type Row = Record<string, number | string | null>;

/**
 * The counting query for each database, built from its table list once: a test's schema does not
 * change between the requests it fingerprints, and the hostile-input test fingerprints thousands.
 */
const counting = new WeakMap<Database, Promise<RawBuilder<Row>>>();

async function countingQuery(db: Database): Promise<RawBuilder<Row>> {
  const tables = await sql<{ name: string }>`
    select tablename as name from pg_tables where schemaname = 'public' and tablename <> 'sessions' order by 1`.execute(
    db.kysely,
  );
  const counts = sql.join(
    tables.rows.map(({ name }) => sql`(select count(*)::int from ${sql.table(name)}) as ${sql.ref(name)}`),
  );
  return sql<Row>`select ${counts}, (select hash from audit_log order by id desc limit 1) as audit_head__`;
}

/**
 * Row counts of every table (but sessions) and the audit chain's head, in one query: equal
 * fingerprints before and after a refused request mean it changed nothing.
 */
export async function fingerprint(
  db: Database,
): Promise<{ counts: Record<string, number>; auditHead: string | null }> {
  let query = counting.get(db);
  if (!query) counting.set(db, (query = countingQuery(db)));
  const row = await (await query).execute(db.kysely);
  const { audit_head__, ...rest } = row.rows[0]!;
  return { counts: rest as Record<string, number>, auditHead: (audit_head__ as string | null) ?? null };
}
