import { Invalid } from '../core/errors.ts';
import type { PotIncome } from '../families/income.ts';
import { balancedTransaction } from '../ledger/domain.ts';
import { listAccounts } from '../ledger/accounts.ts';
import { postTransactions } from '../ledger/postings.ts';
import { todayIso } from '../core/dates.ts';

/**
 * Families meet the ledger (the ledger's side of src/families/income.ts). Payment-by-results money arriving in the pot: the pot is debited and the place's income account
 * credited, keyed by the claim so approving it can never post twice.
 */
export const ledgerPotIncome: PotIncome = {
  async postClaim(tx, claim) {
    const accounts = await listAccounts(tx, claim.placeId);
    const pot = accounts.find((a) => a.kind === 'pot');
    const income = accounts.find((a) => a.kind === 'income');
    if (!pot || !income) {
      throw new Invalid(
        'The pooled budget needs a pot account and an income account before a claim can be paid into it',
        {
          decision: 'Ask finance to set up the ledger’s pot and income accounts',
        },
      );
    }
    const [posted] = await postTransactions(
      tx,
      claim.placeId,
      [
        balancedTransaction({
          key: `pbr-claim-${claim.claimId}`,
          date: todayIso(),
          memo: `Payment by results: family ${claim.familyReference}, claim ${claim.claimId}`,
          postings: [
            { account: pot.code, amount_pence: claim.amount },
            { account: income.code, amount_pence: -claim.amount },
          ],
        }),
      ],
      { kind: 'general', actor: { personId: claim.approvedBy } },
    );
    return `transaction:${posted!.id}`;
  },
};
