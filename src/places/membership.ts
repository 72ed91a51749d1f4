import type { Database } from '../core/db.ts';
import type { Role } from '../auth/domain.ts';
import type { PlaceKind } from './domain.ts';

export interface PlaceMembership {
  id: number;
  slug: string;
  name: string;
  kind: PlaceKind;
  roles: Role[];
  partnerIds: number[];
}

/**
 * The place and the person's roles in it, in one query; undefined when the place does not exist
 * or the person is not a member, which callers must answer identically (404).
 */
export async function membershipBySlug(
  db: Database,
  personId: number,
  slug: string,
): Promise<PlaceMembership | undefined> {
  const rows = await db.kysely
    .selectFrom('places')
    .innerJoin('memberships', 'memberships.place_id', 'places.id')
    .select([
      'places.id',
      'places.slug',
      'places.name',
      'places.kind',
      'memberships.role',
      'memberships.partner_id',
    ])
    .where('places.slug', '=', slug)
    .where('memberships.person_id', '=', personId)
    .execute();
  const first = rows[0];
  if (!first) return undefined;
  return {
    id: first.id,
    slug: first.slug,
    name: first.name,
    kind: first.kind,
    roles: rows.map((r) => r.role),
    partnerIds: [...new Set(rows.flatMap((r) => (r.partner_id === null ? [] : [r.partner_id])))],
  };
}
