import { createHmac } from 'node:crypto';
import { assert, Invalid, type FieldErrors } from '../core/errors.ts';
import { type Pence, pence, roundHalfAwayFromZero } from '../core/money.ts';
import type { Role } from '../auth/domain.ts';
import { AGENCY_TYPES, type AgencyType } from '../places/domain.ts';
import { addDays, addMonths, financialYearLabel, isIsoDate } from '../core/dates.ts';
import { formatPostcode, isFullPostcode, normalisePostcode } from '../core/postcodes.ts';

/** Why a professional reads a family's record: a data-sharing agreement names the purposes it covers. */
export const PURPOSES = ['case_work', 'data_matching', 'evaluation'] as const;
export type Purpose = (typeof PURPOSES)[number];
export const PURPOSE_LABELS: Record<Purpose, string> = {
  case_work: 'Coordinating support for the family (key working)',
  data_matching: 'Identifying families by matching agency lists',
  evaluation: 'Evaluating costs and outcomes',
};

/** UK GDPR Article 6 bases an agreement can rest on. Only 'consent' makes the family's consent decisive. */
export const LEGAL_BASES = [
  'consent',
  'public_task',
  'legal_obligation',
  'vital_interests',
  'legitimate_interests',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];
export const LEGAL_BASIS_LABELS: Record<LegalBasis, string> = {
  consent: 'Consent of the family',
  public_task: 'Public task',
  legal_obligation: 'Legal obligation',
  vital_interests: 'Vital interests',
  legitimate_interests: 'Legitimate interests',
};

export const DATA_CATEGORIES = [
  'identity',
  'contact',
  'household',
  'health',
  'criminal_offence',
  'education',
  'social_care',
  'finance',
] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const FAMILY_STATUSES = ['identified', 'assessment', 'active', 'closed'] as const;
export type FamilyStatus = (typeof FAMILY_STATUSES)[number];

/** The national criteria for families with multiple problems, used by data matching and outcome goals. */
export const CRITERIA = [
  'crime_asb',
  'school_attendance',
  'children_in_need',
  'worklessness',
  'domestic_abuse',
  'health',
] as const;
export type Criterion = (typeof CRITERIA)[number];
export const CRITERION_LABELS: Record<Criterion, string> = {
  crime_asb: 'Crime or anti-social behaviour',
  school_attendance: 'School attendance',
  children_in_need: 'Children in need',
  worklessness: 'Worklessness',
  domestic_abuse: 'Domestic abuse',
  health: 'Health',
};
export const OUTCOMES = [
  'crime_asb',
  'school_attendance',
  'employment',
  'children_in_need',
  'domestic_abuse',
  'health',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Roles whose holders work with families for a partner; nobody else ever sees a family's personal data. */
export const PROFESSIONAL_ROLES: readonly Role[] = ['key_worker', 'partner_rep'];

// ---------------------------------------------------------------------------------------------
// Access: agreement AND (consent OR the agreement's legal basis)

export interface AgreementTerms {
  id: number;
  purposes: string[];
  legal_basis: LegalBasis;
  starts_on: string;
  ends_on: string | null;
  party_ids: number[];
}

export interface ConsentRecord {
  id: number;
  purpose: string;
  state: 'given' | 'withdrawn';
}

export interface Viewer {
  roles: readonly Role[];
  partnerIds: readonly number[];
}

export type AccessBasis = { agreementId: number; basis: 'consent' | LegalBasis };

/** The latest consent decision for a purpose, or null when the family was never asked. */
export function consentFor(
  consents: readonly ConsentRecord[],
  purpose: string,
): 'given' | 'withdrawn' | null {
  let latest: ConsentRecord | null = null;
  for (const c of consents) if (c.purpose === purpose && (!latest || c.id > latest.id)) latest = c;
  return latest?.state ?? null;
}

/**
 * Why this viewer may read this family's record for this purpose today, or null (the caller
 * answers 404). A professional's partner must be party to an agreement in force that covers the
 * purpose; if that agreement rests on consent, the family's latest decision must be "given".
 */
export function accessBasis(
  viewer: Viewer,
  agreements: readonly AgreementTerms[],
  consents: readonly ConsentRecord[],
  purpose: Purpose,
  today: string,
): AccessBasis | null {
  if (!viewer.roles.some((r) => PROFESSIONAL_ROLES.includes(r)) || viewer.partnerIds.length === 0)
    return null;
  const consent = consentFor(consents, purpose);
  for (const a of agreements) {
    if (!a.purposes.includes(purpose)) continue;
    if (a.starts_on > today || (a.ends_on !== null && a.ends_on < today)) continue;
    if (!a.party_ids.some((p) => viewer.partnerIds.includes(p))) continue;
    if (a.legal_basis === 'consent' && consent !== 'given') continue;
    return { agreementId: a.id, basis: a.legal_basis };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Dates

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * Dates as agencies' systems export them: 1985-03-07, 07/03/1985, 7-3-1985, 07.03.1985,
 * 7 Mar 1985, 7 March 1985. Day first, as in the UK. Returns YYYY-MM-DD or null.
 */
export function parseUkDate(input: string): string | null {
  const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
  let y: number, mo: number, d: number;
  let m = ISO_DATE.exec(text);
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text)))
    [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = /^(\d{1,2}) ([a-z]+) (\d{4})$/.exec(text))) {
    const idx = MONTHS.indexOf(m[2]!.slice(0, 3));
    if (
      idx < 0 ||
      !(
        m[2]!.length === 3 ||
        'january february march april may june july august september october november december'
          .split(' ')
          .includes(m[2]!)
      )
    )
      return null;
    [d, mo, y] = [Number(m[1]), idx + 1, Number(m[3])];
  } else return null;
  const iso = `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  return isIsoDate(iso) ? iso : null;
}

// ---------------------------------------------------------------------------------------------
// Costing

export interface UnitCost {
  code: string;
  label: string;
  pence: Pence;
  /** The price base the pence are in: a financial year named by its start (2013 = 2013/14). */
  priceBaseYear: number;
  agency: AgencyType;
  source: string;
}

/** Quantities of one event type: a family's events, or a GROUP BY over many. */
export interface EventQuantity {
  event_type: string;
  quantity: number;
}

export interface CostSummary {
  total: Pence;
  events: number;
  byAgency: Partial<Record<AgencyType, Pence>>;
  byType: Record<string, Pence>;
}

export function emptySummary(): CostSummary {
  return { total: 0, events: 0, byAgency: {}, byType: {} };
}

/** Adds quantities × unit costs into a summary; every unit cost must be known (the catalogue checks codes on entry). */
export function addCosts(
  summary: CostSummary,
  rows: readonly EventQuantity[],
  costs: ReadonlyMap<string, UnitCost>,
): CostSummary {
  for (const row of rows) {
    const unit = costs.get(row.event_type);
    assert(unit, `no unit cost for event type ${row.event_type}`);
    const amount = pence(unit.pence * row.quantity);
    summary.total = pence(summary.total + amount);
    summary.events += row.quantity;
    summary.byAgency[unit.agency] = pence((summary.byAgency[unit.agency] ?? 0) + amount);
    summary.byType[row.event_type] = pence((summary.byType[row.event_type] ?? 0) + amount);
  }
  return summary;
}

export function costOf(rows: readonly EventQuantity[], costs: ReadonlyMap<string, UnitCost>): CostSummary {
  return addCosts(emptySummary(), rows, costs);
}

/** Quantities of one event type in one financial year (named by the year it starts, 2024 = 2024/25). */
export interface YearQuantity extends EventQuantity {
  year: number;
}

/** What events over a period cost: the costed ones by bearing agency and by year, and those with no unit cost. */
export interface PeriodCost {
  /** Only the events that have a unit cost: `events` does not count the not costed ones. */
  cost: CostSummary;
  byYear: { year: number; label: string; cost: Pence }[];
  /** Events whose type has no unit cost in the catalogue: counted and listed, never priced at zero. */
  notCosted: EventQuantity[];
}

export function periodCost(rows: readonly YearQuantity[], costs: ReadonlyMap<string, UnitCost>): PeriodCost {
  const costed = rows.filter((r) => costs.has(r.event_type));
  const years = new Map<number, CostSummary>();
  for (const r of costed) years.set(r.year, addCosts(years.get(r.year) ?? emptySummary(), [r], costs));
  const notCosted = new Map<string, number>();
  for (const r of rows)
    if (!costs.has(r.event_type))
      notCosted.set(r.event_type, (notCosted.get(r.event_type) ?? 0) + r.quantity);
  return {
    cost: costOf(costed, costs),
    byYear: [...years]
      .sort(([a], [b]) => a - b)
      .map(([year, s]) => ({ year, label: financialYearLabel(year), cost: s.total })),
    notCosted: [...notCosted]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([event_type, quantity]) => ({ event_type, quantity })),
  };
}

/** A costing period [from, to): the first day counted and the first day after it. */
export interface CostPeriod {
  from: string;
  to: string;
}

/** Ten years at most, so one request's work stays bounded. */
export const MAX_COST_PERIOD_MONTHS = 120;

/** The default period: the twelve months to today, today included. */
export function lastTwelveMonths(today: string): CostPeriod {
  return { from: addMonths(today, -12), to: addDays(today, 1) };
}

export function validateCostPeriod(from: unknown, to: unknown): CostPeriod {
  const fields: FieldErrors = {};
  if (!isIsoDate(from)) fields.from = 'Enter the start date as a real day, like 2024-04-01';
  if (!isIsoDate(to)) fields.to = 'Enter the end date as a real day, like 2025-04-01';
  else if (isIsoDate(from) && to <= from) fields.to = 'The end date must be after the start date';
  else if (isIsoDate(from) && to > addMonths(from, MAX_COST_PERIOD_MONTHS))
    fields.to = 'The period can be at most 10 years';
  if (Object.keys(fields).length) throw new Invalid('Check the period to cost', fields);
  return { from: from as string, to: to as string };
}

export interface DatedEvent extends EventQuantity {
  occurred_on: string;
}

export interface BeforeAfter {
  /** The twelve months before the date taken on: [taken_on − 12 months, taken_on). */
  before: CostSummary;
  /** The twelve months from the date taken on: [taken_on, taken_on + 12 months). */
  after: CostSummary;
  window: { beforeFrom: string; takenOn: string; afterTo: string };
  /** (after − before) / before, in per cent to one decimal place; null when nothing was spent before. */
  changePct: number | null;
}

export function beforeAfter(
  events: readonly DatedEvent[],
  takenOn: string,
  costs: ReadonlyMap<string, UnitCost>,
): BeforeAfter {
  const beforeFrom = addMonths(takenOn, -12);
  const afterTo = addMonths(takenOn, 12);
  const before = costOf(
    events.filter((e) => e.occurred_on >= beforeFrom && e.occurred_on < takenOn),
    costs,
  );
  const after = costOf(
    events.filter((e) => e.occurred_on >= takenOn && e.occurred_on < afterTo),
    costs,
  );
  return {
    before,
    after,
    window: { beforeFrom, takenOn, afterTo },
    changePct: changePct(before.total, after.total),
  };
}

export function changePct(before: Pence, after: Pence): number | null {
  if (before === 0) return null;
  return Math.round(((after - before) / before) * 1000) / 10;
}

/** Uplifts an amount from one price base to another with a GDP deflator index, rounded to pence. */
export function uplift(amount: Pence, fromIndex: number, toIndex: number): Pence {
  assert(fromIndex > 0 && toIndex > 0, 'deflator indices are positive');
  return roundHalfAwayFromZero((amount * toIndex) / fromIndex);
}

// ---------------------------------------------------------------------------------------------
// Validation of what people type or upload

export interface NewFamily {
  reference: string;
  household_name: string;
  address: string;
  postcode: string;
  taken_on: string;
  status: FamilyStatus;
  lead_partner_id: number | null;
  /** The key worker who leads; null means the professional opening the record. */
  lead_professional_id: number | null;
  members: { name: string; date_of_birth: string | null; relationship: string }[];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** An id chosen from a list, or none: absent, null and a form's empty option all mean none. */
function optionalId(value: unknown): number | null {
  return value === undefined || value === null || value === '' ? null : Number(value);
}

export function validateNewFamily(input: Record<string, unknown>): NewFamily {
  const fields: FieldErrors = {};
  const reference = text(input.reference).toUpperCase();
  if (!/^[A-Z0-9-]{3,30}$/.test(reference))
    fields.reference = 'Enter a reference of 3 to 30 letters, digits or hyphens, like FAM-0012';
  const household_name = text(input.household_name);
  if (!household_name) fields.household_name = 'Enter the household’s name';
  else if (household_name.length > 200)
    fields.household_name = 'Household name must be 200 characters or fewer';
  const address = text(input.address);
  if (address.length > 500) fields.address = 'Address must be 500 characters or fewer';
  const postcode = text(input.postcode);
  if (postcode && !isFullPostcode(postcode)) fields.postcode = 'Enter a real postcode, like SE1 7PB';
  const taken_on = parseUkDate(text(input.taken_on));
  if (!taken_on) fields.taken_on = 'Enter the date the family was taken on, like 2013-04-01';
  const status = (text(input.status) || 'active') as FamilyStatus;
  if (!FAMILY_STATUSES.includes(status) || status === 'closed')
    fields.status = 'Select identified, assessment or active';
  const lead = optionalId(input.lead_partner_id);
  if (lead !== null && !Number.isSafeInteger(lead)) fields.lead_partner_id = 'Select the lead agency';
  const leadProfessional = optionalId(input.lead_professional_id);
  if (leadProfessional !== null && !Number.isSafeInteger(leadProfessional))
    fields.lead_professional_id = 'Select the lead professional';
  const rawMembers = Array.isArray(input.members) ? input.members : [];
  const members = rawMembers.slice(0, 30).map((m, i) => {
    const r = (m ?? {}) as Record<string, unknown>;
    const name = text(r.name);
    if (!name || name.length > 200) fields[`members.${i}.name`] = 'Enter the member’s name';
    const dobText = text(r.date_of_birth);
    const date_of_birth = dobText ? parseUkDate(dobText) : null;
    if (dobText && !date_of_birth)
      fields[`members.${i}.date_of_birth`] = 'Enter a date of birth, like 1985-03-07';
    const relationship = text(r.relationship) || 'member';
    if (relationship.length > 60)
      fields[`members.${i}.relationship`] = 'Relationship must be 60 characters or fewer';
    return { name, date_of_birth, relationship };
  });
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the family record', fields);
  return {
    reference,
    household_name,
    address,
    postcode: postcode ? formatPostcode(postcode) : '',
    taken_on: taken_on!,
    status,
    lead_partner_id: lead,
    lead_professional_id: leadProfessional,
    members,
  };
}

export interface NewAgreement {
  title: string;
  purposes: Purpose[];
  data_categories: DataCategory[];
  legal_basis: LegalBasis;
  starts_on: string;
  ends_on: string | null;
  party_ids: number[];
}

const list = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined || value === '' ? [] : [value]).map(String);

export function validateNewAgreement(input: Record<string, unknown>): NewAgreement {
  const fields: FieldErrors = {};
  const title = text(input.title);
  if (!title || title.length > 200) fields.title = 'Enter a title of up to 200 characters';
  const purposes = list(input.purposes);
  if (!purposes.length || !purposes.every((p) => PURPOSES.includes(p as Purpose)))
    fields.purposes = 'Select the purposes the agreement covers';
  const data_categories = list(input.data_categories);
  if (!data_categories.length || !data_categories.every((c) => DATA_CATEGORIES.includes(c as DataCategory)))
    fields.data_categories = 'Select the categories of data shared';
  const legal_basis = text(input.legal_basis) as LegalBasis;
  if (!LEGAL_BASES.includes(legal_basis)) fields.legal_basis = 'Select the legal basis for sharing';
  const starts_on = parseUkDate(text(input.starts_on));
  if (!starts_on) fields.starts_on = 'Enter the date the agreement starts';
  const endsText = text(input.ends_on);
  const ends_on = endsText ? parseUkDate(endsText) : null;
  if (endsText && !ends_on) fields.ends_on = 'Enter the date the agreement ends, or leave it blank';
  else if (starts_on && ends_on && ends_on < starts_on)
    fields.ends_on = 'The end date must be on or after the start date';
  const party_ids = list(input.party_ids).map(Number);
  if (party_ids.length < 1 || !party_ids.every(Number.isSafeInteger))
    fields.party_ids = 'Select the partners that are party to the agreement';
  if (Object.keys(fields).length)
    throw new Invalid('There is a problem with the data-sharing agreement', fields);
  return {
    title,
    purposes: [...new Set(purposes)] as Purpose[],
    data_categories: [...new Set(data_categories)] as DataCategory[],
    legal_basis,
    starts_on: starts_on!,
    ends_on,
    party_ids: [...new Set(party_ids)],
  };
}

export interface NewProfessional {
  partner_id: number;
  name: string;
  role: string;
}

/** A professional around the family: who they are, what they do, and the agency they work for. */
export function validateProfessional(input: Record<string, unknown>): NewProfessional {
  const fields: FieldErrors = {};
  const partner_id = optionalId(input.partner_id);
  if (partner_id === null || !Number.isSafeInteger(partner_id))
    fields.partner_id = 'Select the agency they work for';
  const name = text(input.name);
  if (!name || name.length > 200) fields.name = 'Enter the professional’s name, up to 200 characters';
  const role = text(input.role);
  if (!role || role.length > 100) fields.role = 'Enter their role, like Youth offending officer';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the professional', fields);
  return { partner_id: partner_id!, name, role };
}

/** The date an agreement ends, in any of the date forms people type. */
export function validateEndDate(input: unknown): string {
  const endsOn = parseUkDate(text(input));
  if (!endsOn)
    throw new Invalid('Enter the date the agreement ends', { ends_on: 'Enter a date, like 2014-03-31' });
  return endsOn;
}

export interface NewConsent {
  purpose: Purpose;
  state: 'given' | 'withdrawn';
  given_by: string;
  recorded_on: string;
}

export function validateNewConsent(input: Record<string, unknown>, today: string): NewConsent {
  const fields: FieldErrors = {};
  const purpose = text(input.purpose) as Purpose;
  if (!PURPOSES.includes(purpose)) fields.purpose = 'Select the purpose';
  const state = text(input.state);
  if (state !== 'given' && state !== 'withdrawn')
    fields.state = 'Select whether consent was given or withdrawn';
  const given_by = text(input.given_by);
  if (!given_by || given_by.length > 200) fields.given_by = 'Enter who gave or withdrew consent';
  const recorded_on = text(input.recorded_on) ? parseUkDate(text(input.recorded_on)) : today;
  if (!recorded_on) fields.recorded_on = 'Enter the date, like 2013-04-01';
  else if (recorded_on > today) fields.recorded_on = 'The date cannot be in the future';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the consent record', fields);
  return { purpose, state: state as 'given' | 'withdrawn', given_by, recorded_on: recorded_on! };
}

export interface NewEvent {
  event_type: string;
  occurred_on: string;
  quantity: number;
  note: string;
}

/** One event as typed or as one CSV line; `known` is the catalogue's event type codes. */
export function validateEvent(
  input: Record<string, unknown>,
  known: ReadonlySet<string>,
  today: string,
): { event?: NewEvent; fields: FieldErrors } {
  const fields: FieldErrors = {};
  const event_type = text(input.event_type);
  if (!known.has(event_type))
    fields.event_type = event_type ? `Unknown event type "${event_type}"` : 'Select the type of event';
  const occurred_on = parseUkDate(text(input.occurred_on));
  if (!occurred_on) fields.occurred_on = 'Enter the date of the event, like 2013-04-01';
  else if (occurred_on > today) fields.occurred_on = 'The date of the event cannot be in the future';
  const raw = typeof input.quantity === 'string' ? input.quantity.trim() : input.quantity;
  const quantity = raw === undefined || raw === null || raw === '' ? 1 : Number(raw);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000)
    fields.quantity = 'Enter a whole number from 1 to 1000';
  const note = text(input.note);
  if (note.length > 2000) fields.note = 'Note must be 2000 characters or fewer';
  if (Object.keys(fields).length) return { fields };
  return { event: { event_type, occurred_on: occurred_on!, quantity, note }, fields };
}

export const MAX_IMPORT_ROWS = 50_000;

export interface ImportedEvent extends NewEvent {
  line: number;
  family_reference: string;
}

/**
 * Checks every line of an agency's events CSV (already parsed into records keyed by header) and
 * returns all of them or throws one Invalid naming each bad line: nothing is saved unless all are good.
 */
export function validateEventRows(
  records: readonly Record<string, string>[],
  known: ReadonlySet<string>,
  references: ReadonlySet<string>,
  today: string,
): ImportedEvent[] {
  if (records.length === 0)
    throw new Invalid('The file has no events', { file: 'Upload a CSV file with at least one event' });
  if (records.length > MAX_IMPORT_ROWS)
    throw new Invalid(`The file has ${records.length} events; upload at most ${MAX_IMPORT_ROWS} at a time`, {
      file: 'Split the file',
    });
  const errors: FieldErrors = {};
  const out: ImportedEvent[] = [];
  records.forEach((record, i) => {
    const line = i + 2; // line 1 is the header
    const reference = text(record.family_reference).toUpperCase();
    const { event, fields } = validateEvent(record, known, today);
    if (!references.has(reference))
      fields.family_reference = reference
        ? `No family with reference ${reference}`
        : 'Enter the family reference';
    const reasons = Object.values(fields);
    if (reasons.length) errors[`line ${line}`] = reasons.join('; ');
    else out.push({ ...event!, line, family_reference: reference });
  });
  const bad = Object.keys(errors).length;
  if (bad)
    throw new Invalid(
      `${bad} line${bad === 1 ? '' : 's'} of the file could not be imported; nothing was saved`,
      errors,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Data matching: keyed hashes so one agency's identifiers are never shown to another

export function normaliseName(input: string): string {
  return input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’-]/g, '')
    .replace(/[^a-z\s]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface MatchingKey {
  keyId: string;
  secret: string;
}

function hmac(key: MatchingKey, text: string): string {
  return createHmac('sha256', key.secret).update(text).digest('hex');
}

/** A person: their normalised name and date of birth. */
export function personKey(key: MatchingKey, name: string, dateOfBirth: string): string {
  return hmac(key, `person|${normaliseName(name)}|${dateOfBirth}`);
}

/** A household: the postcode and the family name (the last word of the name), as lists seldom share an address format. */
export function householdKey(key: MatchingKey, name: string, postcode: string): string {
  const surname = normaliseName(name).split(' ').at(-1) ?? '';
  return hmac(key, `household|${normalisePostcode(postcode)}|${surname}`);
}

export interface MatchEntry {
  line: number;
  person_key: string;
  household_key: string;
  criteria: Criterion[];
}

/** Turns an agency list (name, date_of_birth, postcode, criteria separated by ; or |) into hashed entries, or names each bad line. */
export function hashMatchRows(records: readonly Record<string, string>[], key: MatchingKey): MatchEntry[] {
  if (records.length === 0)
    throw new Invalid('The list is empty', { file: 'Upload a CSV file with at least one person' });
  if (records.length > MAX_IMPORT_ROWS)
    throw new Invalid(`The list has ${records.length} people; upload at most ${MAX_IMPORT_ROWS}`, {
      file: 'Split the file',
    });
  const errors: FieldErrors = {};
  const out: MatchEntry[] = [];
  records.forEach((r, i) => {
    const line = i + 2;
    const reasons: string[] = [];
    const name = text(r.name);
    if (!normaliseName(name)) reasons.push('enter a name');
    const dob = parseUkDate(text(r.date_of_birth));
    if (!dob) reasons.push('enter a date of birth like 07/03/1985');
    const postcode = text(r.postcode);
    if (!isFullPostcode(postcode)) reasons.push('enter a real postcode');
    const criteria = text(r.criteria)
      .split(/[;|]/)
      .map((c) => c.trim().toLowerCase())
      .filter(Boolean);
    const unknown = criteria.filter((c) => !CRITERIA.includes(c as Criterion));
    if (!criteria.length) reasons.push('enter at least one criterion');
    if (unknown.length) reasons.push(`unknown criteria ${unknown.join(', ')} (use ${CRITERIA.join(', ')})`);
    if (reasons.length) errors[`line ${line}`] = reasons.join('; ');
    else
      out.push({
        line,
        person_key: personKey(key, name, dob!),
        household_key: householdKey(key, name, postcode),
        criteria: [...new Set(criteria)].sort() as Criterion[],
      });
  });
  const bad = Object.keys(errors).length;
  if (bad)
    throw new Invalid(
      `${bad} line${bad === 1 ? '' : 's'} of the list could not be read; nothing was saved`,
      errors,
    );
  return out;
}

/** The national programme's rule: a household meeting 2 or more of the criteria is proposed for assessment. */
export const DEFAULT_MATCH_THRESHOLD = 2;

export function validateMatchThreshold(input: unknown): number {
  const threshold = typeof input === 'string' ? Number(input.trim() || NaN) : Number(input);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > CRITERIA.length)
    throw new Invalid('There is a problem with the matching rule', {
      match_threshold: `Enter a whole number of criteria from 1 to ${CRITERIA.length}`,
    });
  return threshold;
}

export interface HouseholdProposal {
  household_key: string;
  criteria: Criterion[];
  people: number;
  lists: number;
}

/** Households whose people, across all agencies' lists, meet at least `threshold` different criteria. */
export function proposeHouseholds(
  entries: readonly (MatchEntry & { list_id: number })[],
  threshold: number,
): HouseholdProposal[] {
  assert(Number.isInteger(threshold) && threshold >= 1, 'a matching rule needs at least one criterion');
  const byHousehold = new Map<
    string,
    { criteria: Set<Criterion>; people: Set<string>; lists: Set<number> }
  >();
  for (const e of entries) {
    const h = byHousehold.get(e.household_key) ?? {
      criteria: new Set(),
      people: new Set(),
      lists: new Set(),
    };
    e.criteria.forEach((c) => h.criteria.add(c));
    h.people.add(e.person_key);
    h.lists.add(e.list_id);
    byHousehold.set(e.household_key, h);
  }
  return [...byHousehold.entries()]
    .filter(([, h]) => h.criteria.size >= threshold)
    .map(([household_key, h]) => ({
      household_key,
      criteria: [...h.criteria].sort(),
      people: h.people.size,
      lists: h.lists.size,
    }))
    .sort((a, b) => b.criteria.length - a.criteria.length || a.household_key.localeCompare(b.household_key));
}

export function isAgencyType(value: string): value is AgencyType {
  return (AGENCY_TYPES as readonly string[]).includes(value);
}

// ---------------------------------------------------------------------------------------------
// Outcome plans and payment by results

export function validateGoal(input: Record<string, unknown>): { outcome: Outcome; description: string } {
  const fields: FieldErrors = {};
  const outcome = text(input.outcome) as Outcome;
  if (!OUTCOMES.includes(outcome)) fields.outcome = 'Select the outcome';
  const description = text(input.description);
  if (!description || description.length > 500)
    fields.description = 'Describe the goal in up to 500 characters';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the goal', fields);
  return { outcome, description };
}

/** A claim is for a goal that has been met, with evidence, for a positive amount. */
export function validateClaim(input: { goal_status: string; amount: unknown; evidence: unknown }): {
  amount: Pence;
  evidence: string;
} {
  const fields: FieldErrors = {};
  if (input.goal_status !== 'met') fields.goal_id = 'Record the goal as met before claiming for it';
  const amount = Number(input.amount);
  if (!Number.isSafeInteger(amount) || amount <= 0) fields.amount = 'Enter the amount in pence, more than 0';
  const evidence = text(input.evidence);
  if (!evidence || evidence.length > 2000)
    fields.evidence = 'Describe the evidence that the result was achieved';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the claim', fields);
  return { amount, evidence };
}
