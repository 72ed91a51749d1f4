/** Sealed ballots: at the close each ballot's content loses its voter (see advancePhase), and imported ballots are stored sealed. */
import { randomBytes } from 'node:crypto';
import type { Tx } from '../core/db.ts';

/**
 * The close: each ballot's content moves to pb_sealed_ballots under a random id, written in
 * content order, and the ballots with voters are deleted; only the register of who voted stays.
 */
export async function sealBallots(tx: Tx, placeId: number, processId: number): Promise<number> {
  const pending = await tx
    .selectFrom('pb_ballots')
    .select(['projects', 'points'])
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .execute();
  await insertSealed(tx, placeId, processId, pending);
  await tx
    .deleteFrom('pb_ballots')
    .where('place_id', '=', placeId)
    .where('process_id', '=', processId)
    .execute();
  return pending.length;
}

/** Compares ballots by content only: projects, then points. */
export function byContent(
  a: { projects: number[]; points: number[] | null },
  b: { projects: number[]; points: number[] | null },
): number {
  const arrays = (x: number[], y: number[]) => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  return arrays(a.projects, b.projects) || arrays(a.points ?? [], b.points ?? []);
}

export async function insertSealed(
  tx: Tx,
  placeId: number,
  processId: number,
  ballots: { projects: number[]; points: number[] | null }[],
) {
  const rows = [...ballots].sort(byContent).map((b) => ({
    place_id: placeId,
    process_id: processId,
    id: randomBytes(16).toString('hex'),
    projects: b.projects,
    points: b.points,
  }));
  for (let i = 0; i < rows.length; i += 1000)
    await tx
      .insertInto('pb_sealed_ballots')
      .values(rows.slice(i, i + 1000))
      .execute();
}
