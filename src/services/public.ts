/** What the service map offers the other capabilities: spend classifies its lines to these services. */
export { findService, listServices, poundsNumber, type ServiceView } from './store.ts';
