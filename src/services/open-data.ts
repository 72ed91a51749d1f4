import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';
import { classified, poundsNumber } from './store.ts';
import { toCsv } from '../core/csv.ts';

/**
 * The column layout of the Local Government Transparency Code's "expenditure exceeding £500"
 * files as the DCLG guidance template has it (the layout Devon and most counties publish).
 */
const TRANSPARENCY_HEAD = [
  'Body Name',
  'Date',
  'Transaction Number',
  'Amount',
  'Supplier Name',
  'Expense Area',
  'Expense Type',
  'Expense Code',
  'Source File',
  'Source Line',
];

/** `2017-10-02` as the Code's files write dates: `02/10/2017`. */
const ukDate = (iso: string) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** Amounts in pounds with two decimals, credits negative: exact, printed from the pence. */
const poundsText = (amount: Pence) => poundsNumber(amount).toFixed(2);

type TransparencyRow = {
  body: string;
  paid_on: string;
  transaction_id: string;
  amount_pence: Pence;
  supplier: string;
  expense_area: string;
  expense_type: string;
  account_code: string;
  file_name: string;
  import_id: number;
  line: number;
};

/** One page of spend lines after `after` in (date, import, line) order, from imports up to `lastImport`. */
async function transparencyPage(
  tx: Tx,
  placeId: number,
  lastImport: number,
  after: { paid_on: string; import_id: number; line: number } | null,
  size: number,
): Promise<TransparencyRow[]> {
  let query = tx
    .selectFrom('spend_lines')
    .innerJoin('spend_imports', (join) =>
      join
        .onRef('spend_imports.place_id', '=', 'spend_lines.place_id')
        .onRef('spend_imports.id', '=', 'spend_lines.import_id'),
    )
    .select([
      'body',
      sql<string>`to_char(paid_on, 'YYYY-MM-DD')`.as('paid_on'),
      'transaction_id',
      'amount_pence',
      'supplier',
      'expense_area',
      'expense_type',
      'account_code',
      'file_name',
      'spend_lines.import_id',
      'line',
    ])
    .where('spend_lines.place_id', '=', placeId)
    .where('spend_lines.import_id', '<=', lastImport);
  if (after) {
    query = query.where(
      sql<boolean>`(spend_lines.paid_on, spend_lines.import_id, spend_lines.line) > (${after.paid_on}::date, ${after.import_id}, ${after.line})`,
    );
  }
  return (await query
    .orderBy('paid_on')
    .orderBy('spend_lines.import_id')
    .orderBy('line')
    .limit(size)
    .execute()) as TransparencyRow[];
}

const transparencyLine = (l: TransparencyRow) =>
  toCsv([
    [
      l.body,
      ukDate(l.paid_on),
      l.transaction_id,
      poundsText(l.amount_pence),
      l.supplier,
      l.expense_area,
      l.expense_type,
      l.account_code,
      l.file_name,
      String(l.line),
    ],
  ]);

export const TRANSPARENCY_PAGE = 2_000;

/**
 * Every imported spend line, in date order, in the Transparency Code layout, with the file and line
 * it came from: a page at a time, each page its own short transaction in the place (so a download
 * neither holds a connection nor keeps the file in memory, and other requests run between pages).
 * Only imports that existed when the download began are read, so the file is one consistent set:
 * an import's lines never change once it is made. The next page is read only when the client has
 * taken the previous one.
 */
export async function* transparencyCsvChunks(
  inPlaceTx: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>,
  placeId: number,
  options: { pageSize?: number; onPage?: (rows: number) => void } = {},
): AsyncGenerator<string> {
  const size = options.pageSize ?? TRANSPARENCY_PAGE;
  yield toCsv([TRANSPARENCY_HEAD]);
  const lastImport = await inPlaceTx(async (tx) => {
    const row = await tx
      .selectFrom('spend_imports')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('place_id', '=', placeId)
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  });
  let after: { paid_on: string; import_id: number; line: number } | null = null;
  for (;;) {
    const page: TransparencyRow[] = await inPlaceTx((tx) =>
      transparencyPage(tx, placeId, lastImport, after, size),
    );
    options.onPage?.(page.length);
    if (page.length === 0) return;
    yield page.map(transparencyLine).join('');
    if (page.length < size) return;
    const last: TransparencyRow = page.at(-1)!;
    after = { paid_on: last.paid_on, import_id: last.import_id, line: last.line };
  }
}

/** The whole file as one string (the CLI and small places); the web streams transparencyCsvChunks. */
export async function transparencyCsv(tx: Tx, placeId: number): Promise<string> {
  let text = '';
  for await (const chunk of transparencyCsvChunks((work) => work(tx), placeId)) text += chunk;
  return text;
}

/**
 * Grants from the pot to voluntary and community organisations as a 360Giving data package: every
 * payment into a ledger spend account whose service (by name) is delivered by a voluntary and
 * community partner on the service map, unless it was reversed. The ledger's spend accounts name
 * a service, not a payee, so the map says who received it (the first such partner if several).
 * Identifiers use the 360G- prefix the standard gives publishers without an org-id.
 */
export async function grantsPackage(tx: Tx, place: { id: number; slug: string; name: string }) {
  const result = await sql<{
    transaction_id: number;
    leg: number;
    amount_pence: Pence;
    award_date: string;
    memo: string;
    account: string;
    service: string;
    partner_id: number;
    partner_name: string;
  }>`
    select p.transaction_id, p.leg, p.amount_pence, to_char(p.effective_date, 'YYYY-MM-DD') as award_date, t.memo,
           a.name as account, a.service, r.id as partner_id, r.name as partner_name
    from ledger_postings p
    join ledger_transactions t on t.place_id = p.place_id and t.id = p.transaction_id
    join ledger_accounts a on a.place_id = p.place_id and a.id = p.account_id
    join lateral (
      select pt.id, pt.name from services s
      join service_partners sp on sp.place_id = s.place_id and sp.service_id = s.id and sp.role = 'delivers'
      join partners pt on pt.place_id = sp.place_id and pt.id = sp.partner_id and pt.agency_type = 'voluntary'
      where s.place_id = p.place_id and lower(s.name) = lower(a.service)
      order by pt.id limit 1) r on true
    where p.place_id = ${place.id} and a.kind = 'spend' and p.amount_pence > 0
      and t.reverses_id is null
      and not exists (select 1 from ledger_transactions x where x.place_id = t.place_id and x.reverses_id = t.id)
    order by p.effective_date, p.transaction_id, p.leg`.execute(tx);
  const prefix = `360G-placebudget-${place.slug}`;
  const funder = { id: `${prefix}-pot`, name: `${place.name} community budget` };
  return {
    version: '1.4',
    title: `Grants from the ${place.name} community budget to voluntary and community organisations`,
    grants: result.rows.map((g) => ({
      id: `${prefix}-${g.transaction_id}-${g.leg}`,
      title: g.memo || g.account,
      description: `${g.memo || g.account} (${g.service}), paid from the pooled budget to ${g.partner_name}`,
      currency: 'GBP',
      amountAwarded: poundsNumber(g.amount_pence),
      awardDate: g.award_date,
      recipientOrganization: [{ id: `${prefix}-partner-${g.partner_id}`, name: g.partner_name }],
      fundingOrganization: [funder],
    })),
  };
}

export interface ReconciliationRow {
  service: string;
  /** YYYY-MM */
  month: string;
  /** Classified lines of the imported spend files, all partners together. */
  spend_file_pence: Pence;
  /** Postings to the ledger's spend accounts for the service. */
  ledger_pence: Pence;
  /** spend file − ledger: positive when the published files show more than the ledger. */
  difference_pence: Pence;
  partners: string[];
}

/**
 * Spend by service by month from the published files against the ledger's actual spend on the
 * same services (spend accounts whose service has the service's name, in any case). A service
 * or month present on one side only shows the other side as zero.
 */
export async function reconcileWithLedger(tx: Tx, placeId: number): Promise<ReconciliationRow[]> {
  const result = await sql<ReconciliationRow>`
    with files as (
      select lower(s.name) as key, min(s.name) as service, to_char(c.paid_on, 'YYYY-MM') as month,
             sum(c.amount_pence)::bigint as pence, array_agg(distinct coalesce(p.name, 'Unknown publisher')) as partners
      from (${classified(placeId)}) c
      join services s on s.place_id = ${placeId} and s.id = c.service_id
      left join partners p on p.place_id = ${placeId} and p.id = c.partner_id
      group by 1, 3),
    ledger as (
      select lower(a.service) as key, min(a.service) as service, to_char(p.effective_date, 'YYYY-MM') as month, sum(p.amount_pence)::bigint as pence
      from ledger_postings p
      join ledger_accounts a on a.place_id = p.place_id and a.id = p.account_id
      where p.place_id = ${placeId} and a.kind = 'spend' and a.service is not null
      group by 1, 3)
    select coalesce(f.service, l.service) as service, coalesce(f.month, l.month) as month,
           coalesce(f.pence, 0)::bigint as spend_file_pence, coalesce(l.pence, 0)::bigint as ledger_pence,
           (coalesce(f.pence, 0) - coalesce(l.pence, 0))::bigint as difference_pence,
           coalesce(f.partners, array[]::text[]) as partners
    from files f full join ledger l on l.key = f.key and l.month = f.month
    order by 1, 2`.execute(tx);
  return result.rows;
}
