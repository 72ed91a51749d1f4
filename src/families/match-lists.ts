import { type Tx } from '../core/db.ts';
import { appendAudit } from '../audit/public.ts';
import { DEFAULT_MATCH_THRESHOLD, proposeHouseholds, type Criterion, type MatchEntry } from './domain.ts';
import { type Actor, assertPartnersOfPlace } from './access.ts';
import { INSERT_CHUNK } from './events.ts';

/** Data matching: agencies' hashed lists, stale lists after a key rotation, the place's rule and the proposals. */

// ---------------------------------------------------------------------------------------------
// Data matching

export async function saveMatchList(
  tx: Tx,
  placeId: number,
  partnerId: number,
  keyId: string,
  entries: readonly MatchEntry[],
  actor: Actor,
): Promise<number> {
  await assertPartnersOfPlace(tx, placeId, [partnerId], 'partner_id');
  const list = await tx
    .insertInto('family_match_lists')
    .values({
      place_id: placeId,
      partner_id: partnerId,
      key_id: keyId,
      rows: entries.length,
      uploaded_by: actor.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
    await tx
      .insertInto('family_match_entries')
      .values(
        entries.slice(i, i + INSERT_CHUNK).map((e) => ({
          place_id: placeId,
          list_id: list.id,
          line: e.line,
          person_key: e.person_key,
          household_key: e.household_key,
          criteria: e.criteria,
        })),
      )
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.match.upload',
    subject: `partner:${partnerId}`,
    detail: { list_id: list.id, rows: entries.length, key_id: keyId },
  });
  return list.id;
}

/** Lists hashed with another key than `keyId` (stale after a rotation); erased too when `erase` is set. */
export async function staleMatchLists(
  tx: Tx,
  placeId: number,
  keyId: string,
  erase: boolean,
  actor: { personId: number | null },
): Promise<number> {
  const stale = await tx
    .selectFrom('family_match_lists')
    .select('id')
    .where('place_id', '=', placeId)
    .where('key_id', '<>', keyId)
    .execute();
  const ids = stale.map((l) => l.id);
  if (erase && ids.length) {
    await tx
      .deleteFrom('family_match_entries')
      .where('place_id', '=', placeId)
      .where('list_id', 'in', ids)
      .execute();
    await tx
      .deleteFrom('family_match_lists')
      .where('place_id', '=', placeId)
      .where('id', 'in', ids)
      .execute();
  }
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.match.rotate',
    subject: `matching_key:${keyId}`,
    detail: { stale_lists: ids.length, erased: erase ? ids.length : 0 },
  });
  return ids.length;
}

/** The place's matching rule: how many different criteria make a household one to propose. */
export async function matchThreshold(tx: Tx, placeId: number): Promise<number> {
  const row = await tx
    .selectFrom('family_settings')
    .select('match_threshold')
    .where('place_id', '=', placeId)
    .executeTakeFirst();
  return row?.match_threshold ?? DEFAULT_MATCH_THRESHOLD;
}

export async function setMatchThreshold(
  tx: Tx,
  placeId: number,
  threshold: number,
  actor: Actor,
): Promise<void> {
  const was = await matchThreshold(tx, placeId);
  await tx
    .insertInto('family_settings')
    .values({ place_id: placeId, match_threshold: threshold, updated_by: actor.personId })
    .onConflict((oc) =>
      oc
        .column('place_id')
        .doUpdateSet({ match_threshold: threshold, updated_by: actor.personId, updated_at: new Date() }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'family.settings',
    subject: 'family_settings',
    detail: { match_threshold: threshold, was },
  });
}

/** Households proposed for assessment under the place's rule, matched only across lists hashed with the current key. */
export async function matchProposals(tx: Tx, placeId: number, keyId: string) {
  const threshold = await matchThreshold(tx, placeId);
  const lists = await tx
    .selectFrom('family_match_lists')
    .innerJoin('partners', (j) =>
      j
        .onRef('partners.place_id', '=', 'family_match_lists.place_id')
        .onRef('partners.id', '=', 'family_match_lists.partner_id'),
    )
    .select([
      'family_match_lists.id',
      'family_match_lists.key_id',
      'family_match_lists.rows',
      'family_match_lists.uploaded_at',
      'partners.name as partner_name',
    ])
    .where('family_match_lists.place_id', '=', placeId)
    .orderBy('family_match_lists.id')
    .execute();
  const current = lists.filter((l) => l.key_id === keyId).map((l) => l.id);
  const entries = current.length
    ? await tx
        .selectFrom('family_match_entries')
        .select(['list_id', 'line', 'person_key', 'household_key', 'criteria'])
        .where('place_id', '=', placeId)
        .where('list_id', 'in', current)
        .execute()
    : [];
  return {
    threshold,
    lists: lists.map((l) => ({ ...l, stale: l.key_id !== keyId })),
    proposals: proposeHouseholds(
      entries.map((e) => ({ ...e, criteria: e.criteria as Criterion[] })),
      threshold,
    ),
  };
}
