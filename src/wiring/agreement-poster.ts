/** Cost-benefit analysis meets the ledger: an investment agreement the board approved, posted. */
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { agreementPartners, agreementPostings } from '../cba/investment.ts';
import type { InvestmentAgreementPoster } from '../cba/ports.ts';
import { balancedTransaction } from '../ledger/domain.ts';
import { listAccounts } from '../ledger/accounts.ts';
import { postTransactions } from '../ledger/postings.ts';

/** The ledger's side of src/cba/ports.ts: an approved investment agreement posted as one ledger transaction. */
export const ledgerAgreementPoster: InvestmentAgreementPoster = {
  async postAgreement(tx, input) {
    const accounts = await listAccounts(tx, input.placeId);
    const kindOf = new Map(accounts.map((a) => [a.code, a.kind]));
    const fields: FieldErrors = {};
    for (const partner of agreementPartners(input.agreement)) {
      const code = input.contributionAccounts[partner];
      if (!code || kindOf.get(code) !== 'contribution')
        fields[`account:${partner}`] = `Select ${partner}'s contribution account`;
    }
    if (
      Object.keys(input.agreement.to_reinvestment_pence).length &&
      kindOf.get(input.reinvestmentAccount) !== 'reinvestment'
    ) {
      fields.reinvestment_account = 'Select the savings reinvestment account';
    }
    if (Object.keys(fields).length)
      throw new Invalid('Choose the ledger accounts the agreement moves money between', fields);
    const postings = agreementPostings(
      input.agreement,
      input.contributionAccounts,
      input.reinvestmentAccount,
    );
    if (!postings.length) throw new Invalid('The agreement moves no money', {});
    const [posted] = await postTransactions(
      tx,
      input.placeId,
      [
        balancedTransaction({
          key: `cba-agreement-${input.agreementId}`,
          date: input.date,
          memo: `Investment agreement ${input.agreementId} of business case ${input.businessCaseId}`,
          postings,
          decision_id: input.decisionId,
        }),
      ],
      { actor: { personId: input.personId } },
    );
    return { transactionId: posted!.id };
  },
};
