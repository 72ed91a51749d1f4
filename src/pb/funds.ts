import type { Transaction } from 'kysely';
import { Conflict } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import type { DB } from '../core/schema.ts';
import type { CountResult } from './rules.ts';

/**
 * Where participatory budgeting touches the neighbourhood pot. The ledger (issue 3) implements
 * this; PB only asks what is available and raises commitments, inside the caller's transaction,
 * so opening a process or publishing results and the ledger postings commit together or not at all.
 */
export interface PotFunds {
  /** The pot's available balance (money neither spent nor committed) for the place. */
  available(tx: Transaction<DB>, placeId: number): Promise<Pence>;
  /**
   * Raises a commitment for a winning project and answers the ledger's id for it; the ledger
   * refuses one larger than the available balance.
   */
  commit(
    tx: Transaction<DB>,
    placeId: number,
    projectId: number,
    amount: Pence,
    memo: string,
  ): Promise<number>;
}

/**
 * What the PB plugins are given by src/app.ts (built in src/wiring/): the pot, for the person
 * acting (and, for the demo, a fixed today).
 */
export interface PbPorts {
  potFunds(actor: { personId: number | null }, today?: () => string): PotFunds;
}

/** A process cannot be opened with a budget larger than the pot's available balance. */
export async function assertBudgetAvailable(
  funds: PotFunds,
  tx: Transaction<DB>,
  placeId: number,
  budget: Pence,
): Promise<void> {
  const available = await funds.available(tx, placeId);
  if (pence(budget) > available)
    throw new Conflict('The budget is more than the {available} available in the neighbourhood pot', {
      available,
    });
}

export interface Commitment {
  /** The project's id in the count, as written in the process (our proposal ids). */
  projectId: string;
  amount: Pence;
  memo: string;
}

/** The commitments publishing a result raises: one per winner, for its (council-checked) cost, in selection order. */
export function commitmentsFor(
  result: Pick<CountResult, 'rule' | 'winners'> & { projects: { id: string; cost: number }[] },
  processTitle: string,
): Commitment[] {
  const cost = new Map(result.projects.map((p) => [p.id, p.cost]));
  return result.winners.map((id, i) => ({
    projectId: id,
    amount: pence(cost.get(id)!),
    memo: `${processTitle}: winner ${i + 1} of ${result.winners.length} (${result.rule})`,
  }));
}
