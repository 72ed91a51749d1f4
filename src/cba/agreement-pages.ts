/**
 * Investment agreement pages: propose from a case's results, approve by an agreed board decision,
 * post through the ledger. Each step is a plain form; each refusal shows on its form.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { Invalid } from '../core/errors.ts';
import { listAccounts, type AccountRow } from '../ledger/public.ts';
import { formOr } from '../core/forms.ts';
import { inRequestPlace, need, type PlaceContext } from '../places/scope.ts';
import { listDecisions, listPartners, type PartnerRow } from '../places/public.ts';
import type { Body } from './forms.ts';
import { agreementPartners, postInvestment } from './investment.ts';
import type { CbaPorts } from './ports.ts';
import { approveInvestment, getAgreement, getBusinessCase, proposeInvestment } from './store.ts';
import { caseId, caseUrl, type CaseParams } from './web.ts';
import { isIsoDate, todayIso } from '../core/dates.ts';

type AgreementParams = { Params: { slug: string; id: string; aid: string }; Body: Body };

function accountItems(accounts: AccountRow[], kind: AccountRow['kind'], selected: string | undefined) {
  return [
    { value: '', text: 'Select an account' },
    ...accounts
      .filter((a) => a.kind === kind)
      .map((a) => ({ value: a.code, text: `${a.code} – ${a.name}`, selected: a.code === selected })),
  ];
}

/** The contribution account of the place's partner whose name the case used, if there is one. */
function suggestedAccount(accounts: AccountRow[], partners: PartnerRow[], name: string): string | undefined {
  const partner = partners.find((p) => p.name.toLowerCase() === name.toLowerCase());
  return partner && accounts.find((a) => a.kind === 'contribution' && a.partner_id === partner.id)?.code;
}

async function agreementContext(
  request: FastifyRequest,
  place: PlaceContext,
  id: number,
  aid: number,
  values: Body,
) {
  const data = await inRequestPlace(request, place, async (tx) => {
    const partners = await listPartners(tx, place.id);
    return {
      row: await getBusinessCase(tx, place.id, id),
      agreement: await getAgreement(tx, place.id, id, aid),
      decisions: (await listDecisions(tx, place.id, partners)).filter((d) => d.agreed_at !== null),
      accounts: allows(place.roles, 'ledger.post') ? await listAccounts(tx, place.id) : [],
      partners,
    };
  });
  const { agreement } = data;
  return {
    title: `Investment agreement ${aid} – ${data.row.title}`,
    place,
    row: data.row,
    agreement,
    values,
    canApprove: allows(place.roles, 'cba.edit') && agreement.decision_id === null,
    canPost:
      allows(place.roles, 'ledger.post') &&
      agreement.decision_id !== null &&
      agreement.transaction_id === null,
    decisionItems: [
      { value: '', text: 'Select a decision' },
      ...data.decisions.map((d) => ({
        value: String(d.id),
        text: d.title,
        selected: String(d.id) === values.decision_id,
      })),
    ],
    accountFields: agreementPartners(agreement.agreement).map((partner, i) => ({
      name: `account_${i}`,
      partner,
      items: accountItems(
        data.accounts,
        'contribution',
        values[`account_${i}`] ?? suggestedAccount(data.accounts, data.partners, partner),
      ),
    })),
    reinvestmentItems: accountItems(data.accounts, 'reinvestment', values.reinvestment_account),
    needsReinvestment: Object.keys(agreement.agreement.to_reinvestment_pence).length > 0,
  };
}

/** The poster names accounts by partner and the ledger by transaction; the form by its fields. */
function asFormFields(err: Invalid, partners: string[]): Invalid {
  const fields = Object.entries(err.fields ?? { date: err.message }).map(([key, message]) => {
    if (key.startsWith('account:'))
      return [`account_${partners.indexOf(key.slice('account:'.length))}`, message];
    return [key === 'reinvestment_account' ? key : 'date', message];
  });
  return new Invalid(err.message, Object.fromEntries(fields));
}

export function agreementPages(scoped: FastifyInstance, ports: CbaPorts) {
  const agreementUrl = (place: PlaceContext, id: number, aid: number) =>
    `${caseUrl(place, id)}/agreements/${aid}`;

  scoped.post<CaseParams>(
    '/cba/business-cases/:id/agreements',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const id = caseId(request.params.id);
      const { id: aid } = await inRequestPlace(request, place, (tx) =>
        proposeInvestment(tx, place.id, place.person.id, id),
      );
      return reply.redirect(agreementUrl(place, id, aid), 303);
    },
  );

  scoped.get<AgreementParams>(
    '/cba/business-cases/:id/agreements/:aid',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.read');
      const today = todayIso();
      const context = await agreementContext(
        request,
        place,
        caseId(request.params.id),
        caseId(request.params.aid),
        { date: today },
      );
      return reply.page('cba/views/agreement.njk', context);
    },
  );

  scoped.post<AgreementParams>(
    '/cba/business-cases/:id/agreements/:aid/approve',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'cba.edit');
      const [id, aid] = [caseId(request.params.id), caseId(request.params.aid)];
      const body = request.body ?? {};
      const context = await agreementContext(request, place, id, aid, body);
      const shown = await formOr(reply, 'cba/views/agreement.njk', context, ['decision_id'], () =>
        inRequestPlace(request, place, (tx) =>
          approveInvestment(tx, place.id, place.person.id, id, aid, Number(body.decision_id) || 0),
        ),
      );
      return shown ?? reply.redirect(agreementUrl(place, id, aid), 303);
    },
  );

  scoped.post<AgreementParams>(
    '/cba/business-cases/:id/agreements/:aid/post',
    { schema: { hide: true } },
    async (request, reply) => {
      const place = need(request, 'ledger.post');
      const [id, aid] = [caseId(request.params.id), caseId(request.params.aid)];
      const body = request.body ?? {};
      const context = await agreementContext(request, place, id, aid, body);
      const partners = context.accountFields.map((f) => f.partner);
      const order = ['date', ...context.accountFields.map((f) => f.name), 'reinvestment_account'];
      const shown = await formOr(reply, 'cba/views/agreement.njk', context, order, async () => {
        const date = (body.date ?? '').trim();
        if (!isIsoDate(date))
          throw new Invalid('Enter the date', {
            date: 'Enter a real date written YYYY-MM-DD, for example 2026-04-02',
          });
        const choice = {
          date,
          contributionAccounts: Object.fromEntries(partners.map((p, i) => [p, body[`account_${i}`] ?? ''])),
          reinvestmentAccount: body.reinvestment_account ?? '',
        };
        try {
          await inRequestPlace(request, place, (tx) =>
            postInvestment(tx, place.id, place.person.id, id, aid, choice, ports.agreementPoster),
          );
        } catch (err) {
          throw err instanceof Invalid ? asFormFields(err, partners) : err;
        }
      });
      return shown ?? reply.redirect(agreementUrl(place, id, aid), 303);
    },
  );
}
