import type { FastifyInstance } from 'fastify';
import { allows } from '../auth/domain.ts';
import { inRequestPlace, need, placeScoped } from '../places/scope.ts';
import { listPartners } from '../places/public.ts';
import { ACCOUNT_KIND_LABELS } from './domain.ts';
import { ledgerForms } from './forms.ts';
import { ledgerSetupForms } from './setup-forms.ts';
import { budgetReport, flowFigure, partnerStatement } from './reports.ts';
import { assertMayReadStatement } from './routes.ts';
import { listAccounts } from './accounts.ts';
import { listBalances } from './postings.ts';
import { listCommitments } from './commitments.ts';
import { journalPage } from './journal.ts';
import { listBudgets } from './agreements.ts';
import { listPeriods } from './periods.ts';
import { financialYearLabel, financialYearOf, todayIso } from '../core/dates.ts';

/** `?year=2012` for 2012/13; anything else means the year today falls in. */
function yearFrom(query: unknown): number {
  const asked = Number((query as { year?: string }).year);
  return Number.isInteger(asked) && asked >= 2000 && asked <= 2100 ? asked : financialYearOf(todayIso());
}

export async function ledgerPages(app: FastifyInstance) {
  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      ledgerForms(scoped);
      ledgerSetupForms(scoped);

      scoped.get('/ledger', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'ledger.read');
        const year = yearFrom(request.query);
        const data = await inRequestPlace(request, place, async (tx) => ({
          accounts: await listAccounts(tx, place.id),
          balances: await listBalances(tx, place.id),
          budgets: await listBudgets(tx, place.id),
          report: await budgetReport(tx, place.id, year),
          commitments: (await listCommitments(tx, place.id)).filter((c) => c.outstanding_pence > 0),
          periods: await listPeriods(tx, place.id),
          recent: allows(place.roles, 'ledger.post')
            ? await journalPage(tx, place.id, { limit: 10, newestFirst: true })
            : [],
        }));
        const balance = new Map(data.balances.map((b) => [b.account, b.balance_pence]));
        const budget = data.budgets.find((b) => b.financial_year === year);
        return reply.page('ledger/views/ledger.njk', {
          title: `Pooled budget ${financialYearLabel(year)} – ${place.name}`,
          place,
          year,
          yearLabel: financialYearLabel(year),
          budget,
          accounts: data.accounts.map((a) => ({
            ...a,
            kindLabel: ACCOUNT_KIND_LABELS[a.kind],
            balance: balance.get(a.code) ?? 0,
          })),
          report: data.report,
          flow: flowFigure(data.report, budget?.mode_today === 'shadow' ? 'Virtual bank' : 'Pot'),
          commitments: data.commitments,
          period: data.periods.find((p) => p.financial_year === year),
          years: [...new Set([year - 1, year, year + 1, ...data.budgets.map((b) => b.financial_year)])]
            .sort()
            .map((y) => ({ value: y, label: financialYearLabel(y) })),
          canReadStatements: allows(place.roles, 'ledger.statement'),
          canPost: allows(place.roles, 'ledger.post'),
          recent: data.recent,
        });
      });

      scoped.get<{ Params: { slug: string; id: string } }>(
        '/ledger/partners/:id',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'ledger.statement');
          const partnerId = Number(request.params.id);
          assertMayReadStatement(place, partnerId);
          const year = yearFrom(request.query);
          const statement = await inRequestPlace(request, place, (tx) =>
            partnerStatement(tx, place.id, Number.isSafeInteger(partnerId) ? partnerId : 0, year),
          );
          return reply.page('ledger/views/statement.njk', {
            title: `${statement.partner.name}: statement ${financialYearLabel(year)}`,
            place,
            year,
            yearLabel: financialYearLabel(year),
            statement,
            canReadLedger: allows(place.roles, 'ledger.read'),
          });
        },
      );

      scoped.get('/ledger/partners', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'ledger.statement');
        const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
        const visible = allows(place.roles, 'ledger.read')
          ? partners
          : partners.filter((p) => place.partnerIds.includes(p.id));
        return reply.page('ledger/views/partners.njk', {
          title: `Partner statements – ${place.name}`,
          place,
          partners: visible,
          year: yearFrom(request.query),
        });
      });
    }),
  );
}
