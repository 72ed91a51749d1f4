import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Conflict, Invalid, NotFound } from './errors.ts';
import { formatPounds, formatPoundsShort, inPounds, parsePounds, roundHalfAwayFromZero } from './money.ts';

describe('money in pence', () => {
  it('formats pence as pounds with separators, negatives with a leading minus', () => {
    assert.equal(formatPounds(123456), '£1,234.56');
    assert.equal(formatPounds(-1200), '-£12.00');
    assert.equal(formatPounds(5), '£0.05');
    assert.equal(formatPounds(1_040_000_000_000), '£10,400,000,000.00');
  });

  it('parses what people type', () => {
    assert.equal(parsePounds('1,234.56'), 123456);
    assert.equal(parsePounds('£20'), 2000);
    assert.equal(parsePounds('-12.5'), -1250);
    assert.equal(parsePounds('-£339.40'), -33940);
    assert.equal(parsePounds('£-339.40'), -33940);
    assert.throws(() => parsePounds('12.345'));
    assert.throws(() => parsePounds('1,23.00'));
    assert.throws(() => parsePounds('ten pounds'));
  });

  it('round-trips every safe amount through format and parse', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 50), max: 2 ** 50 }), (p) => parsePounds(formatPounds(p)) === p),
    );
  });

  it('rounds halves away from zero', () => {
    assert.equal(roundHalfAwayFromZero(2.5), 3);
    assert.equal(roundHalfAwayFromZero(-2.5), -3);
    assert.equal(roundHalfAwayFromZero(2.4999), 2);
    assert.equal(roundHalfAwayFromZero(-0.4), 0);
  });

  it('shortens headline figures', () => {
    assert.equal(formatPoundsShort(1_040_000_000_000), '£10.4bn');
    assert.equal(formatPoundsShort(300_000_000_000), '£3bn');
    assert.equal(formatPoundsShort(20_000_000), '£200k');
  });

  it('errors carry their amounts: pence for the API, pounds for a page', () => {
    const err = new Invalid(
      'Only {outstanding} of this commitment is outstanding',
      { amount_pence: 'Enter at most {outstanding}, what is still outstanding' },
      { outstanding: 123456 },
    );
    assert.equal(err.message, 'Only 123456 pence of this commitment is outstanding');
    assert.deepEqual(err.fields, { amount_pence: 'Enter at most 123456 pence, what is still outstanding' });
    assert.deepEqual(inPounds(err), {
      message: 'Only £1,234.56 of this commitment is outstanding',
      fields: { amount_pence: 'Enter at most £1,234.56, what is still outstanding' },
    });
    const conflict = new Conflict(
      'The commitment of {amount} is more than the {available} available in {POT}',
      {
        amount: 5000,
        available: -1,
      },
    );
    assert.equal(
      conflict.message,
      'The commitment of 5000 pence is more than the -1 pence available in {POT}',
    );
    assert.equal(
      inPounds(conflict).message,
      'The commitment of £50.00 is more than the -£0.01 available in {POT}',
    );
    // An error without amounts reads the same everywhere.
    assert.deepEqual(inPounds(new Invalid('Enter a name', { name: 'Enter a name' })), {
      message: 'Enter a name',
      fields: { name: 'Enter a name' },
    });
    assert.deepEqual(inPounds(new NotFound()), { message: 'Not found' });
  });
});
