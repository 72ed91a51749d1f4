import { sql } from 'kysely';
import type { Tx } from '../core/db.ts';
import { NotFound } from '../core/errors.ts';
import { pence, roundHalfAwayFromZero, type Pence } from '../core/money.ts';
import { renderSvg, type ChartFigure } from '../core/chart.ts';
import { formatPounds } from '../core/money.ts';
import type { AccountKind, TransactionKind } from './domain.ts';
import { listAgreements, type AgreementRow } from './agreements.ts';
import { listPartners, partnerOfPlace } from '../places/public.ts';
import { financialYearBounds, financialYearOf } from '../core/dates.ts';

/** A year's net postings per account and kind of transaction: every report reads this one query. */
interface YearNet {
  account_id: number;
  kind: AccountKind;
  service: string | null;
  partner_id: number | null;
  transaction_kind: TransactionKind;
  net: Pence;
}

async function yearNets(tx: Tx, placeId: number, year: number): Promise<YearNet[]> {
  const { start, end } = financialYearBounds(year);
  const rows = await sql<Omit<YearNet, 'net'> & { net: string }>`
    select a.id as account_id, a.kind, a.service, a.partner_id, t.kind as transaction_kind, sum(p.amount_pence)::text as net
    from ledger_postings p
    join ledger_accounts a on a.place_id = p.place_id and a.id = p.account_id
    join ledger_transactions t on t.place_id = p.place_id and t.id = p.transaction_id
    where p.place_id = ${placeId} and p.effective_date between ${start} and ${end}
    group by a.id, a.kind, a.service, a.partner_id, t.kind`.execute(tx);
  return rows.rows.map((r) => ({ ...r, net: pence(Number(r.net)) }));
}

/** The first and the latest financial year with postings. */
export interface PostedYears {
  earliest: number;
  latest: number;
}

/**
 * The financial years with postings in one place, or (`placeId` null, in a transaction outside any
 * place) in any place; null when nothing is posted. Every transaction carries its postings, dated
 * as it is, so one index probe per place on `ledger_transactions (place_id, effective_date)` answers
 * it: a year that only has a budget mode recorded is not a year with postings.
 */
export async function postedYears(tx: Tx, placeId: number | null): Promise<PostedYears | null> {
  const { rows } = await sql<{ earliest: string | null; latest: string | null }>`
    select min(y.earliest)::text as earliest, max(y.latest)::text as latest
    from places p
    cross join lateral (
      select min(t.effective_date) as earliest, max(t.effective_date) as latest
      from ledger_transactions t where t.place_id = p.id
    ) y
    where ${placeId === null ? sql`true` : sql`p.id = ${placeId}`}`.execute(tx);
  const [row] = rows;
  return row?.earliest && row.latest
    ? { earliest: financialYearOf(row.earliest), latest: financialYearOf(row.latest) }
    : null;
}

const sum = (rows: YearNet[]) => pence(rows.reduce((s, r) => s + r.net, 0));

export interface ServiceLine {
  service: string;
  /** Allocated to the service in the year (before any period-close risk share). */
  budget: Pence;
  actual: Pence;
  /** Commitments still open: promised, not yet spent. */
  committed: Pence;
  /** Actual plus open commitments: the outturn if every commitment is spent. */
  forecast: Pence;
  /** Budget less forecast: positive is a forecast underspend. */
  variance: Pence;
}

export interface PartnerLine {
  partner_id: number;
  partner: string;
  agreed: Pence;
  contributed: Pence;
  /** The partner's part of actual and forecast spend, in proportion to what it put in. */
  actual_share: Pence;
  forecast_share: Pence;
  /** From period close: positive is underspend returned, negative overspend it covered. */
  risk_share: Pence;
}

export interface BudgetReport {
  financial_year: number;
  services: ServiceLine[];
  partners: PartnerLine[];
  totals: {
    budget: Pence;
    actual: Pence;
    committed: Pence;
    forecast: Pence;
    contributed: Pence;
    agreed: Pence;
  };
}

const SERVICE_KINDS: readonly AccountKind[] = ['allocation', 'commitment', 'spend'];

export async function budgetReport(tx: Tx, placeId: number, year: number): Promise<BudgetReport> {
  const nets = await yearNets(tx, placeId, year);
  const services = [
    ...new Set(nets.filter((n) => n.service && SERVICE_KINDS.includes(n.kind)).map((n) => n.service!)),
  ].sort();
  const serviceLines = services.map((service) => {
    const own = nets.filter((n) => n.service === service);
    const budget = sum(
      own.filter((n) => SERVICE_KINDS.includes(n.kind) && n.transaction_kind !== 'risk_share'),
    );
    const actual = sum(own.filter((n) => n.kind === 'spend'));
    const committed = sum(own.filter((n) => n.kind === 'commitment'));
    const forecast = pence(actual + committed);
    return { service, budget, actual, committed, forecast, variance: pence(budget - forecast) };
  });
  const agreements = await listAgreements(tx, placeId, year);
  const partners = await listPartners(tx, placeId);
  const totalActual = sum(nets.filter((n) => n.kind === 'spend'));
  const totalForecast = pence(totalActual + sum(nets.filter((n) => n.kind === 'commitment')));
  const contributedBy = (id: number) =>
    pence(-sum(nets.filter((n) => n.partner_id === id && n.transaction_kind !== 'risk_share')));
  const totalContributed = pence(partners.reduce((s, p) => s + contributedBy(p.id), 0));
  const share = (amount: Pence, part: Pence) =>
    totalContributed === 0 ? 0 : roundHalfAwayFromZero((amount * part) / totalContributed);
  const partnerLines = partners
    .map((p) => {
      const contributed = contributedBy(p.id);
      return {
        partner_id: p.id,
        partner: p.name,
        agreed: pence(
          agreements.filter((a) => a.partner_id === p.id).reduce((s, a) => s + a.amount_pence, 0),
        ),
        contributed,
        actual_share: share(totalActual, contributed),
        forecast_share: share(totalForecast, contributed),
        risk_share: pence(
          sum(nets.filter((n) => n.partner_id === p.id && n.transaction_kind === 'risk_share')),
        ),
      };
    })
    .filter((p) => p.agreed || p.contributed || p.risk_share);
  return {
    financial_year: year,
    services: serviceLines,
    partners: partnerLines,
    totals: {
      budget: pence(serviceLines.reduce((s, l) => s + l.budget, 0)),
      actual: totalActual,
      committed: pence(totalForecast - totalActual),
      forecast: totalForecast,
      contributed: totalContributed,
      agreed: pence(agreements.reduce((s, a) => s + a.amount_pence, 0)),
    },
  };
}

export interface PartnerStatement {
  partner: { id: number; name: string };
  financial_year: number;
  agreements: AgreementRow[];
  /** Each movement on the partner's contribution accounts, as the partner sees it: in is positive. */
  lines: {
    date: string;
    transaction_id: number;
    kind: TransactionKind;
    memo: string;
    account: string;
    partner_code: string | null;
    amount_pence: Pence;
  }[];
  summary: PartnerLine | null;
  spend_by_service: { service: string; actual_share: Pence }[];
}

export async function partnerStatement(
  tx: Tx,
  placeId: number,
  partnerId: number,
  year: number,
): Promise<PartnerStatement> {
  const partner = await partnerOfPlace(tx, placeId, partnerId);
  if (!partner) throw new NotFound('No such partner in this place');
  const { start, end } = financialYearBounds(year);
  const lines = await tx
    .selectFrom('ledger_postings as p')
    .innerJoin('ledger_accounts as a', (j) =>
      j.onRef('a.place_id', '=', 'p.place_id').onRef('a.id', '=', 'p.account_id'),
    )
    .innerJoin('ledger_transactions as t', (j) =>
      j.onRef('t.place_id', '=', 'p.place_id').onRef('t.id', '=', 'p.transaction_id'),
    )
    .leftJoin('ledger_partner_codes as c', (j) =>
      j
        .onRef('c.place_id', '=', 'a.place_id')
        .onRef('c.account_id', '=', 'a.id')
        .on('c.partner_id', '=', partnerId),
    )
    .select([
      'p.effective_date as date',
      't.id as transaction_id',
      't.kind',
      't.memo',
      'a.code as account',
      'c.partner_code',
      'p.amount_pence',
    ])
    .where('p.place_id', '=', placeId)
    .where('a.partner_id', '=', partnerId)
    .where('p.effective_date', '>=', start)
    .where('p.effective_date', '<=', end)
    .orderBy('p.effective_date')
    .orderBy('t.id')
    .execute();
  const report = await budgetReport(tx, placeId, year);
  const summary = report.partners.find((p) => p.partner_id === partnerId) ?? null;
  const fraction = summary && report.totals.contributed ? summary.contributed / report.totals.contributed : 0;
  return {
    partner,
    financial_year: year,
    agreements: (await listAgreements(tx, placeId, year)).filter((a) => a.partner_id === partnerId),
    lines: lines.map((l) => ({ ...l, amount_pence: pence(-l.amount_pence) })),
    summary,
    spend_by_service: report.services.map((s) => ({
      service: s.service,
      actual_share: roundHalfAwayFromZero(s.actual * fraction),
    })),
  };
}

/** Partners → pot → services for the year, as a Sankey with the same numbers in its table. */
export function flowFigure(report: BudgetReport, potName: string): ChartFigure | null {
  const inflows = report.partners.filter((p) => p.contributed > 0);
  const outflows = report.services.filter((s) => s.budget > 0);
  if (inflows.length === 0 && outflows.length === 0) return null;
  const caption = 'Money flowing from partners into the pot and out to services';
  const links = [
    ...inflows.map((p) => ({ source: p.partner, target: potName, value: p.contributed })),
    ...outflows.map((s) => ({ source: potName, target: s.service, value: s.budget })),
  ];
  const svg = renderSvg(
    {
      aria: { enabled: true, label: { description: caption } },
      tooltip: { show: false },
      series: [
        {
          type: 'sankey',
          left: 8,
          right: 180,
          top: 12,
          bottom: 12,
          nodeGap: 10,
          emphasis: { focus: 'adjacency' },
          data: [
            ...inflows.map((p) => ({ name: p.partner })),
            { name: potName },
            ...outflows.map((s) => ({ name: s.service })),
          ],
          links,
          label: { fontSize: 12 },
          lineStyle: { color: 'gradient', opacity: 0.4 },
        },
      ],
    },
    { width: 760, height: Math.max(240, 34 * Math.max(inflows.length, outflows.length + 1)) },
  );
  return {
    caption,
    svg,
    table: {
      head: ['From', 'To', 'Amount'],
      rows: links.map((l) => [l.source, l.target, formatPounds(l.value)]),
    },
  };
}
