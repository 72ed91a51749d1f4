import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows } from '../auth/domain.ts';
import { formPage, type FormBody } from '../core/forms.ts';
import { Invalid, NotFound, type FieldErrors } from '../core/errors.ts';
import { formatPounds, parsePounds } from '../core/money.ts';
import { acceptFileForms } from '../core/uploads.ts';
import type { FamilyPorts } from './income.ts';
import { AGENCY_LABELS } from '../places/domain.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import { listPartners } from '../places/public.ts';
import { defaultCatalogue } from './catalogue.ts';
import { MAX_CSV_BYTES } from './csv.ts';
import {
  CRITERIA,
  CRITERION_LABELS,
  DATA_CATEGORIES,
  LEGAL_BASES,
  LEGAL_BASIS_LABELS,
  OUTCOMES,
  PURPOSE_LABELS,
  PURPOSES,
  parseUkDate,
  validateEndDate,
  validateEvent,
  validateGoal,
  validateMatchThreshold,
  validateNewAgreement,
  validateNewConsent,
  validateNewFamily,
  validateProfessional,
} from './domain.ts';
import { matchingKeyFor } from './matching-key.ts';
import { viewerOf } from './routes.ts';
import { importEventsCsv, partnerFor, uploadMatchCsv } from './service.ts';
import {
  createAgreement,
  endAgreement,
  familyForForm,
  listAgreements,
  mayRead,
  recordConsent,
  requireConsentTaker,
} from './access.ts';
import { decideClaim, listClaims, makeClaim } from './claims.ts';
import { logEvent } from './events.ts';
import { matchProposals, matchThreshold, setMatchThreshold } from './match-lists.ts';
import {
  addGoal,
  addProfessional,
  closeFamily,
  createFamily,
  listGoals,
  listLeadProfessionals,
  markGoalMet,
} from './record.ts';
import { todayIso } from '../core/dates.ts';
import { listField, textField } from '../core/form-fields.ts';

/** Rows the create-family form offers for members of the household; blank rows are ignored. */
const MEMBER_ROWS = 6;
/** Bad lines of an upload listed in the error summary; the rest are counted. */
const LINES_SHOWN = 50;

type Id = { slug: string; id: string };
type GoalId = Id & { goal: string };

const one = textField;
const many = listField;
const actor = (place: PlaceContext) => ({ personId: place.person.id });
const familiesUrl = (place: PlaceContext, rest = '') => `/places/${place.slug}/families${rest}`;

/** A number in a page URL, or the 404 anyone gets for something that is not there. */
function idParam(raw: string, what: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new NotFound(`${what} not found`);
  return id;
}

const radios = (
  values: readonly string[],
  labels: Record<string, string>,
  selected: string | string[] | undefined,
) =>
  values.map((value) => ({
    value,
    text: labels[value] ?? value,
    checked: [selected ?? []].flat().includes(value),
  }));

const selectItems = (
  blank: string,
  options: { value: string | number; text: string }[],
  selected: string | string[] | undefined,
) => [
  { value: '', text: blank },
  ...options.map((o) => ({ ...o, value: String(o.value), selected: String(o.value) === selected })),
];

/** The partners the signed-in professional may act for, offered only when they work for more than one. */
async function ownAgencies(
  request: FastifyRequest,
  place: PlaceContext,
  selected: string | string[] | undefined,
) {
  const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
  const own = partners.filter((p) => place.partnerIds.includes(p.id));
  return own.length > 1
    ? selectItems(
        'Select your agency',
        own.map((p) => ({ value: p.id, text: p.name })),
        selected,
      )
    : null;
}

const requestedPartner = (body: FormBody) =>
  one(body, 'partner_id') ? Number(one(body, 'partner_id')) : undefined;

/** After creating a family or recording consent: its page when the person may now read it, else the families list. */
async function nextForFamily(request: FastifyRequest, place: PlaceContext, familyId: number) {
  const readable = await inRequestPlace(request, place, (tx) =>
    mayRead(tx, place.id, familyId, viewerOf(place), todayIso()),
  );
  return readable ? familiesUrl(place, `/${familyId}`) : familiesUrl(place, '?added=family');
}

/** Field names in the API's shape (members.0.name) as the form's own (member_1_name), with the member named. */
function memberFieldsOfForm(err: Invalid, rows: number[]): Invalid {
  const fields: FieldErrors = {};
  for (const [name, message] of Object.entries(err.fields ?? {})) {
    const m = /^members\.(\d+)\.(\w+)$/.exec(name);
    if (!m) fields[name] = message;
    else fields[`member_${rows[Number(m[1])]}_${m[2]}`] = `Member ${rows[Number(m[1])]}: ${message}`;
  }
  return new Invalid(err.message, fields);
}

/**
 * An upload refused line by line: the summary names each bad line (the first LINES_SHOWN, then a
 * count) and links to it in the table of problems below the form.
 */
function linesOfUpload(err: Invalid): Invalid {
  const lines = Object.entries(err.fields ?? {}).filter(([name]) => name.startsWith('line '));
  if (!lines.length) return err;
  const fields: FieldErrors = { file: err.message };
  for (const [name, message] of lines.slice(0, LINES_SHOWN))
    fields[`problem-${name.slice(5)}`] = `Line ${name.slice(5)}: ${message}`;
  if (lines.length > LINES_SHOWN)
    fields['problem-more'] = `And ${lines.length - LINES_SHOWN} more lines with problems`;
  return new Invalid(err.message, fields);
}

async function asUpload<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw err instanceof Invalid ? linesOfUpload(err) : err;
  }
}

/** A file field read into text by the multipart parser, or nothing chosen. */
function uploadedText(body: FormBody): string {
  const file = one(body, 'file');
  if (!file) throw new Invalid('Choose a CSV file to upload', { file: 'Choose a CSV file' });
  return file;
}

const today = todayIso;

// ---- Around one family: professionals, events, consent, goals, closing ----------------------
async function familyContext(request: FastifyRequest<{ Params: Id }>, title: string) {
  const place = need(request, 'family.manage');
  const family = await inRequestPlace(request, place, (tx) =>
    familyForForm(tx, place.id, idParam(request.params.id, 'Family'), viewerOf(place), today()),
  );
  return { place, family, title, back: familiesUrl(place, `/${family.id}`) };
}

async function goalContext(request: FastifyRequest<{ Params: GoalId }>, title: string) {
  const base = await familyContext(request, title);
  const goalId = idParam(request.params.goal, 'Goal');
  const goal = (
    await inRequestPlace(request, base.place, (tx) => listGoals(tx, base.place.id, base.family.id))
  ).find((g) => g.id === goalId);
  if (!goal) throw new NotFound('Goal not found');
  return { ...base, goal };
}

/** Open a family's record, add a professional, close the record. */
function registerRecordForms(s: FastifyInstance) {
  // ---- Open a family's record ----------------------------------------------------------------
  formPage(s, {
    path: '/families/new',
    template: 'families/views/family-new.njk',
    order: [
      'reference',
      'household_name',
      'address',
      'postcode',
      'taken_on',
      'status',
      'lead_professional_id',
      ...Array.from({ length: MEMBER_ROWS }, (_, i) =>
        ['name', 'date_of_birth', 'relationship'].map((f) => `member_${i + 1}_${f}`),
      ).flat(),
    ],
    async context(request, values) {
      const place = need(request, 'family.manage');
      const leads = await inRequestPlace(request, place, (tx) => listLeadProfessionals(tx, place.id));
      return {
        title: 'Open a family’s record',
        place,
        values,
        memberRows: Array.from({ length: MEMBER_ROWS }, (_, i) => i + 1),
        statusItems: radios(
          ['identified', 'assessment', 'active'],
          {
            identified: 'Identified',
            assessment: 'Being assessed',
            active: 'Active: a key worker is working with the family',
          },
          values.status ?? 'active',
        ),
        leadItems: selectItems(
          'You',
          leads
            .filter((l) => l.id !== place.person.id)
            .map((l) => ({ value: l.id, text: `${l.name} (${l.partner_name})` })),
          values.lead_professional_id,
        ),
      };
    },
    initial: () => ({ taken_on: todayIso() }),
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const rows = Array.from({ length: MEMBER_ROWS }, (_, i) => i + 1).filter((n) =>
        ['name', 'date_of_birth', 'relationship'].some((f) => one(body, `member_${n}_${f}`)),
      );
      const members = rows.map((n) => ({
        name: one(body, `member_${n}_name`),
        date_of_birth: one(body, `member_${n}_date_of_birth`),
        relationship: one(body, `member_${n}_relationship`),
      }));
      let input;
      try {
        input = validateNewFamily({ ...body, members });
      } catch (err) {
        throw err instanceof Invalid ? memberFieldsOfForm(err, rows) : err;
      }
      const created = await inRequestPlace(request, place, (tx) =>
        createFamily(tx, place.id, input, viewerOf(place)),
      );
      return nextForFamily(request, place, created.id);
    },
  });

  formPage<Id>(s, {
    path: '/families/:id/professionals/new',
    template: 'families/views/professional-new.njk',
    order: ['name', 'role', 'partner_id'],
    async context(request, values) {
      const base = await familyContext(request, 'Add a professional');
      const partners = await inRequestPlace(request, base.place, (tx) => listPartners(tx, base.place.id));
      return {
        ...base,
        values,
        partnerItems: selectItems(
          'Select the agency',
          partners.map((p) => ({ value: p.id, text: `${p.name} (${AGENCY_LABELS[p.agency_type]})` })),
          values.partner_id,
        ),
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const input = validateProfessional(body);
      await inRequestPlace(request, place, (tx) =>
        addProfessional(tx, place.id, familyId, input, viewerOf(place), today()),
      );
      return familiesUrl(place, `/${familyId}#professionals`);
    },
  });

  formPage<Id>(s, {
    path: '/families/:id/close',
    template: 'families/views/family-close.njk',
    order: ['closure_reason'],
    async context(request, values) {
      return { ...(await familyContext(request, 'Close the family’s record')), values };
    },
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      await inRequestPlace(request, place, (tx) =>
        closeFamily(tx, place.id, familyId, one(body, 'closure_reason'), viewerOf(place), today()),
      );
      return familiesUrl(place, `/${familyId}`);
    },
  });
}

/** Log an event on a family's timeline. */
function registerEventForm(s: FastifyInstance) {
  formPage<Id>(s, {
    path: '/families/:id/events/new',
    template: 'families/views/event-new.njk',
    order: ['event_type', 'occurred_on', 'quantity', 'partner_id', 'note'],
    async context(request, values) {
      const base = await familyContext(request, 'Log an event');
      const types = await defaultCatalogue.eventTypes();
      const costs = await defaultCatalogue.unitCosts(
        types.map((t) => t.code),
        null,
      );
      return {
        ...base,
        values,
        typeItems: selectItems(
          'Select the type of event',
          types.map((t) => ({
            value: t.code,
            text: `${t.label} (${formatPounds(costs.get(t.code)!.pence)} each)`,
          })),
          values.event_type,
        ),
        agencyItems: await ownAgencies(request, base.place, values.partner_id),
      };
    },
    initial: () => ({ occurred_on: todayIso(), quantity: '1' }),
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const known = new Set((await defaultCatalogue.eventTypes()).map((t) => t.code));
      const { event, fields } = validateEvent(body, known, today());
      if (!event) throw new Invalid('There is a problem with the event', fields);
      const partnerId = partnerFor(place.roles, place.partnerIds, requestedPartner(body));
      await inRequestPlace(request, place, (tx) =>
        logEvent(tx, place.id, familyId, partnerId, event, viewerOf(place), today()),
      );
      return familiesUrl(place, `/${familyId}#timeline`);
    },
  });
}

/** Record consent to a family's record. */
function registerConsentForm(s: FastifyInstance) {
  formPage<Id>(s, {
    path: '/families/:id/consents/new',
    template: 'families/views/consent-new.njk',
    order: ['purpose', 'state', 'given_by', 'recorded_on'],
    async context(request, values) {
      const place = need(request, 'family.manage');
      const family = await inRequestPlace(request, place, (tx) =>
        requireConsentTaker(
          tx,
          place.id,
          idParam(request.params.id, 'Family'),
          viewerOf(place),
          PURPOSES,
          today(),
        ),
      );
      return {
        title: 'Record consent',
        place,
        family,
        values,
        purposeItems: radios(PURPOSES, PURPOSE_LABELS, values.purpose),
        stateItems: radios(['given', 'withdrawn'], { given: 'Given', withdrawn: 'Withdrawn' }, values.state),
      };
    },
    initial: () => ({ recorded_on: todayIso() }),
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const input = validateNewConsent(body, today());
      await inRequestPlace(request, place, (tx) =>
        recordConsent(tx, place.id, familyId, input, viewerOf(place), today()),
      );
      return nextForFamily(request, place, familyId);
    },
  });
}

/** The outcome plan: add a goal, record it as met. */
function registerGoalForms(s: FastifyInstance) {
  formPage<Id>(s, {
    path: '/families/:id/goals/new',
    template: 'families/views/goal-new.njk',
    order: ['outcome', 'description'],
    async context(request, values) {
      const labels: Record<string, string> = { ...CRITERION_LABELS, employment: 'Employment' };
      return {
        ...(await familyContext(request, 'Add an outcome goal')),
        values,
        outcomeItems: radios(OUTCOMES, labels, values.outcome),
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const goal = validateGoal(body);
      await inRequestPlace(request, place, (tx) =>
        addGoal(tx, place.id, familyId, goal, viewerOf(place), today()),
      );
      return familiesUrl(place, `/${familyId}#outcome-plan`);
    },
  });

  formPage<GoalId>(s, {
    path: '/families/:id/goals/:goal/met',
    template: 'families/views/goal-met.njk',
    order: ['met_on'],
    async context(request, values) {
      return { ...(await goalContext(request, 'Record a goal as met')), values };
    },
    initial: () => ({ met_on: todayIso() }),
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const metOn = parseUkDate(one(body, 'met_on'));
      if (!metOn || metOn > today())
        throw new Invalid('Enter the date the goal was met', {
          met_on: 'Enter a date that is not in the future, like 2014-03-31',
        });
      await inRequestPlace(request, place, (tx) =>
        markGoalMet(
          tx,
          place.id,
          familyId,
          idParam(request.params.goal, 'Goal'),
          metOn,
          viewerOf(place),
          today(),
        ),
      );
      return familiesUrl(place, `/${familyId}#outcome-plan`);
    },
  });
}

/** Payment by results: claim on a met goal; approve (posting to the pot) or reject, after checking the claim. */
function registerClaimForms(s: FastifyInstance, ports: FamilyPorts) {
  formPage<GoalId>(s, {
    path: '/families/:id/goals/:goal/claim',
    template: 'families/views/claim-new.njk',
    order: ['amount', 'evidence', 'goal_id'],
    async context(request, values) {
      return { ...(await goalContext(request, 'Claim payment by results')), values };
    },
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const familyId = idParam(request.params.id, 'Family');
      const amount = parsePounds(one(body, 'amount'));
      if (amount <= 0)
        throw new Invalid('Enter the amount claimed', { amount: 'Enter an amount more than £0.00' });
      await inRequestPlace(request, place, (tx) =>
        makeClaim(
          tx,
          place.id,
          familyId,
          idParam(request.params.goal, 'Goal'),
          { amount, evidence: one(body, 'evidence') },
          viewerOf(place),
          today(),
        ),
      );
      return familiesUrl(place, `/${familyId}#outcome-plan`);
    },
  });

  // ---- Claims: approve (posting to the pot) or reject, after checking the claim ---------------
  s.get('/families/claims', { schema: { hide: true } }, async (request, reply) => {
    const place = need(request, 'family.cohort');
    const claims = await inRequestPlace(request, place, (tx) => listClaims(tx, place.id));
    return reply.page('families/views/claims.njk', {
      title: 'Payment-by-results claims',
      place,
      claims,
      canDecide: allows(place.roles, 'family.claims.decide'),
    });
  });

  formPage<{ slug: string; claim: string }>(s, {
    path: '/families/claims/:claim',
    action: '/families/claims/:claim/decision',
    template: 'families/views/claim-decision.njk',
    order: ['decision'],
    async context(request, values) {
      const place = need(request, 'family.claims.decide');
      const claimId = idParam(request.params.claim, 'Claim');
      const claim = (await inRequestPlace(request, place, (tx) => listClaims(tx, place.id))).find(
        (c) => c.id === claimId,
      );
      if (!claim) throw new NotFound('Claim not found');
      return { title: `Claim ${claim.id} for family ${claim.reference}`, place, values, claim };
    },
    async submit(request, body) {
      const place = need(request, 'family.claims.decide');
      const decision = one(body, 'decision');
      if (decision !== 'approved' && decision !== 'rejected')
        throw new Invalid('Choose approve or reject', { decision: 'Choose approve or reject' });
      const claimId = idParam(request.params.claim, 'Claim');
      // A refusal (already decided, no pot to pay into) is about the decision as a whole: the summary gives its reason.
      await inRequestPlace(request, place, (tx) =>
        decideClaim(tx, place.id, claimId, decision, actor(place), ports.potIncome),
      ).catch((err: unknown) => {
        throw err instanceof Invalid ? new Invalid(err.message, { decision: err.message }) : err;
      });
      return familiesUrl(place, `/claims#claim-${claimId}`);
    },
  });
}

/** Data-sharing agreements: add one, end one. */
function registerAgreementForms(s: FastifyInstance) {
  // ---- Data-sharing agreements ---------------------------------------------------------------
  formPage(s, {
    path: '/families/agreements/new',
    template: 'families/views/agreement-new.njk',
    order: ['title', 'purposes', 'data_categories', 'legal_basis', 'starts_on', 'ends_on', 'party_ids'],
    async context(request, values) {
      const place = need(request, 'family.agreements');
      const partners = await inRequestPlace(request, place, (tx) => listPartners(tx, place.id));
      return {
        title: 'Record a data-sharing agreement',
        place,
        values,
        purposeItems: radios(PURPOSES, PURPOSE_LABELS, values.purposes),
        categoryItems: radios(DATA_CATEGORIES, {}, values.data_categories).map((i) => ({
          ...i,
          text: i.text.replace('_', ' '),
        })),
        basisItems: radios(LEGAL_BASES, LEGAL_BASIS_LABELS, values.legal_basis),
        partyItems: partners.map((p) => ({
          value: String(p.id),
          text: p.name,
          checked: many(values, 'party_ids').includes(String(p.id)),
        })),
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.agreements');
      const input = validateNewAgreement({
        ...body,
        purposes: many(body, 'purposes'),
        data_categories: many(body, 'data_categories'),
        party_ids: many(body, 'party_ids'),
      });
      await inRequestPlace(request, place, (tx) => createAgreement(tx, place.id, input, actor(place)));
      return familiesUrl(place, '#agreements');
    },
  });

  formPage<{ slug: string; agreement: string }>(s, {
    path: '/families/agreements/:agreement/end',
    template: 'families/views/agreement-end.njk',
    order: ['ends_on'],
    async context(request, values) {
      const place = need(request, 'family.agreements');
      const agreementId = idParam(request.params.agreement, 'Agreement');
      const agreement = (await inRequestPlace(request, place, (tx) => listAgreements(tx, place.id))).find(
        (a) => a.id === agreementId,
      );
      if (!agreement) throw new NotFound('Agreement not found');
      return { title: `End the agreement: ${agreement.title}`, place, agreement, values };
    },
    initial: () => ({ ends_on: todayIso() }),
    async submit(request, body) {
      const place = need(request, 'family.agreements');
      const endsOn = validateEndDate(one(body, 'ends_on'));
      await inRequestPlace(request, place, (tx) =>
        endAgreement(tx, place.id, idParam(request.params.agreement, 'Agreement'), endsOn, actor(place)),
      );
      return familiesUrl(place, '#agreements');
    },
  });
}

/** The place's matching rule. */
function registerMatchingRuleForm(s: FastifyInstance) {
  // ---- The place's matching rule ---------------------------------------------------------------
  formPage(s, {
    path: '/families/matching/settings',
    template: 'families/views/matching-settings.njk',
    order: ['match_threshold'],
    async context(request, values) {
      const place = need(request, 'family.settings');
      const current = await inRequestPlace(request, place, (tx) => matchThreshold(tx, place.id));
      return {
        title: 'Change the matching rule',
        place,
        values: { match_threshold: String(current), ...values },
        criteria: CRITERIA.length,
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.settings');
      const threshold = validateMatchThreshold(one(body, 'match_threshold'));
      await inRequestPlace(request, place, (tx) => setMatchThreshold(tx, place.id, threshold, actor(place)));
      return familiesUrl(place, '/matching');
    },
  });
}

/** Every families form, calling the same store functions with the same permissions as the JSON API. */
function familyForms(s: FastifyInstance, ports: FamilyPorts) {
  registerRecordForms(s);
  registerEventForm(s);
  registerConsentForm(s);
  registerGoalForms(s);
  registerClaimForms(s, ports);
  registerAgreementForms(s);
  registerMatchingRuleForm(s);
}

/** The upload forms: CSV files arrive as multipart form data, read into text for the same services the API calls. */
function uploadForms(s: FastifyInstance) {
  formPage(s, {
    path: '/families/import',
    template: 'families/views/import.njk',
    order: ['partner_id', 'file'],
    async context(request, values) {
      const place = need(request, 'family.manage');
      return {
        title: 'Import events from a CSV file',
        place,
        values: { partner_id: values.partner_id },
        agencyItems: await ownAgencies(request, place, values.partner_id),
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.manage');
      const partnerId = partnerFor(place.roles, place.partnerIds, requestedPartner(body));
      const csv = uploadedText(body);
      const imported = await asUpload(() =>
        inRequestPlace(request, place, (tx) =>
          importEventsCsv(tx, place.id, partnerId, csv, defaultCatalogue, viewerOf(place), todayIso()),
        ),
      );
      return familiesUrl(place, `?imported=${imported}`);
    },
  });

  formPage(s, {
    path: '/families/matching',
    action: '/families/matching/lists',
    template: 'families/views/matching.njk',
    order: ['partner_id', 'file'],
    async context(request, values) {
      const place = need(request, 'family.match');
      let matching = null;
      let notSetUp = null;
      try {
        const key = matchingKeyFor(place.slug);
        matching = await inRequestPlace(request, place, (tx) => matchProposals(tx, place.id, key.keyId));
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        notSetUp = err.message;
      }
      const uploaded = (request.query as { uploaded?: string }).uploaded;
      return {
        title: `Data matching – ${place.name}`,
        place,
        values: { partner_id: values.partner_id },
        matching,
        notSetUp,
        uploaded: uploaded && /^\d+$/.test(uploaded) ? Number(uploaded) : null,
        criterionLabels: CRITERION_LABELS,
        criteriaList: CRITERIA.join('; '),
        agencyItems: await ownAgencies(request, place, values.partner_id),
        canChangeRule: allows(place.roles, 'family.settings'),
      };
    },
    async submit(request, body) {
      const place = need(request, 'family.match');
      const partnerId = partnerFor(place.roles, place.partnerIds, requestedPartner(body));
      const csv = uploadedText(body);
      const key = matchingKeyFor(place.slug);
      const saved = await asUpload(() =>
        inRequestPlace(request, place, (tx) =>
          uploadMatchCsv(tx, place.id, partnerId, csv, key, actor(place)),
        ),
      );
      return familiesUrl(place, `/matching?uploaded=${saved.rows}`);
    },
  });
}

export async function familyFormPages(app: FastifyInstance, ports: FamilyPorts) {
  await app.register(placeScoped('/places/:slug', familyForms), ports);
  await app.register(async (uploads) => {
    await acceptFileForms(uploads, {
      fileSize: MAX_CSV_BYTES,
      tooLarge: 'The file is larger than 10 MB',
      // The file as text, so the CSRF check and the rest of the app see a string like any other field.
      keep: (bytes) => bytes.toString('utf8'),
    });
    await uploads.register(placeScoped('/places/:slug', uploadForms));
  });
}
