import type { Tx } from '../core/db.ts';
import type { Pence } from '../core/money.ts';
import type { TransactionKind } from './domain.ts';

// Reading the journal: a page at a time, or streamed whole for the exports.

/** The legs of the transactions, in leg order, by transaction. */
export async function journalPostings(tx: Tx, placeId: number, transactionIds: number[]) {
  const rows = await tx
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'p.place_id').onRef('a.id', '=', 'p.account_id'),
    )
    .select(['p.transaction_id', 'a.code', 'p.amount_pence'])
    .where('p.place_id', '=', placeId)
    .where('p.transaction_id', 'in', transactionIds)
    .orderBy('p.transaction_id')
    .orderBy('p.leg')
    .execute();
  const byTransaction = new Map<number, { account: string; amount_pence: Pence }[]>();
  for (const r of rows) {
    const list = byTransaction.get(r.transaction_id) ?? [];
    list.push({ account: r.code, amount_pence: r.amount_pence });
    byTransaction.set(r.transaction_id, list);
  }
  return byTransaction;
}

export interface JournalTransaction {
  id: number;
  key: string;
  date: string;
  memo: string;
  kind: TransactionKind;
  recorded_at: Date;
  decision_id: number | null;
  reverses_id: number | null;
  reversed_by: number | null;
  postings: { account: string; amount_pence: Pence }[];
}

/** The journal in date order, a page at a time after `afterId`-style keyset paging. */
export async function journalPage(
  tx: Tx,
  placeId: number,
  options: {
    after?: { date: string; id: number };
    limit: number;
    offset?: number;
    newestFirst?: boolean;
    id?: number;
  },
): Promise<JournalTransaction[]> {
  let query = tx
    .selectFrom('ledger_transactions as t')
    .leftJoin('ledger_transactions as r', (j) =>
      j.onRef('r.place_id', '=', 't.place_id').onRef('r.reverses_id', '=', 't.id'),
    )
    .select([
      't.id',
      't.idempotency_key as key',
      't.effective_date as date',
      't.memo',
      't.kind',
      't.recorded_at',
      't.decision_id',
      't.reverses_id',
      'r.id as reversed_by',
    ])
    .where('t.place_id', '=', placeId);
  if (options.id !== undefined) query = query.where('t.id', '=', options.id);
  const after = options.after;
  if (after) {
    query = options.newestFirst
      ? query.where((eb) =>
          eb.or([
            eb('t.effective_date', '<', after.date),
            eb.and([eb('t.effective_date', '=', after.date), eb('t.id', '<', after.id)]),
          ]),
        )
      : query.where((eb) =>
          eb.or([
            eb('t.effective_date', '>', after.date),
            eb.and([eb('t.effective_date', '=', after.date), eb('t.id', '>', after.id)]),
          ]),
        );
  }
  const direction = options.newestFirst ? 'desc' : 'asc';
  const rows = await query
    .orderBy('t.effective_date', direction)
    .orderBy('t.id', direction)
    .limit(options.limit)
    .offset(options.offset ?? 0)
    .execute();
  const postings = rows.length
    ? await journalPostings(
        tx,
        placeId,
        rows.map((r) => r.id),
      )
    : new Map();
  return rows.map((r) => ({ ...r, postings: postings.get(r.id) ?? [] }));
}

/** Every transaction in date order, streamed in pages so a large journal never sits in memory. */
export async function* journal(tx: Tx, placeId: number): AsyncGenerator<JournalTransaction> {
  let after: { date: string; id: number } | undefined;
  for (;;) {
    const page = await journalPage(tx, placeId, { ...(after ? { after } : {}), limit: 1000 });
    yield* page;
    if (page.length < 1000) return;
    const last = page.at(-1)!;
    after = { date: last.date, id: last.id };
  }
}
