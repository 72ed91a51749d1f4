import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldErrors } from './errors.ts';
import { dateField, listField, penceField, textField } from './form-fields.ts';

describe('form-field readers', () => {
  const body = {
    name: '  Ilfracombe  ',
    twice: ['first', 'second'],
    partners: ['3', '', '5'],
    date: '2013-04-01',
    bad_date: '2013-02-30',
    amount: '£1,250.00',
    refund: '-12.50',
    zero: '0',
    words: 'ten pounds',
    huge: '100,000,000,000,000,000',
  };

  it('read text trimmed, the first of a repeated field, and lists without blanks', () => {
    assert.equal(textField(body, 'name'), 'Ilfracombe');
    assert.equal(textField(body, 'twice'), 'first');
    assert.equal(textField(body, 'absent'), '');
    assert.deepEqual(listField(body, 'partners'), ['3', '5']);
    assert.deepEqual(listField(body, 'name'), ['  Ilfracombe  ']);
    assert.deepEqual(listField(body, 'absent'), []);
  });

  it('read dates, naming the field when it is not a real date', () => {
    const fields: FieldErrors = {};
    assert.equal(dateField(body, 'date', fields), '2013-04-01');
    dateField(body, 'bad_date', fields);
    dateField(body, 'absent', fields, 'Enter the date the family was taken on');
    assert.deepEqual(fields, {
      bad_date: 'Enter a real date written YYYY-MM-DD, for example 2026-04-02',
      absent: 'Enter the date the family was taken on',
    });
  });

  it('read pounds as pence with GOV.UK messages', () => {
    const fields: FieldErrors = {};
    assert.equal(penceField(body, 'amount', fields, { positive: true }), 125000);
    assert.equal(penceField(body, 'refund', fields, { positive: false }), -1250);
    penceField(body, 'refund', { ...fields }, { positive: true });
    penceField(body, 'zero', fields, { positive: false, subject: 'the amount for line 2' });
    penceField(body, 'words', fields, { positive: true });
    penceField(body, 'amount', fields, { positive: true, max: 100_000, subject: 'the cost' });
    penceField(body, 'huge', fields, { positive: true });
    assert.deepEqual(fields, {
      zero: 'Enter the amount for line 2 other than £0.00',
      words: 'Enter an amount in pounds and pence, like 1,250.00',
      amount: 'Enter the cost of at most £1,000.00',
      huge: 'Enter a smaller amount',
    });
    const credit: FieldErrors = {};
    penceField(body, 'refund', credit, { positive: true });
    assert.deepEqual(credit, { refund: 'Enter an amount more than £0.00' });
  });
});
