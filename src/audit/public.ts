/** What other capabilities may use of the audit trail: append an entry in their transaction, list a place's. */
export { appendAudit, listPlaceAudit, type AuditInput, type AuditListing } from './store.ts';
