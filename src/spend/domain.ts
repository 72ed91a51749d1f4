import { hash } from 'node:crypto';
import type { SpendRow } from './parse.ts';

/** What a classification rule matches a spend line on. */
export const RULE_FIELDS = ['expense_area', 'expense_type', 'supplier', 'account_code'] as const;
export type RuleField = (typeof RULE_FIELDS)[number];
export const RULE_FIELD_LABELS: Record<RuleField, string> = {
  expense_area: 'Expense area',
  expense_type: 'Expense type',
  supplier: 'Supplier',
  account_code: 'Account code',
};

/**
 * A spend line's identity across files: the publisher and what the line says, plus how many
 * identical lines came before it in the same file (two identical payments on one day are two
 * payments). Without it, a monthly file and a quarterly file covering the same month would
 * count the same payment twice.
 */
export function rowKeyer(publisher: string) {
  const seen = new Map<string, number>();
  return (row: SpendRow): string => {
    const content = [
      publisher,
      row.body,
      row.paidOn,
      row.amountPence,
      row.supplier,
      row.transactionId,
      row.expenseArea,
      row.expenseType,
      row.accountCode,
    ].join('\u001f');
    const digest = hash('sha256', content, 'base64url').slice(0, 24);
    const occurrence = (seen.get(digest) ?? 0) + 1;
    seen.set(digest, occurrence);
    return `${digest}:${occurrence}`;
  };
}
