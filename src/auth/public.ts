/**
 * What other capabilities may use of auth besides roles and permissions (domain.ts) and the
 * signed-in person (plugin.ts): passwords, invitations and ending someone's sessions.
 */
export { hashPassword, validateNewPassword, verifyPassword } from './password.ts';
export { createInvitation, endSessionsIfNoRoles, revokeAllSessions, type SessionPerson } from './store.ts';
export { spendBudget, startExport, LIMITS, type LimitKind } from './limits.ts';
