/** The roles a person can hold in a place (memberships, kept by src/places/, grant them). */
export const ROLES = [
  'admin',
  'finance',
  'partner_rep',
  'key_worker',
  'analyst',
  'resident',
  'observer',
] as const;
export type Role = (typeof ROLES)[number];

/** Roles that act for a partner agency, so adding one needs the partner too. */
export const PARTNER_ROLES: readonly Role[] = ['partner_rep', 'key_worker'];

/**
 * Roles that open families' personal data (key workers, partner reps) or move public money
 * (finance): separation of duties means someone else grants them, never the person themselves.
 * Nobody grants themselves any role at all on the web or the API (src/places/store.ts addMember).
 */
export const SEPARATED_ROLES: readonly Role[] = ['key_worker', 'partner_rep', 'finance'];

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Administrator – manages partners, people and the board’s record',
  finance: 'Finance – posts to the pooled budget',
  partner_rep: 'Partner representative – signs off for their agency and sees its statement',
  key_worker: 'Key worker – works with families for their agency',
  analyst: 'Analyst – builds business cases and reads the figures',
  resident: 'Resident – proposes and votes in participatory budgeting',
  observer: 'Observer – reads the place’s record',
};

/** What a person may do in a place, by role. Reading the place itself needs only membership. */
export const PERMISSIONS = {
  'place.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'resident', 'observer'],
  'partner.manage': ['admin'],
  'decision.record': ['admin'],
  'decision.sign_off': ['partner_rep'],
  'people.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  'people.manage': ['admin'],
  'audit.read': ['admin'],
  'ledger.read': ['admin', 'finance', 'analyst', 'observer'],
  'ledger.post': ['finance'],
  // A partner rep reads only their own partner's statement (checked where it is served).
  'ledger.statement': ['admin', 'finance', 'analyst', 'observer', 'partner_rep'],
  // Analysts and finance build business cases and local unit costs; the board (partner reps,
  // observers) reads them.
  'cba.read': ['admin', 'finance', 'partner_rep', 'analyst', 'observer'],
  'cba.edit': ['admin', 'finance', 'analyst'],
  // Families: personal data only ever for professionals, and then only under the access rule (src/families/domain.ts).
  'family.read': ['key_worker', 'partner_rep'],
  'family.manage': ['key_worker', 'partner_rep'],
  'family.cohort': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  'family.agreements': ['admin'],
  'family.erase': ['admin'],
  'family.match': ['admin', 'analyst', 'partner_rep'],
  'family.claims.decide': ['admin', 'finance'],
  'family.settings': ['admin'],
  'outcomes.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'resident', 'observer'],
  'outcomes.manage': ['admin', 'analyst'],
  'dashboard.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  // The service map and published spend are not personal data: everyone working on the budget reads them.
  'services.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  'services.manage': ['admin', 'analyst'],
  'spend.import': ['admin', 'finance'],
  'network.publish': ['admin', 'analyst'],
  'network.share': ['admin'],
  // Participatory budgeting: every member sees processes and published results; residents (and
  // community groups through them) propose and vote; council staff run the process.
  'pb.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'resident', 'observer'],
  'pb.propose': ['resident'],
  'pb.vote': ['resident'],
  'pb.manage': ['admin', 'finance'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(roles: readonly Role[], permission: Permission): boolean {
  const granted: readonly Role[] = PERMISSIONS[permission];
  return roles.some((role) => granted.includes(role));
}

export const SESSION_COOKIE = 'pb_session';
