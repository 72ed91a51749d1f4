import type { Role } from '../places/domain.ts';

/** What a person may do in a place, by role. Reading the place itself needs only membership. */
export const PERMISSIONS = {
  'place.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'resident', 'observer'],
  'partner.manage': ['admin'],
  'decision.record': ['admin'],
  'decision.sign_off': ['admin', 'partner_rep'],
  'people.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  'audit.read': ['admin'],
  'outcomes.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'resident', 'observer'],
  'outcomes.manage': ['admin', 'analyst'],
  'dashboard.read': ['admin', 'finance', 'partner_rep', 'key_worker', 'analyst', 'observer'],
  'network.publish': ['admin', 'analyst'],
  'network.share': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(roles: readonly Role[], permission: Permission): boolean {
  const granted: readonly Role[] = PERMISSIONS[permission];
  return roles.some((role) => granted.includes(role));
}

export const SESSION_COOKIE = 'pb_session';
