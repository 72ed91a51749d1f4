import type { Tx } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import type { AccountKind, Actor, NewAccount } from './domain.ts';
import { assertPartnersOfPlace } from '../places/public.ts';

// The chart of accounts: opening accounts, partners' own codes for them, and the look-ups by code.

export interface AccountRow {
  id: number;
  code: string;
  name: string;
  kind: AccountKind;
  partner_id: number | null;
  service: string | null;
}

const accountColumns = ['id', 'code', 'name', 'kind', 'partner_id', 'service'] as const;

export async function listAccounts(tx: Tx, placeId: number): Promise<AccountRow[]> {
  return tx
    .selectFrom('ledger_accounts')
    .select(accountColumns)
    .where('place_id', '=', placeId)
    .orderBy('code')
    .execute();
}

export async function accountsByCode(tx: Tx, placeId: number): Promise<Map<string, AccountRow>> {
  return new Map((await listAccounts(tx, placeId)).map((a) => [a.code, a]));
}

export async function accountByCode(
  tx: Tx,
  placeId: number,
  code: string,
  field: string,
): Promise<AccountRow> {
  const account = await tx
    .selectFrom('ledger_accounts')
    .select(accountColumns)
    .where('place_id', '=', placeId)
    .where('code', '=', code)
    .executeTakeFirst();
  if (!account)
    throw new Invalid(`There is no account ${code} in this place`, {
      [field]: `There is no account ${code} in this place`,
    });
  return account;
}

export async function createAccount(
  tx: Tx,
  placeId: number,
  input: NewAccount,
  actor: Actor,
): Promise<AccountRow> {
  return (await createAccounts(tx, placeId, [input], actor))[0]!;
}

/** Opens accounts, each with a zero balance row for the postings trigger to maintain. */
export async function createAccounts(
  tx: Tx,
  placeId: number,
  inputs: NewAccount[],
  actor: Actor,
): Promise<AccountRow[]> {
  const codes = inputs.map((i) => i.code);
  const clash = await tx
    .selectFrom('ledger_accounts')
    .select('code')
    .where('place_id', '=', placeId)
    .where('code', 'in', codes)
    .executeTakeFirst();
  const repeated = codes.find((c, i) => codes.indexOf(c) !== i);
  if (clash || repeated)
    throw new Invalid('There is a problem with the account', {
      code: `This place already has an account ${clash?.code ?? repeated}`,
    });
  const partnerIds = [...new Set(inputs.map((i) => i.partner_id).filter((id): id is number => id !== null))];
  await assertPartnersOfPlace(tx, placeId, partnerIds, 'There is a problem with the account', {
    partner_id: 'Select a partner of this place',
  });
  const accounts = await tx
    .insertInto('ledger_accounts')
    .values(inputs.map((input) => ({ place_id: placeId, ...input })))
    .returning(accountColumns)
    .execute();
  await tx
    .insertInto('ledger_balances')
    .values(accounts.map((a) => ({ place_id: placeId, account_id: a.id })))
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.account.add',
    subject:
      accounts.length === 1
        ? `ledger_account:${accounts[0]!.id}`
        : `ledger_accounts:${accounts[0]!.id}..${accounts.at(-1)!.id}`,
    detail: { accounts: inputs.map((i) => ({ code: i.code, kind: i.kind })) },
  });
  return accounts;
}

/** A partner's own code for one of our accounts, so statements read in their chart too. */
export async function mapPartnerCode(
  tx: Tx,
  placeId: number,
  accountCode: string,
  partnerId: number,
  partnerCode: string,
  actor: Actor,
) {
  const account = await accountByCode(tx, placeId, accountCode, 'account');
  await tx
    .insertInto('ledger_partner_codes')
    .values({ place_id: placeId, account_id: account.id, partner_id: partnerId, partner_code: partnerCode })
    .onConflict((oc) =>
      oc.columns(['place_id', 'account_id', 'partner_id']).doUpdateSet({ partner_code: partnerCode }),
    )
    .execute();
  await appendAudit(tx, {
    person_id: actor.personId,
    place_id: placeId,
    action: 'ledger.account.map',
    subject: `ledger_account:${account.id}`,
    detail: { partner_id: partnerId, partner_code: partnerCode },
  });
}

/** The code of an account known by its id, as postings name accounts. */
export async function accountCode(tx: Tx, placeId: number, accountId: number): Promise<string> {
  const row = await tx
    .selectFrom('ledger_accounts')
    .select('code')
    .where('place_id', '=', placeId)
    .where('id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row.code;
}
