/** What the pb API modules (and pages) share: parameter schemas, the actor, and which proposals a member sees. */
import { allows } from '../auth/domain.ts';
import { type PlaceContext } from '../places/scope.ts';
import { type ProposalRow } from './process-store.ts';
import { id, penceAmount, text as str } from '../core/json-schema.ts';

export const pence = penceAmount(100_000_000_000);
export const processParams = {
  type: 'object',
  properties: { slug: str(60), id },
  required: ['slug', 'id'],
} as const;
export const proposalParams = {
  type: 'object',
  properties: { slug: str(60), id, proposal: id },
  required: ['slug', 'id', 'proposal'],
} as const;

export const actor = (place: PlaceContext) => ({ personId: place.person.id });

/** What a member sees of proposals: staff see everything; others see what moderation published. */
export function visibleProposals(place: PlaceContext, proposals: ProposalRow[]): ProposalRow[] {
  if (allows(place.roles, 'pb.manage')) return proposals;
  return proposals.filter((p) => p.moderation === 'published' || p.proposed_by === place.person.id);
}
