import { type Tx } from '../core/db.ts';
import { Invalid, NotFound } from '../core/errors.ts';
import { validateClaim } from './domain.ts';
import type { PotIncome } from './income.ts';
import { type Actor, type FamilyViewer, auditFamily, requireAccess } from './access.ts';
import { goalOf } from './record.ts';

/** Payment-by-results claims on met goals: made, listed, approved (posted to the pot) or rejected. */

// ---------------------------------------------------------------------------------------------
// Payment by results

export async function makeClaim(
  tx: Tx,
  placeId: number,
  familyId: number,
  goalId: number,
  input: { amount: unknown; evidence: unknown },
  viewer: FamilyViewer,
  today: string,
) {
  await requireAccess(tx, placeId, familyId, viewer, 'case_work', today);
  const goal = await goalOf(tx, placeId, familyId, goalId);
  const claim = validateClaim({ goal_status: goal.status, ...input });
  const clash = await tx
    .selectFrom('family_claims')
    .select('id')
    .where('place_id', '=', placeId)
    .where('goal_id', '=', goalId)
    .where('status', '<>', 'rejected')
    .executeTakeFirst();
  if (clash)
    throw new Invalid('This goal has already been claimed for', { goal_id: 'A goal is paid for once' });
  await tx
    .deleteFrom('family_claims')
    .where('place_id', '=', placeId)
    .where('goal_id', '=', goalId)
    .where('status', '=', 'rejected')
    .execute();
  const row = await tx
    .insertInto('family_claims')
    .values({
      place_id: placeId,
      family_id: familyId,
      goal_id: goalId,
      ...claim,
      claimed_by: viewer.personId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await auditFamily(tx, placeId, familyId, viewer, 'family.claim', {
    claim_id: row.id,
    goal_id: goalId,
    amount: claim.amount,
  });
  return row.id;
}

export async function listClaims(tx: Tx, placeId: number) {
  return tx
    .selectFrom('family_claims')
    .innerJoin('families', (j) =>
      j
        .onRef('families.place_id', '=', 'family_claims.place_id')
        .onRef('families.id', '=', 'family_claims.family_id'),
    )
    .innerJoin('family_goals', (j) =>
      j
        .onRef('family_goals.place_id', '=', 'family_claims.place_id')
        .onRef('family_goals.id', '=', 'family_claims.goal_id'),
    )
    .select([
      'family_claims.id',
      'families.reference',
      'family_goals.outcome',
      'family_claims.amount',
      'family_claims.status',
      'family_claims.claimed_at',
      'family_claims.posting_ref',
    ])
    .where('family_claims.place_id', '=', placeId)
    .orderBy('family_claims.id', 'desc')
    .execute();
}

/** Approves (and posts to the pot through the ledger) or rejects a claim, once. */
export async function decideClaim(
  tx: Tx,
  placeId: number,
  claimId: number,
  decision: 'approved' | 'rejected',
  actor: Actor,
  income: PotIncome,
) {
  const claim = await tx
    .selectFrom('family_claims')
    .innerJoin('families', (j) =>
      j
        .onRef('families.place_id', '=', 'family_claims.place_id')
        .onRef('families.id', '=', 'family_claims.family_id'),
    )
    .select([
      'family_claims.id',
      'family_claims.status',
      'family_claims.amount',
      'family_claims.family_id',
      'families.reference',
    ])
    .where('family_claims.place_id', '=', placeId)
    .where('family_claims.id', '=', claimId)
    .forUpdate()
    .executeTakeFirst();
  if (!claim) throw new NotFound('Claim not found');
  if (claim.status !== 'claimed')
    throw new Invalid(`This claim has already been ${claim.status}`, { status: `Already ${claim.status}` });
  const postingRef =
    decision === 'approved'
      ? await income.postClaim(tx, {
          placeId,
          claimId,
          familyReference: claim.reference,
          amount: claim.amount,
          approvedBy: actor.personId,
        })
      : null;
  await tx
    .updateTable('family_claims')
    .set({ status: decision, decided_by: actor.personId, decided_at: new Date(), posting_ref: postingRef })
    .where('place_id', '=', placeId)
    .where('id', '=', claimId)
    .execute();
  await auditFamily(tx, placeId, claim.family_id, actor, `family.claim.${decision}`, {
    claim_id: claimId,
    amount: claim.amount,
    posting_ref: postingRef,
  });
  return { id: claimId, status: decision, posting_ref: postingRef };
}
