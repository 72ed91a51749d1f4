import type { Tx } from '../core/db.ts';
import { Conflict } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { createAccounts } from '../ledger/accounts.ts';
import { raiseCommitment } from '../ledger/commitments.ts';
import { type Actor } from '../ledger/domain.ts';
import { PB_ACCOUNTS } from '../pb/domain.ts';
import type { PotFunds } from '../pb/funds.ts';
import { todayIso } from '../core/dates.ts';

async function potAccount(tx: Tx, placeId: number): Promise<{ id: number; code: string } | undefined> {
  return tx
    .selectFrom('ledger_accounts')
    .select(['id', 'code'])
    .where('place_id', '=', placeId)
    .where('kind', '=', 'pot')
    .orderBy('code')
    .executeTakeFirst();
}

/** Opens the PB commitment and spend accounts if this place has not got them yet. */
async function ensurePbAccounts(tx: Tx, placeId: number, actor: Actor): Promise<void> {
  const have = await tx
    .selectFrom('ledger_accounts')
    .select('code')
    .where('place_id', '=', placeId)
    .where('code', 'in', Object.values(PB_ACCOUNTS))
    .execute();
  const missing = [
    {
      code: PB_ACCOUNTS.commitment,
      name: 'Participatory budgeting commitments',
      kind: 'commitment' as const,
    },
    { code: PB_ACCOUNTS.spend, name: 'Participatory budgeting spend', kind: 'spend' as const },
  ].filter((a) => !have.some((h) => h.code === a.code));
  if (missing.length)
    await createAccounts(
      tx,
      placeId,
      missing.map((a) => ({ ...a, partner_id: null, service: 'Participatory budgeting' })),
      actor,
    );
}

/**
 * Participatory budgeting meets the ledger (the ledger's side of src/pb/funds.ts).
 * The neighbourhood pot as the ledger keeps it: the available balance is the pot account's
 * balance (money neither allocated, committed nor spent), and a winner's money is a ledger
 * commitment from the pot, which the ledger refuses beyond that balance under a row lock.
 */
export function ledgerPotFunds(actor: Actor, today: () => string = () => todayIso()): PotFunds {
  return {
    async available(tx, placeId): Promise<Pence> {
      const pot = await potAccount(tx, placeId);
      if (!pot) return pence(0);
      const row = await tx
        .selectFrom('ledger_balances')
        .select('balance_pence')
        .where('place_id', '=', placeId)
        .where('account_id', '=', pot.id)
        .executeTakeFirst();
      return pence(Math.max(0, row?.balance_pence ?? 0));
    },
    async commit(tx, placeId, projectId, amount, memo): Promise<number> {
      const pot = await potAccount(tx, placeId);
      if (!pot) throw new Conflict('This place has no pot in its ledger to fund the winners from');
      await ensurePbAccounts(tx, placeId, actor);
      const row = await raiseCommitment(
        tx,
        placeId,
        {
          key: `pb-proposal-${projectId}`,
          date: today(),
          source: pot.code,
          commitment_account: PB_ACCOUNTS.commitment,
          amount_pence: amount,
          description: memo,
        },
        actor,
      );
      return row.id;
    },
  };
}
