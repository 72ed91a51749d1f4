import type { FastifyInstance } from 'fastify';
import { requirePerson } from '../auth/plugin.ts';
import { allows, type Permission, ROLE_LABELS, ROLES, type Role } from '../auth/domain.ts';
import { listPlaceAudit } from '../audit/public.ts';
import { barChart } from '../core/chart.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { formOr } from '../core/forms.ts';
import {
  AGENCY_LABELS,
  AGENCY_TYPES,
  SIGN_OFF_RULE_LABELS,
  SIGN_OFF_RULES,
  validateNewDecision,
  validateNewMember,
  validateNewPartner,
} from './domain.ts';
import { invitationUrl, signOffFor, takeRoleAway } from './routes.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from './scope.ts';
import {
  addMember,
  addPartner,
  listDecisions,
  listFacts,
  listPartners,
  listPeople,
  listPlacesOf,
  recordDecision,
  type AddedMember,
  type PartnerRow,
} from './store.ts';

const agencyItems = (selected?: string) =>
  AGENCY_TYPES.map((value) => ({ value, text: AGENCY_LABELS[value], checked: value === selected }));

function partnersByAgencyChart(partners: PartnerRow[]) {
  const counts = AGENCY_TYPES.map((type) => partners.filter((p) => p.agency_type === type).length);
  const present = AGENCY_TYPES.filter((_, i) => counts[i]! > 0);
  return barChart({
    caption: 'Partners by type of agency',
    categories: present.map((t) => AGENCY_LABELS[t]),
    series: [{ name: 'Partners', values: present.map((t) => counts[AGENCY_TYPES.indexOf(t)]!) }],
  });
}

/** Where a person can go from the place's overview, by what their roles allow. */
function workLinks(place: PlaceContext) {
  const base = `/places/${place.slug}`;
  const links: { href: string; text: string; hint: string; permission: Permission }[] = [
    {
      href: `${base}/dashboard`,
      text: 'Dashboard',
      hint: 'Money, families, savings and targets at a glance',
      permission: 'dashboard.read',
    },
    {
      href: `${base}/ledger`,
      text: 'Pooled budget',
      hint: 'Contributions, allocations, commitments and spend',
      permission: 'ledger.read',
    },
    {
      href: `${base}/ledger/partners`,
      text: 'Partner statements',
      hint: 'What each partner put in and what it paid for',
      permission: 'ledger.statement',
    },
    {
      href: `${base}/services`,
      text: 'Service map',
      hint: 'What every partner spends on which services, from published spend',
      permission: 'services.read',
    },
    {
      href: `${base}/families`,
      text: 'Families',
      hint: 'The multi-agency record and what the cohort costs',
      permission: 'family.cohort',
    },
    {
      href: `${base}/indicators`,
      text: 'Outcomes',
      hint: 'Indicators against their targets',
      permission: 'outcomes.read',
    },
    {
      href: `${base}/cba`,
      text: 'Business cases',
      hint: 'Cost-benefit analysis: who invests, who benefits, and the unit cost database',
      permission: 'cba.read',
    },
    {
      href: `${base}/pb`,
      text: 'Participatory budgeting',
      hint: 'Residents propose and vote on what the neighbourhood pot pays for',
      permission: 'pb.read',
    },
  ];
  return links.filter((l) => allows(place.roles, l.permission));
}

function can(place: PlaceContext) {
  return {
    managePartners: allows(place.roles, 'partner.manage'),
    recordDecisions: allows(place.roles, 'decision.record'),
    signOff: allows(place.roles, 'decision.sign_off'),
    readPeople: allows(place.roles, 'people.read'),
    managePeople: allows(place.roles, 'people.manage'),
    readAudit: allows(place.roles, 'audit.read'),
  };
}

export async function placePages(app: FastifyInstance) {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const person = requirePerson(request);
    const places = await listPlacesOf(app.deps.db, person.id);
    return reply.page('places/views/home.njk', {
      title: 'Your places',
      wholePlaces: places.filter((p) => p.kind === 'whole_place'),
      neighbourhoods: places.filter((p) => p.kind === 'neighbourhood'),
    });
  });

  await app.register(
    placeScoped('/places/:slug', (scoped) => {
      scoped.get('', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'place.read');
        const data = await inRequestPlace(request, place, async (tx) => {
          const partners = await listPartners(tx, place.id);
          return {
            partners,
            decisions: await listDecisions(tx, place.id, partners),
            facts: await listFacts(tx, place.id),
            people: allows(place.roles, 'people.read') ? await listPeople(tx, place.id) : [],
          };
        });
        return reply.page('places/views/overview.njk', {
          title: place.name,
          place,
          can: can(place),
          agencyLabels: AGENCY_LABELS,
          ruleLabels: SIGN_OFF_RULE_LABELS,
          chart: data.partners.length ? partnersByAgencyChart(data.partners) : null,
          workLinks: workLinks(place),
          ...data,
          added: (request.query as { added?: string }).added,
        });
      });

      scoped.get('/partners/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'partner.manage');
        return reply.page('places/views/partner-new.njk', {
          title: 'Add a partner',
          place,
          values: {},
          agencyItems: agencyItems(),
        });
      });

      scoped.post<{ Body: { name?: string; agency_type?: string } }>(
        '/partners',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'partner.manage');
          const body = request.body ?? {};
          const shown = await formOr(
            reply,
            'places/views/partner-new.njk',
            { title: 'Add a partner', place, values: body, agencyItems: agencyItems(body.agency_type) },
            ['name', 'agency_type'],
            () =>
              inRequestPlace(request, place, (tx) =>
                addPartner(tx, place.id, validateNewPartner(body), { personId: place.person.id }),
              ),
          );
          return shown ?? reply.redirect(`/places/${place.slug}?added=partner`, 303);
        },
      );

      scoped.get('/decisions/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'decision.record');
        const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
        return reply.page('places/views/decision-new.njk', decisionFormContext(place, partners, {}));
      });

      scoped.post<{ Body: Record<string, string | string[]> }>(
        '/decisions',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'decision.record');
          const body = request.body ?? {};
          const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
          const shown = await formOr(
            reply,
            'places/views/decision-new.njk',
            decisionFormContext(place, partners, body),
            ['title', 'description', 'financial_year', 'sign_off_rule', 'signed_off_by'],
            () => {
              const year = typeof body.financial_year === 'string' ? body.financial_year.trim() : '';
              const input = validateNewDecision({
                ...body,
                kind: year ? 'period_reopen' : 'general',
                financial_year: year,
              });
              return inRequestPlace(request, place, (tx) =>
                recordDecision(tx, place.id, input, { personId: place.person.id }),
              );
            },
          );
          return shown ?? reply.redirect(`/places/${place.slug}?added=decision#decisions`, 303);
        },
      );

      scoped.post<{ Params: { slug: string; id: string }; Body: { partner_id?: string } }>(
        '/decisions/:id/sign-offs',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'decision.sign_off');
          const decisionId = Number(request.params.id);
          const partnerId = Number(request.body?.partner_id);
          if (!Number.isSafeInteger(decisionId) || !Number.isSafeInteger(partnerId)) {
            throw new Invalid('Select a partner to sign off for', { partner_id: 'Select a partner' });
          }
          await signOffFor(request, place, decisionId, partnerId);
          return reply.redirect(`/places/${place.slug}#decision-${decisionId}`, 303);
        },
      );

      scoped.get('/people/new', { schema: { hide: true } }, async (request, reply) => {
        const place = need(request, 'people.manage');
        const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
        return reply.page('places/views/person-new.njk', memberFormContext(place, partners, {}));
      });

      scoped.post<{ Body: Record<string, string> }>(
        '/people',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'people.manage');
          const body = request.body ?? {};
          const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
          let added: AddedMember | undefined;
          const shown = await formOr(
            reply,
            'places/views/person-new.njk',
            memberFormContext(place, partners, body),
            ['email', 'name', 'role', 'partner_id'],
            async () => {
              added = await inRequestPlace(request, place, (tx) =>
                addMember(tx, place.id, validateNewMember(body), { personId: place.person.id }),
              );
            },
          );
          if (shown) return shown;
          return reply.page('places/views/person-added.njk', {
            title: 'Person added',
            place,
            name: body.name,
            role: ROLE_LABELS[body.role as Role],
            invitationUrl: added ? invitationUrl(request, added.invitation_token) : null,
          });
        },
      );

      scoped.post<{ Params: { slug: string; personId: string; role: string } }>(
        '/people/:personId/roles/:role/remove',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'people.manage');
          const personId = Number(request.params.personId);
          const role = request.params.role as Role;
          if (!Number.isSafeInteger(personId) || !ROLES.includes(role))
            throw new NotFound('No such role here');
          await takeRoleAway(request, place, personId, role);
          return reply.redirect(`/places/${place.slug}#people`, 303);
        },
      );

      scoped.get<{ Querystring: { page?: string } }>(
        '/audit',
        { schema: { hide: true } },
        async (request, reply) => {
          const place = need(request, 'audit.read');
          const page = Math.max(1, Math.min(100_000, Number(request.query.page) || 1));
          const entries = await inRequestPlace(request, place, (tx) =>
            listPlaceAudit(tx, place.id, page, 51),
          );
          return reply.page('places/views/audit.njk', {
            title: `Audit trail – ${place.name}`,
            place,
            entries: entries.slice(0, 50),
            page,
            hasNext: entries.length > 50,
          });
        },
      );
    }),
  );
}

function memberFormContext(place: PlaceContext, partners: PartnerRow[], values: Record<string, string>) {
  return {
    title: 'Add a person',
    place,
    values,
    roleItems: ROLES.map((value) => ({ value, text: ROLE_LABELS[value], checked: value === values.role })),
    partnerItems: [
      { value: '', text: 'Not for a partner' },
      ...partners.map((p) => ({
        value: String(p.id),
        text: p.name,
        selected: String(p.id) === values.partner_id,
      })),
    ],
  };
}

function decisionFormContext(
  place: PlaceContext,
  partners: PartnerRow[],
  values: Record<string, string | string[]>,
) {
  const signed = new Set([values.signed_off_by ?? []].flat());
  return {
    title: 'Record a board decision',
    place,
    values,
    ruleItems: SIGN_OFF_RULES.map((value) => ({
      value,
      text: SIGN_OFF_RULE_LABELS[value],
      checked: value === (values.sign_off_rule ?? 'all'),
    })),
    // Only the partners this person represents: nobody signs for another partner (the store checks it too).
    partnerItems: partners
      .filter((p) => place.roles.includes('partner_rep') && place.partnerIds.includes(p.id))
      .map((p) => ({
        value: String(p.id),
        text: p.name,
        hint: { text: AGENCY_LABELS[p.agency_type] },
        checked: signed.has(String(p.id)),
      })),
  };
}
