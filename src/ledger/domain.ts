import { createHash } from 'node:crypto';
import { assert, Invalid, type FieldErrors } from '../core/errors.ts';
import { pence, type Pence } from '../core/money.ts';
import { isIsoDate } from '../core/dates.ts';
import { toCsv } from '../core/csv.ts';

/**
 * The pooled budget's chart of accounts. Amounts are signed pence: positive is a debit, negative
 * a credit, and every transaction's postings sum to zero. Money flows
 * contribution → pot → allocation → commitment → spend, so a pot's or allocation's balance is
 * what is still available, and a partner's contribution account is (minus) what it put in.
 */
export const ACCOUNT_KINDS = [
  'contribution',
  'pot',
  'allocation',
  'commitment',
  'spend',
  'income',
  'reinvestment',
] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export const ACCOUNT_KIND_LABELS: Record<AccountKind, string> = {
  contribution: 'Partner contribution',
  pot: 'Pot',
  allocation: 'Allocation to a service',
  commitment: 'Commitment',
  spend: 'Spend',
  income: 'Income',
  reinvestment: 'Savings reinvestment',
};

/** Accounts a commitment may draw on: what is left in them is what may still be promised. */
export const COMMITMENT_SOURCES: readonly AccountKind[] = ['pot', 'allocation'];

export const TRANSACTION_KINDS = [
  'general',
  'contribution',
  'allocation',
  'commitment',
  'commitment_spend',
  'commitment_release',
  'spend',
  'income',
  'risk_share',
  'reversal',
] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

export const BUDGET_MODES = ['shadow', 'pooled'] as const;
export type BudgetMode = (typeof BUDGET_MODES)[number];

export const CONTRIBUTION_FORMS = ['cash', 'in_kind'] as const;
export type ContributionForm = (typeof CONTRIBUTION_FORMS)[number];

/** Explicit limits (TigerBeetle style): a batch, a transaction and an amount have a ceiling. */
export const LIMITS = {
  batchTransactions: 10_000,
  legs: 100,
  /** £10bn: Essex's whole public-services budget is £10.4bn, so no single leg is larger. */
  amountPence: 1_000_000_000_000,
  keyLength: 200,
  memoLength: 500,
} as const;

const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** Who did it: a signed-in person, or null for the CLI and the demo seed. */
export interface Actor {
  personId: number | null;
}

export interface Posting {
  account: string;
  amount_pence: Pence;
}

export interface TransactionInput {
  key: string;
  date: string;
  memo: string;
  postings: Posting[];
  decision_id?: number | null;
}

declare const balanced: unique symbol;
/** A transaction whose postings sum to zero; only `balancedTransaction` makes one. */
export type BalancedTransaction = TransactionInput & { readonly [balanced]: true };

export function isAccountCode(value: unknown): value is string {
  return typeof value === 'string' && CODE_PATTERN.test(value);
}

/** The reasons a proposed transaction is not one; empty when it is. */
export function transactionProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return ['must be an object {key, date, memo, postings}'];
  const t = input as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof t.key !== 'string' || t.key.trim() === '' || t.key.length > LIMITS.keyLength) {
    problems.push(`key must be text of 1 to ${LIMITS.keyLength} characters`);
  }
  if (!isIsoDate(t.date)) problems.push('date must be a real date written YYYY-MM-DD');
  if (t.memo !== undefined && (typeof t.memo !== 'string' || t.memo.length > LIMITS.memoLength)) {
    problems.push(`memo must be text of at most ${LIMITS.memoLength} characters`);
  }
  if (
    t.decision_id !== undefined &&
    t.decision_id !== null &&
    !(Number.isSafeInteger(t.decision_id) && (t.decision_id as number) > 0)
  ) {
    problems.push('decision_id must be the number of a board decision');
  }
  if (!Array.isArray(t.postings) || t.postings.length < 2 || t.postings.length > LIMITS.legs) {
    problems.push(`postings must be a list of 2 to ${LIMITS.legs} postings`);
    return problems;
  }
  let sum = 0n;
  t.postings.forEach((p: unknown, i) => {
    const posting = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    if (!isAccountCode(posting.account)) problems.push(`posting ${i}: account must be an account code`);
    const amount = posting.amount_pence;
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount as number) > LIMITS.amountPence) {
      problems.push(
        `posting ${i}: amount_pence must be a whole number of pence, not zero, at most ${LIMITS.amountPence} either way`,
      );
    } else {
      sum += BigInt(amount as number);
    }
  });
  if (problems.length === 0 && sum !== 0n)
    problems.push(`postings do not balance: they sum to ${sum} pence, not 0`);
  return problems;
}

/** The only way to make a BalancedTransaction: an unbalanced one cannot be constructed. */
export function balancedTransaction(input: unknown): BalancedTransaction {
  const problems = transactionProblems(input);
  if (problems.length)
    throw new Invalid(`The transaction is not valid: ${problems.join('; ')}`, {
      transaction: problems.join('; '),
    });
  const t = input as TransactionInput;
  return {
    key: t.key.trim(),
    date: t.date,
    memo: (t.memo ?? '').trim(),
    postings: t.postings.map((p) => ({ account: p.account, amount_pence: pence(p.amount_pence) })),
    decision_id: t.decision_id ?? null,
  } as BalancedTransaction;
}

/**
 * Validates a whole batch before anything is written; the error names every bad transaction by
 * its index in the array, so a 10,000-line file is fixed in one pass, not one error at a time.
 */
export function balancedBatch(input: unknown): BalancedTransaction[] {
  if (!Array.isArray(input))
    throw new Invalid('The file must hold a JSON array of transactions', { file: 'must be a JSON array' });
  if (input.length === 0)
    throw new Invalid('The file holds no transactions', { file: 'must hold at least one transaction' });
  if (input.length > LIMITS.batchTransactions) {
    throw new Invalid(`A batch holds at most ${LIMITS.batchTransactions} transactions; split the file`, {
      file: 'too many transactions',
    });
  }
  const fields: FieldErrors = {};
  const seen = new Map<string, number>();
  input.forEach((item, index) => {
    const problems = transactionProblems(item);
    const key = (item as { key?: unknown })?.key;
    if (typeof key === 'string') {
      const first = seen.get(key.trim());
      if (first !== undefined) problems.push(`key ${key} is also used by transaction [${first}]`);
      else seen.set(key.trim(), index);
    }
    if (problems.length) fields[`[${index}]`] = problems.join('; ');
  });
  throwIfAny(fields, 'transactions');
  return input.map(balancedTransaction);
}

export function throwIfAny(fields: FieldErrors, what: string) {
  const bad = Object.keys(fields);
  if (bad.length === 0) return;
  const first = bad.slice(0, 20).map((k) => `${k} ${fields[k]}`);
  const more = bad.length > 20 ? ` … and ${bad.length - 20} more` : '';
  throw new Invalid(`${bad.length} ${what} rejected, nothing posted: ${first.join(' | ')}${more}`, fields);
}

/** sha256 of what a transaction says, so a reused idempotency key with other content is caught. */
export function fingerprint(t: BalancedTransaction, kind: TransactionKind): string {
  const canonical = JSON.stringify([
    kind,
    t.date,
    t.memo,
    t.decision_id ?? null,
    t.postings.map((p) => [p.account, p.amount_pence]),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** The postings that undo a transaction, leg by leg. */
export function reversalPostings(postings: Posting[]): Posting[] {
  return postings.map((p) => ({ account: p.account, amount_pence: pence(-p.amount_pence) }));
}

export interface Share {
  id: number;
  basisPoints: number;
}

/**
 * Splits `amount` by basis points (1% = 100) with the largest-remainder method, so the parts are
 * whole pence that add up exactly; ties go to the lower id. What the shares leave (they may total
 * under 100%) is `kept`.
 */
export function splitByShares(amount: Pence, shares: Share[]): { parts: Map<number, Pence>; kept: Pence } {
  pence(amount);
  const totalBp = shares.reduce((s, x) => s + x.basisPoints, 0);
  assert(
    shares.every((s) => Number.isInteger(s.basisPoints) && s.basisPoints >= 0),
    'shares are whole basis points',
  );
  assert(totalBp <= 10_000, `shares total ${totalBp} basis points, more than 100%`);
  const sign = amount < 0 ? -1n : 1n;
  const abs = BigInt(Math.abs(amount));
  const distributable = (abs * BigInt(totalBp)) / 10_000n;
  const exact = shares.map((s) => ({
    id: s.id,
    floor: (abs * BigInt(s.basisPoints)) / 10_000n,
    rem: (abs * BigInt(s.basisPoints)) % 10_000n,
  }));
  let left = distributable - exact.reduce((s, e) => s + e.floor, 0n);
  const order = [...exact].sort((a, b) => (a.rem === b.rem ? a.id - b.id : a.rem > b.rem ? -1 : 1));
  for (const e of order) {
    if (left <= 0n) break;
    if (e.rem > 0n) {
      e.floor += 1n;
      left -= 1n;
    }
  }
  const parts = new Map<number, Pence>();
  for (const e of exact) parts.set(e.id, pence(Number(sign * e.floor)));
  return { parts, kept: pence(Number(sign * (abs - distributable))) };
}

export interface AgreementShares {
  partnerId: number;
  contributionAccount: string;
  overspendBp: number;
  underspendBp: number;
}

export interface AllocationOutturn {
  account: string;
  /** What is left in the allocation at year end: positive is underspend, negative overspend. */
  balance: Pence;
}

/**
 * The period-close postings for one allocation: an underspend is returned to partners by their
 * underspend shares and an overspend charged to them by their overspend shares; the part no
 * partner takes goes to (or comes from) the savings reinvestment account, which is how a place
 * keeps its savings to reinvest. Returns null when the allocation is exactly spent.
 */
export function riskSharePostings(
  outturn: AllocationOutturn,
  agreements: AgreementShares[],
  reinvestmentAccount: string,
): Posting[] | null {
  if (outturn.balance === 0) return null;
  const underspend = outturn.balance > 0;
  const byPartner = new Map<number, { account: string; bp: number }>();
  for (const a of agreements) {
    const entry = byPartner.get(a.partnerId) ?? { account: a.contributionAccount, bp: 0 };
    entry.bp += underspend ? a.underspendBp : a.overspendBp;
    byPartner.set(a.partnerId, entry);
  }
  const shares = [...byPartner].map(([id, e]) => ({ id, basisPoints: Math.min(e.bp, 10_000) }));
  const totalBp = shares.reduce((s, x) => s + x.basisPoints, 0);
  if (totalBp > 10_000)
    throw new Invalid(
      `The ${underspend ? 'underspend' : 'overspend'} shares of this year’s agreements add up to more than 100%`,
    );
  const { parts, kept } = splitByShares(outturn.balance, shares);
  // Clearing the allocation to zero: take the balance out, and put it where the shares say.
  const postings: Posting[] = [{ account: outturn.account, amount_pence: pence(-outturn.balance) }];
  for (const [partnerId, amount] of parts) {
    if (amount !== 0) postings.push({ account: byPartner.get(partnerId)!.account, amount_pence: amount });
  }
  if (kept !== 0) postings.push({ account: reinvestmentAccount, amount_pence: kept });
  return postings;
}

export interface NewAccount {
  code: string;
  name: string;
  kind: AccountKind;
  partner_id: number | null;
  service: string | null;
}

export function validateNewAccount(input: {
  code?: unknown;
  name?: unknown;
  kind?: unknown;
  partner_id?: unknown;
  service?: unknown;
}): NewAccount {
  const fields: FieldErrors = {};
  const code = typeof input.code === 'string' ? input.code.trim() : '';
  if (!isAccountCode(code))
    fields.code =
      'Enter a code of letters, digits, dots, dashes or underscores, up to 40 characters, like ALLOC-FAMILIES';
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name) fields.name = 'Enter the account’s name';
  else if (name.length > 200) fields.name = 'Account name must be 200 characters or fewer';
  const kind = input.kind as AccountKind;
  if (!ACCOUNT_KINDS.includes(kind)) fields.kind = 'Select the kind of account';
  const partnerId =
    input.partner_id === undefined || input.partner_id === null || input.partner_id === ''
      ? null
      : Number(input.partner_id);
  if (kind === 'contribution' && partnerId === null)
    fields.partner_id = 'Select the partner whose contribution this account holds';
  if (partnerId !== null && !(Number.isSafeInteger(partnerId) && partnerId > 0))
    fields.partner_id = 'Select a partner';
  if (kind !== 'contribution' && partnerId !== null)
    fields.partner_id = 'Only a contribution account belongs to a partner';
  const service = typeof input.service === 'string' && input.service.trim() ? input.service.trim() : null;
  if (service && service.length > 200) fields.service = 'Service name must be 200 characters or fewer';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the account', fields);
  return { code, name, kind, partner_id: kind === 'contribution' ? partnerId : null, service };
}

export interface NewAgreement {
  financial_year: number;
  partner_id: number;
  funding_stream: string;
  amount_pence: Pence;
  form: ContributionForm;
  ring_fence: string | null;
  host_partner_id: number | null;
  overspend_share_bp: number;
  underspend_share_bp: number;
  exit_terms: string;
  decision_id: number;
  contribution_account: string;
}

const isPositiveId = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
const isBasisPoints = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 10_000;

export function validateNewAgreement(input: Record<string, unknown>): NewAgreement {
  const fields: FieldErrors = {};
  const year = input.financial_year;
  if (!(Number.isInteger(year) && (year as number) >= 2000 && (year as number) <= 2100))
    fields.financial_year = 'Enter the year the financial year starts, like 2012 for 2012/13';
  if (!isPositiveId(input.partner_id)) fields.partner_id = 'Select the partner';
  const stream = typeof input.funding_stream === 'string' ? input.funding_stream.trim() : '';
  if (!stream || stream.length > 200)
    fields.funding_stream = 'Enter the funding stream, like Police – PCSO budget';
  const amount = input.amount_pence;
  if (!(Number.isSafeInteger(amount) && (amount as number) > 0 && (amount as number) <= LIMITS.amountPence))
    fields.amount_pence = 'Enter the amount per year in pence, more than 0';
  if (!CONTRIBUTION_FORMS.includes(input.form as ContributionForm)) fields.form = 'Select cash or in kind';
  const ringFence =
    typeof input.ring_fence === 'string' && input.ring_fence.trim() ? input.ring_fence.trim() : null;
  if (ringFence && ringFence.length > 500) fields.ring_fence = 'Ring-fence must be 500 characters or fewer';
  const host = input.host_partner_id ?? null;
  if (host !== null && !isPositiveId(host)) fields.host_partner_id = 'Select the host partner';
  if (!isBasisPoints(input.overspend_share_bp))
    fields.overspend_share_bp = 'Enter the overspend share in basis points, 0 to 10000 (100%)';
  if (!isBasisPoints(input.underspend_share_bp))
    fields.underspend_share_bp = 'Enter the underspend share in basis points, 0 to 10000 (100%)';
  const exitTerms = typeof input.exit_terms === 'string' ? input.exit_terms.trim() : '';
  if (exitTerms.length > 5000) fields.exit_terms = 'Exit terms must be 5,000 characters or fewer';
  if (!isPositiveId(input.decision_id))
    fields.decision_id = 'Select the board decision that signed the agreement off';
  if (!isAccountCode(input.contribution_account))
    fields.contribution_account = 'Enter the code of the partner’s contribution account';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the agreement', fields);
  return {
    financial_year: year as number,
    partner_id: input.partner_id as number,
    funding_stream: stream,
    amount_pence: amount as number,
    form: input.form as ContributionForm,
    ring_fence: ringFence,
    host_partner_id: host as number | null,
    overspend_share_bp: input.overspend_share_bp as number,
    underspend_share_bp: input.underspend_share_bp as number,
    exit_terms: exitTerms,
    decision_id: input.decision_id as number,
    contribution_account: input.contribution_account as string,
  };
}

/** The mode in force on a date: the latest switch on or before it, or none before the first. */
export function modeOn(
  history: { mode: BudgetMode; effective_from: string }[],
  date: string,
): BudgetMode | null {
  let current: BudgetMode | null = null;
  let since = '';
  for (const h of history) {
    if (h.effective_from <= date && h.effective_from >= since) {
      current = h.mode;
      since = h.effective_from;
    }
  }
  return current;
}

/** hledger amounts: pence as pounds with two decimals, exactly, no float in between. */
export function hledgerAmount(amount: Pence): string {
  const abs = Math.abs(pence(amount));
  return `${amount < 0 ? '-' : ''}£${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export interface JournalEntry {
  id: number;
  key: string;
  date: string;
  memo: string;
  kind: TransactionKind;
  postings: Posting[];
}

/** One hledger journal entry; the idempotency key goes in a tag so the file traces back to us. */
export function hledgerEntry(t: JournalEntry): string {
  const description = (t.memo || t.kind).replace(/[\r\n;|]+/g, ' ').trim();
  const lines = [
    `${t.date} (${t.id}) ${description}  ; key:${t.key.replace(/[\r\n,]+/g, ' ')}, kind:${t.kind}`,
  ];
  for (const p of t.postings) lines.push(`    ${p.account}  ${hledgerAmount(p.amount_pence)}`);
  return lines.join('\n') + '\n';
}

export const CSV_HEADER = 'transaction_id,date,key,kind,memo,account,amount_pence';

export function csvRows(t: JournalEntry): string {
  return toCsv(
    t.postings.map((p) => [t.id, t.date, t.key, t.kind, t.memo, p.account, p.amount_pence]),
    { newline: '\n' },
  );
}
