import { assert, Invalid, type FieldErrors } from '../core/errors.ts';
import { PARTNER_ROLES, ROLES, type Role } from '../auth/domain.ts';

export const PLACE_KINDS = ['whole_place', 'neighbourhood'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

export const AGENCY_TYPES = [
  'council',
  'police',
  'health',
  'dwp',
  'probation',
  'fire',
  'housing',
  'education',
  'voluntary',
] as const;
export type AgencyType = (typeof AGENCY_TYPES)[number];

export const AGENCY_LABELS: Record<AgencyType, string> = {
  council: 'Council',
  police: 'Police',
  health: 'Health (NHS)',
  dwp: 'DWP / Jobcentre Plus',
  probation: 'Probation',
  fire: 'Fire and rescue',
  housing: 'Housing',
  education: 'Education',
  voluntary: 'Voluntary and community',
};

export const SIGN_OFF_RULES = ['all', 'majority', 'two_thirds'] as const;
export type SignOffRule = (typeof SIGN_OFF_RULES)[number];

export const SIGN_OFF_RULE_LABELS: Record<SignOffRule, string> = {
  all: 'All partners sign off',
  majority: 'More than half of the partners sign off',
  two_thirds: 'At least two thirds of the partners sign off',
};

/** How many sign-offs a rule needs from a board of `partners` partners. */
export function signOffsNeeded(rule: SignOffRule, partners: number): number {
  assert(Number.isInteger(partners) && partners >= 0, 'partner count is a whole number');
  if (partners === 0) return 1; // a board with no partners cannot agree anything by itself
  switch (rule) {
    case 'all':
      return partners;
    case 'majority':
      return Math.floor(partners / 2) + 1;
    case 'two_thirds':
      return Math.ceil((partners * 2) / 3);
  }
}

export interface SignOffState {
  needed: number;
  given: number;
  met: boolean;
  /** Partners still to sign off, for the board's page. */
  outstanding: number[];
}

/** Whether the sign-offs given by these partners meet the rule, counting only current partners. */
export function signOffState(rule: SignOffRule, partnerIds: number[], signedBy: number[]): SignOffState {
  const partners = new Set(partnerIds);
  const signed = new Set(signedBy.filter((id) => partners.has(id)));
  const needed = signOffsNeeded(rule, partners.size);
  return {
    needed,
    given: signed.size,
    met: signed.size >= needed,
    outstanding: partnerIds.filter((id) => !signed.has(id)),
  };
}

export interface NewPartner {
  name: string;
  agency_type: AgencyType;
}

/** Validates what someone typed to add a partner; messages follow the GOV.UK style guide. */
export function validateNewPartner(input: { name?: unknown; agency_type?: unknown }): NewPartner {
  const fields: FieldErrors = {};
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name) fields.name = 'Enter the partner’s name';
  else if (name.length > 200) fields.name = 'Partner name must be 200 characters or fewer';
  const type = input.agency_type;
  if (!AGENCY_TYPES.includes(type as AgencyType)) fields.agency_type = 'Select the type of agency';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the partner', fields);
  return { name, agency_type: type as AgencyType };
}

/** `period_reopen`: the board re-opens one closed financial year (named by `financial_year`), once. */
export const DECISION_KINDS = ['general', 'period_reopen'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export interface NewDecision {
  title: string;
  description: string;
  sign_off_rule: SignOffRule;
  signed_off_by: number[];
  kind?: DecisionKind;
  financial_year?: number | null;
}

export function validateNewDecision(input: {
  title?: unknown;
  description?: unknown;
  sign_off_rule?: unknown;
  signed_off_by?: unknown;
  kind?: unknown;
  financial_year?: unknown;
}): NewDecision {
  const fields: FieldErrors = {};
  const title = typeof input.title === 'string' ? input.title.trim() : '';
  if (!title) fields.title = 'Enter what the board decided';
  else if (title.length > 200) fields.title = 'Decision title must be 200 characters or fewer';
  const description = typeof input.description === 'string' ? input.description.trim() : '';
  if (description.length > 5000) fields.description = 'Description must be 5,000 characters or fewer';
  const rule = input.sign_off_rule;
  if (!SIGN_OFF_RULES.includes(rule as SignOffRule)) fields.sign_off_rule = 'Select the sign-off rule';
  const raw = input.signed_off_by === undefined ? [] : [input.signed_off_by].flat();
  const signed = raw.map(Number);
  if (!signed.every((id) => Number.isSafeInteger(id) && id > 0)) {
    fields.signed_off_by = 'Select partners from the list';
  }
  const kind = (input.kind === undefined || input.kind === '' ? 'general' : input.kind) as DecisionKind;
  if (!DECISION_KINDS.includes(kind)) fields.kind = 'Select what the decision is for';
  const rawYear =
    input.financial_year === undefined || input.financial_year === '' ? null : Number(input.financial_year);
  if (
    kind === 'period_reopen' &&
    (rawYear === null || !Number.isInteger(rawYear) || rawYear < 1990 || rawYear > 2100)
  )
    fields.financial_year = 'Enter the financial year the decision re-opens, like 2012 for 2012/13';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the decision', fields);
  return {
    title,
    description,
    sign_off_rule: rule as SignOffRule,
    signed_off_by: [...new Set(signed)],
    kind,
    financial_year: kind === 'period_reopen' ? rawYear : null,
  };
}

/** RFC 5321 limits a path to 256 octets, so an address is at most 254 characters. */
export const MAX_EMAIL_LENGTH = 254;

export interface NewMember {
  email: string;
  name: string;
  role: Role;
  partner_id: number | null;
}

export function validateNewMember(input: {
  email?: unknown;
  name?: unknown;
  role?: unknown;
  partner_id?: unknown;
}): NewMember {
  const fields: FieldErrors = {};
  const email = typeof input.email === 'string' ? input.email.trim().toLowerCase() : '';
  if (!email) fields.email = 'Enter their email address';
  // The length first: the pattern then runs on at most 254 characters.
  else if (email.length > MAX_EMAIL_LENGTH || !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email)) {
    fields.email = 'Enter an email address in the correct format, like name@example.org';
  }
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name) fields.name = 'Enter their full name';
  else if (name.length > 200) fields.name = 'Name must be 200 characters or fewer';
  const role = input.role as Role;
  if (!ROLES.includes(role)) fields.role = 'Select their role in this place';
  const partnerRaw =
    input.partner_id === '' || input.partner_id === undefined || input.partner_id === null
      ? null
      : Number(input.partner_id);
  if (partnerRaw !== null && !(Number.isSafeInteger(partnerRaw) && partnerRaw > 0))
    fields.partner_id = 'Select a partner from the list';
  else if (PARTNER_ROLES.includes(role) && partnerRaw === null)
    fields.partner_id = 'Select the partner they work for';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the person', fields);
  return { email, name, role, partner_id: PARTNER_ROLES.includes(role) ? partnerRaw : null };
}
