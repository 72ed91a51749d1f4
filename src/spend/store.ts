import { sql } from 'kysely';
import { appendAudit } from '../audit/public.ts';
import { inPlace, type Database, type Tx } from '../core/db.ts';
import { assert, Invalid, NotFound } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { rowKeyer } from './domain.ts';
import {
  COLUMN_ROLES,
  examineFile,
  parseSpend,
  summariseSpend,
  type ColumnRole,
  type Exclusion,
  type FileFacts,
  type Layout,
  type MappingProfile,
  type SpendRow,
} from './parse.ts';
import { assertPartnersOfPlace, partnerNamed } from '../places/public.ts';

/** Opens the file afresh: the import reads it twice (fingerprint, then rows) without holding it. */
export type SpendSource = () => AsyncIterable<Uint8Array>;

export interface SpendImportRequest {
  fileName: string;
  open: SpendSource;
  /** A saved profile's name; its column names override the ones found by header name. */
  profileName?: string;
  /** Columns chosen by hand (the wizard's mapping step); wins over the profile. */
  columns?: Partial<Record<ColumnRole, string>>;
  partnerId?: number;
  dryRun?: boolean;
  /** `record`: import the readable rows and keep the rejects; `refuse`: any reject stops the import. */
  rejects: 'record' | 'refuse';
  onProgress?: (line: number, facts: FileFacts) => void;
}

export interface SpendImportResult {
  importId: number | null;
  /** The same bytes were imported before: nothing was added. */
  alreadyImported: boolean;
  /** Rows newly added (0 on a dry run or a repeated file; fewer than `rows` if other files had them). */
  added: number;
  rows: number;
  rejected: number;
  totalPence: Pence;
  excluded: Exclusion[];
  layout: Layout;
  facts: FileFacts;
}

/**
 * Rows go to the database this many at a time, a COPY and an INSERT each: about 7 MB of COPY
 * text, which fits the temporary table's buffers, and a round trip per 50,000 rows.
 */
const INSERT_BATCH = 50_000;
const UNIQUE_VIOLATION = '23505';

export async function findProfile(tx: Tx, placeId: number, name: string) {
  return tx
    .selectFrom('spend_profiles')
    .selectAll()
    .where('place_id', '=', placeId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function listProfiles(tx: Tx, placeId: number) {
  return tx
    .selectFrom('spend_profiles')
    .select(['name', 'partner_id', 'columns', 'updated_at'])
    .where('place_id', '=', placeId)
    .orderBy('name')
    .execute();
}

export async function saveProfile(
  tx: Tx,
  placeId: number,
  input: { name: string; partnerId: number | null; columns: Partial<Record<ColumnRole, string>> },
  personId: number | null,
) {
  const name = input.name.trim();
  if (!name || name.length > 100)
    throw new Invalid('There is a problem with the profile', {
      profile: 'Enter a profile name of 100 characters or fewer',
    });
  const columns = Object.fromEntries(
    COLUMN_ROLES.filter((r) => input.columns[r]).map((r) => [r, input.columns[r]!]),
  );
  await tx
    .insertInto('spend_profiles')
    .values({ place_id: placeId, name, partner_id: input.partnerId, columns: JSON.stringify(columns) })
    .onConflict((oc) =>
      oc.columns(['place_id', 'name']).doUpdateSet({
        partner_id: input.partnerId,
        columns: JSON.stringify(columns),
        updated_at: new Date(),
      }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: personId,
    place_id: placeId,
    action: 'spend.profile.save',
    subject: `spend_profile:${name}`,
    detail: { columns },
  });
}

async function mappingFor(
  db: Database,
  placeId: number,
  request: SpendImportRequest,
): Promise<{ profile?: MappingProfile; partnerId: number | null }> {
  let partnerId = request.partnerId ?? null;
  let columns: Partial<Record<ColumnRole, string>> = {};
  if (request.profileName) {
    const saved = await inPlace(db, placeId, (tx) => findProfile(tx, placeId, request.profileName!));
    if (!saved)
      throw new Invalid(`There is no mapping profile called "${request.profileName}" in this place`, {
        profile: 'Choose a saved profile, or leave it out to detect the columns',
      });
    columns = saved.columns;
    partnerId ??= saved.partner_id;
  }
  columns = { ...columns, ...request.columns };
  return { ...(Object.keys(columns).length ? { profile: { columns } } : {}), partnerId };
}

/**
 * Imports a spend file into a place as one transaction: every readable row with its source line,
 * and every left-out line with its reason. A file imported before (same sha256) adds nothing;
 * a row another file already brought in (same row key) is not added again.
 */
export async function importSpend(
  db: Database,
  placeId: number,
  request: SpendImportRequest,
  personId: number | null,
): Promise<SpendImportResult> {
  const facts = await examineFile(request.open());
  const { profile, partnerId } = await mappingFor(db, placeId, request);
  const options = { encoding: facts.encoding, ...(profile ? { profile } : {}) };
  if (request.dryRun) {
    const summary = await summariseSpend(request.open(), options);
    refuseRejects(request, summary.rejected);
    return { importId: null, alreadyImported: false, added: 0, ...summary, facts };
  }
  return inPlace(db, placeId, async (tx) => {
    const before = await tx
      .selectFrom('spend_imports')
      .selectAll()
      .where('place_id', '=', placeId)
      .where('sha256', '=', facts.sha256)
      .executeTakeFirst();
    if (before) {
      const excluded = await listExclusions(tx, placeId, before.id);
      return {
        importId: before.id,
        alreadyImported: true,
        added: 0,
        rows: before.rows,
        rejected: before.rejected,
        totalPence: before.total_pence,
        excluded,
        layout: { encoding: before.encoding, headerLine: before.header_line, headers: [], columns: {} },
        facts,
      };
    }
    let importId = 0;
    let layout: Layout | null = null;
    let rows = 0;
    let added = 0;
    let total = 0;
    const excluded: Exclusion[] = [];
    // Rows wait as COPY text, not as objects: a row object kept until its batch is written
    // outlives a young-generation collection and is copied again and again.
    const pendingText: string[] = [];
    let pendingRows = 0;
    const keyOf = rowKeyer(`partner:${partnerId ?? 'none'}`);
    // One batch is written while the next is parsed: the database and the parser work at once.
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      await writing;
      if (!pendingRows) return;
      const text = pendingText.splice(0).join('');
      pendingRows = 0;
      writing = insertLines(db, tx, placeId, importId, text).then((n) => {
        added += n;
      });
      // Awaited at the next flush; this only keeps a failure from going unhandled if parsing fails first.
      writing.catch(() => undefined);
    };
    for await (const batch of parseSpend(request.open(), options)) {
      if (!layout) {
        layout = batch.layout;
        const resolvedPartner = partnerId ?? (await partnerByBody(tx, placeId, batch.rows[0]?.body));
        const created = await tx
          .insertInto('spend_imports')
          .values({
            place_id: placeId,
            file_name: request.fileName.slice(0, 300) || 'upload.csv',
            sha256: facts.sha256,
            bytes: facts.bytes,
            encoding: facts.encoding,
            header_line: layout.headerLine,
            columns: JSON.stringify(columnNames(layout)),
            profile_name: request.profileName ?? null,
            partner_id: resolvedPartner,
            imported_by: personId,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        importId = created.id;
        await createStaging(tx);
      }
      for (const row of batch.rows) total += row.amountPence;
      rows += batch.rows.length;
      pendingText.push(copyText(batch.rows, keyOf));
      pendingRows += batch.rows.length;
      excluded.push(...batch.excluded);
      if (pendingRows >= INSERT_BATCH) await flush();
      const last = batch.rows.at(-1)?.line ?? batch.excluded.at(-1)?.line;
      if (last !== undefined) request.onProgress?.(last, facts);
    }
    await flush();
    await writing;
    assert(layout !== null, 'the parser yields at least one batch');
    excluded.sort((a, b) => a.line - b.line);
    const rejected = excluded.filter((e) => e.kind === 'unreadable').length;
    refuseRejects(request, rejected);
    await insertExclusions(tx, placeId, importId, excluded);
    await tx
      .updateTable('spend_imports')
      .set({ rows, rejected, total_pence: pence(total) })
      .where('place_id', '=', placeId)
      .where('id', '=', importId)
      .execute();
    await appendAudit(tx, {
      person_id: personId,
      place_id: placeId,
      action: 'spend.import',
      subject: `spend_import:${importId}`,
      detail: { file: request.fileName, sha256: facts.sha256, rows, added, rejected, total_pence: total },
    });
    return {
      importId,
      alreadyImported: false,
      added,
      rows,
      rejected,
      totalPence: pence(total),
      excluded,
      layout,
      facts,
    };
  });
}

function refuseRejects(request: SpendImportRequest, rejected: number) {
  if (rejected && request.rejects === 'refuse') {
    throw new Invalid(
      `${rejected} ${rejected === 1 ? 'line' : 'lines'} could not be read, so nothing was imported. Correct the column mapping, or import the readable rows and record the rejects.`,
      {
        rejects: `${rejected} unreadable ${rejected === 1 ? 'line' : 'lines'}`,
      },
    );
  }
}

function columnNames(layout: Layout): Partial<Record<ColumnRole, string>> {
  return Object.fromEntries(
    Object.entries(layout.columns).map(([role, index]) => [role, layout.headers[index]!]),
  );
}

/** The publisher is the partner whose name the file's body column gives ("Devon County Council"). */
async function partnerByBody(tx: Tx, placeId: number, body: string | undefined): Promise<number | null> {
  if (!body) return null;
  return (await partnerNamed(tx, placeId, body, { ignoreCase: true })) ?? null;
}

/** Each batch is copied here first: COPY cannot write to spend_lines itself, which has row-level security. */
const STAGING = 'spend_lines_incoming';
const STAGED_COLUMNS = [
  'line',
  'row_key',
  'paid_on',
  'amount_pence',
  'supplier',
  'transaction_id',
  'body',
  'expense_area',
  'expense_type',
  'account_code',
] as const;

const stagedColumns = sql.join(STAGED_COLUMNS.map((column) => sql.ref(column)));

/** The staging table takes its columns' types from spend_lines; spend_lines checks the rest on insert. */
async function createStaging(tx: Tx) {
  await sql`create temporary table ${sql.table(STAGING)} on commit drop
    as select ${stagedColumns} from spend_lines with no data`.execute(tx);
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A field in COPY's text format: the backslash, tab and line breaks escaped. */
function copyField(text: string): string {
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}

function copyText(rows: SpendRow[], keyOf: (row: SpendRow) => string): string {
  const lines = rows.map(
    (r) =>
      `${r.line}\t${keyOf(r)}\t${r.paidOn}\t${r.amountPence}\t${copyField(r.supplier)}\t${copyField(r.transactionId)}\t${copyField(r.body)}\t${copyField(r.expenseArea)}\t${copyField(r.expenseType)}\t${copyField(r.accountCode)}\n`,
  );
  return lines.join('');
}

/**
 * Copies a batch (in COPY text) into the staging table and inserts it from there. A row already
 * brought in by another file is skipped: most batches have none, so each is first inserted as it
 * is, under a savepoint, and only a batch the unique row key refuses is inserted again without
 * the rows already there.
 */
async function insertLines(
  db: Database,
  tx: Tx,
  placeId: number,
  importId: number,
  rows: string,
): Promise<number> {
  await db.copyInto(tx, STAGING, STAGED_COLUMNS, rows);
  const insert = (onlyNew: boolean) => sql`
    insert into spend_lines (place_id, import_id, ${stagedColumns})
    select ${placeId}::bigint, ${importId}::bigint, ${stagedColumns} from ${sql.table(STAGING)} batch
    ${
      onlyNew
        ? // LATERAL … LIMIT 1 probes the row key index once per row; a NOT EXISTS would let the
          // planner hash the place's whole spend for every batch.
          sql`left join lateral (select true as found from spend_lines l
               where l.place_id = ${placeId}::bigint and l.row_key = batch.row_key limit 1) there on true
              where there.found is null`
        : sql``
    }`;
  let added: number;
  await sql`savepoint spend_lines_batch`.execute(tx);
  try {
    added = Number((await insert(false).execute(tx)).numAffectedRows ?? 0);
  } catch (err) {
    if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    await sql`rollback to savepoint spend_lines_batch`.execute(tx);
    added = Number((await insert(true).execute(tx)).numAffectedRows ?? 0);
  }
  await sql`release savepoint spend_lines_batch`.execute(tx);
  await sql`truncate ${sql.table(STAGING)}`.execute(tx);
  return added;
}

async function insertExclusions(tx: Tx, placeId: number, importId: number, excluded: Exclusion[]) {
  // A CSV error and a record can name the same line; the first reason is the one kept.
  const byLine = new Map<number, Exclusion>();
  for (const e of excluded) if (!byLine.has(e.line)) byLine.set(e.line, e);
  const unique = [...byLine.values()];
  for (let i = 0; i < unique.length; i += INSERT_BATCH) {
    const part = unique.slice(i, i + INSERT_BATCH);
    await sql`
      insert into spend_exclusions (place_id, import_id, line, kind, reason, raw)
      select ${placeId}::bigint, ${importId}::bigint, * from unnest(
        ${part.map((e) => e.line)}::integer[], ${part.map((e) => e.kind)}::text[], ${part.map((e) => e.reason)}::text[], ${part.map((e) => e.raw)}::text[])`.execute(
      tx,
    );
  }
}

export async function listExclusions(tx: Tx, placeId: number, importId: number): Promise<Exclusion[]> {
  return tx
    .selectFrom('spend_exclusions')
    .select(['line', 'kind', 'reason', 'raw'])
    .where('place_id', '=', placeId)
    .where('import_id', '=', importId)
    .orderBy('line')
    .execute();
}

export async function listImports(tx: Tx, placeId: number) {
  return tx
    .selectFrom('spend_imports')
    .leftJoin('partners', (join) =>
      join
        .onRef('partners.place_id', '=', 'spend_imports.place_id')
        .onRef('partners.id', '=', 'spend_imports.partner_id'),
    )
    .select([
      'spend_imports.id',
      'file_name',
      'sha256',
      'encoding',
      'rows',
      'rejected',
      'total_pence',
      'imported_at',
      'profile_name',
      'partners.name as partner_name',
    ])
    .where('spend_imports.place_id', '=', placeId)
    .orderBy('spend_imports.id', 'desc')
    .execute();
}

// ---------------------------------------------------------------------------------------------
// The wizard's uploads: kept between the preview and the commit

export async function saveUpload(
  tx: Tx,
  placeId: number,
  input: { fileName: string; content: Uint8Array; partnerId: number | null },
  personId: number,
): Promise<number> {
  if (input.partnerId !== null)
    await assertPartnersOfPlace(tx, placeId, [input.partnerId], 'There is a problem with the upload', {
      partner_id: 'Select a partner of this place',
    });
  const row = await tx
    .insertInto('spend_uploads')
    .values({
      place_id: placeId,
      file_name: input.fileName.slice(0, 300) || 'upload.csv',
      content: input.content,
      partner_id: input.partnerId,
      uploaded_by: personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function findUpload(tx: Tx, placeId: number, uploadId: number) {
  const upload = await tx
    .selectFrom('spend_uploads')
    .select(['id', 'file_name', 'content', 'partner_id'])
    .where('place_id', '=', placeId)
    .where('id', '=', uploadId)
    .executeTakeFirst();
  if (!upload) throw new NotFound('No such upload in this place: it may have been imported already');
  return upload;
}

export async function removeUpload(tx: Tx, placeId: number, uploadId: number) {
  await tx.deleteFrom('spend_uploads').where('place_id', '=', placeId).where('id', '=', uploadId).execute();
}

/** Bytes held in memory as a spend source, in the chunks a file stream would give. */
export function bytesSource(bytes: Uint8Array): SpendSource {
  return async function* () {
    for (let i = 0; i < bytes.length; i += 1 << 20) yield bytes.subarray(i, i + (1 << 20));
  };
}
