/**
 * What other capabilities may ask the places capability, and the one home of the question most of
 * them ask: "is this partner / decision one of this place's?". Everything here runs in the caller's
 * transaction (behind row-level security for the place) and reads only places' own tables, so no
 * other capability queries `partners` or `decisions` itself.
 */
import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';

export { findPlaceBySlug, listDecisions, listPartners, type DecisionView, type PartnerRow } from './store.ts';

/** The ids among `ids` that are partners of the place. */
export async function partnersOfPlace(tx: Tx, placeId: number, ids: readonly number[]): Promise<Set<number>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Set();
  const rows = await tx
    .selectFrom('partners')
    .select('id')
    .where('place_id', '=', placeId)
    .where('id', 'in', wanted)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/**
 * Refuses ids that are not all partners of the place, with the caller's error: `message` for the
 * summary and `fields` (one per form field) for the fields. No ids is nothing to check.
 */
export async function assertPartnersOfPlace(
  tx: Tx,
  placeId: number,
  ids: readonly number[],
  message: string,
  fields: Record<string, string>,
): Promise<void> {
  if (ids.length === 0) return;
  const found = await partnersOfPlace(tx, placeId, ids);
  if (found.size !== new Set(ids).size) throw new Invalid(message, fields);
}

/** One partner of the place by id (its name for a heading), or undefined when it is not the place's. */
export async function partnerOfPlace(
  tx: Tx,
  placeId: number,
  partnerId: number,
): Promise<{ id: number; name: string } | undefined> {
  return tx
    .selectFrom('partners')
    .select(['id', 'name'])
    .where('place_id', '=', placeId)
    .where('id', '=', partnerId)
    .executeTakeFirst();
}

/** The partner of the place with this name, exactly, or ignoring case (a file's "body" column). */
export async function partnerNamed(
  tx: Tx,
  placeId: number,
  name: string,
  options: { ignoreCase?: boolean } = {},
): Promise<number | undefined> {
  const row = await tx
    .selectFrom('partners')
    .select('id')
    .where('place_id', '=', placeId)
    .where((eb) =>
      options.ignoreCase ? eb(eb.fn('lower', ['name']), '=', name.toLowerCase()) : eb('name', '=', name),
    )
    .executeTakeFirst();
  return row?.id;
}

/** How many partners the place has. */
export async function countPartners(tx: Tx, placeId: number): Promise<number> {
  const { n } = await tx
    .selectFrom('partners')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('place_id', '=', placeId)
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** A board decision of the place, with when the board agreed it (null while sign-offs are outstanding). */
export async function decisionOfPlace(
  tx: Tx,
  placeId: number,
  decisionId: number,
): Promise<
  | { id: number; title: string; agreed_at: Date | null; kind: string; financial_year: number | null }
  | undefined
> {
  return tx
    .selectFrom('decisions')
    .select(['id', 'title', 'agreed_at', 'kind', 'financial_year'])
    .where('place_id', '=', placeId)
    .where('id', '=', decisionId)
    .executeTakeFirst();
}

/** The ids among `ids` that are board decisions of the place. */
export async function decisionsOfPlace(
  tx: Tx,
  placeId: number,
  ids: readonly number[],
): Promise<Set<number>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Set();
  const rows = await tx
    .selectFrom('decisions')
    .select('id')
    .where('place_id', '=', placeId)
    .where('id', 'in', wanted)
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** The place's board decisions, newest first, for a form's select. */
export async function decisionChoices(tx: Tx, placeId: number): Promise<{ id: number; title: string }[]> {
  return tx
    .selectFrom('decisions')
    .select(['id', 'title'])
    .where('place_id', '=', placeId)
    .orderBy('id', 'desc')
    .execute();
}
