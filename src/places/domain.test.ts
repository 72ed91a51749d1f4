import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Invalid } from '../core/errors.ts';
import {
  SIGN_OFF_RULES,
  signOffsNeeded,
  signOffState,
  validateNewDecision,
  validateNewPartner,
} from './domain.ts';
import { financialYearLabel, financialYearOf } from '../core/dates.ts';

describe('board sign-off rules', () => {
  it('needs every partner under "all", more than half under "majority", two thirds under "two_thirds"', () => {
    // 7 partners: all = 7; majority = floor(7/2)+1 = 4; two thirds = ceil(14/3) = 5.
    assert.equal(signOffsNeeded('all', 7), 7);
    assert.equal(signOffsNeeded('majority', 7), 4);
    assert.equal(signOffsNeeded('two_thirds', 7), 5);
    // 6 partners: majority = 4 (3 is only half); two thirds = 4.
    assert.equal(signOffsNeeded('majority', 6), 4);
    assert.equal(signOffsNeeded('two_thirds', 6), 4);
  });

  it('ignores sign-offs from organisations that are not partners of the place', () => {
    const state = signOffState('majority', [1, 2, 3], [1, 99, 98]);
    assert.deepEqual(state, { needed: 2, given: 1, met: false, outstanding: [2, 3] });
  });

  it('a board with no partners never meets a rule', () => {
    assert.equal(signOffState('all', [], []).met, false);
  });

  it('more sign-offs never turn a met rule into an unmet one', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SIGN_OFF_RULES),
        fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1 }),
        fc.array(fc.integer({ min: 1, max: 30 })),
        fc.integer({ min: 1, max: 30 }),
        (rule, partners, signed, extra) => {
          const before = signOffState(rule, partners, signed).met;
          const after = signOffState(rule, partners, [...signed, extra]).met;
          return !before || after;
        },
      ),
    );
  });
});

describe('financial year', () => {
  it('starts on 1 April', () => {
    assert.equal(financialYearOf('2012-03-31'), 2011);
    assert.equal(financialYearOf('2012-04-01'), 2012);
    assert.equal(financialYearLabel(2012), '2012/13');
    assert.equal(financialYearLabel(1999), '1999/00');
  });
});

describe('partner and decision input', () => {
  it('names each missing field', () => {
    assert.throws(
      () => validateNewPartner({ name: '  ', agency_type: 'bank' }),
      (err: unknown) =>
        err instanceof Invalid &&
        err.fields?.name === 'Enter the partner’s name' &&
        err.fields?.agency_type === 'Select the type of agency',
    );
  });

  it('trims names and accepts every listed agency type', () => {
    assert.deepEqual(validateNewPartner({ name: ' Essex Police ', agency_type: 'police' }), {
      name: 'Essex Police',
      agency_type: 'police',
    });
  });

  it('takes a single signed-off partner from a form as a list, and drops repeats', () => {
    const decision = validateNewDecision({
      title: 'Pool PCSO budget',
      sign_off_rule: 'all',
      signed_off_by: '3',
    });
    assert.deepEqual(decision.signed_off_by, [3]);
    assert.deepEqual(
      validateNewDecision({ title: 'x', sign_off_rule: 'all', signed_off_by: ['3', '3', '4'] }).signed_off_by,
      [3, 4],
    );
  });
});
