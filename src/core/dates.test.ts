import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addMonths,
  financialYearBounds,
  financialYearLabel,
  financialYearOf,
  isIsoDate,
  parseFinancialYearLabel,
  todayIso,
} from './dates.ts';

/** Any real calendar day from 1900 to 2199, written YYYY-MM-DD. */
const isoDay = fc
  .integer({ min: Date.UTC(1900, 0, 1) / 86_400_000, max: Date.UTC(2199, 11, 31) / 86_400_000 })
  .map((day) => new Date(day * 86_400_000).toISOString().slice(0, 10));

describe('dates', () => {
  it('knows a real date written YYYY-MM-DD', () => {
    assert.equal(isIsoDate('2024-02-29'), true);
    assert.equal(isIsoDate('2023-02-29'), false);
    assert.equal(isIsoDate('2012-13-01'), false);
    assert.equal(isIsoDate('2012-4-1'), false);
    assert.equal(isIsoDate('01/04/2012'), false);
    assert.equal(isIsoDate('0099-12-31'), true);
    assert.equal(isIsoDate(20120401), false);
    assert.equal(isIsoDate(undefined), false);
  });

  it('takes every real day as a date', () => {
    fc.assert(fc.property(isoDay, (d) => isIsoDate(d)));
  });

  it('writes today in UTC', () => {
    assert.equal(todayIso(new Date('2013-03-31T23:30:00Z')), '2013-03-31');
  });

  it('adds months, clamping to the last day of a shorter month', () => {
    assert.equal(addMonths('2024-01-31', 1), '2024-02-29');
    assert.equal(addMonths('2013-04-15', -12), '2012-04-15');
    assert.equal(addMonths('2012-12-31', 2), '2013-02-28');
  });
});

describe('financial years', () => {
  it('start on 1 April and are named by their first year, labelled 2012/13', () => {
    assert.equal(financialYearOf('2012-03-31'), 2011);
    assert.equal(financialYearOf('2012-04-01'), 2012);
    assert.equal(financialYearOf('2013-03-31'), 2012);
    assert.equal(financialYearLabel(2012), '2012/13');
    assert.equal(financialYearLabel(1999), '1999/00');
    assert.equal(financialYearLabel(2009), '2009/10');
    assert.deepEqual(financialYearBounds(2012), { start: '2012-04-01', end: '2013-03-31' });
  });

  it('read a label back, in the GOV.UK form or the older hyphenated one', () => {
    assert.equal(parseFinancialYearLabel('2012/13'), 2012);
    assert.equal(parseFinancialYearLabel(' 2014-15 '), 2014);
    assert.equal(parseFinancialYearLabel('1999/00'), 1999);
    assert.equal(parseFinancialYearLabel('2012/14'), null);
    assert.equal(parseFinancialYearLabel('2012'), null);
    assert.equal(parseFinancialYearLabel('12/13'), null);
  });

  it('a date’s financial year round-trips through its label and holds the date within its bounds', () => {
    fc.assert(
      fc.property(isoDay, (d) => {
        const year = financialYearOf(d);
        const { start, end } = financialYearBounds(year);
        return parseFinancialYearLabel(financialYearLabel(year)) === year && start <= d && d <= end;
      }),
    );
  });

  it('the bounds of a year are real dates and the first and last day of that year', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2198 }), (year) => {
        const { start, end } = financialYearBounds(year);
        return (
          isIsoDate(start) &&
          isIsoDate(end) &&
          financialYearOf(start) === year &&
          financialYearOf(end) === year &&
          financialYearOf(addMonths(start, -1)) === year - 1 &&
          addMonths(end, 1).slice(0, 7) === `${year + 1}-04`
        );
      }),
    );
  });
});
