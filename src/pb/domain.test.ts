import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../core/errors.ts';
import {
  accessCodeHash,
  ballotRulesOf,
  costOf,
  newAccessCode,
  nextPhase,
  validateProcess,
  type ProcessSettings,
} from './domain.ts';
import { postcodeInAreas as postcodeEligible } from '../core/postcodes.ts';

const settings: ProcessSettings = {
  year: 2026,
  title: ' White City decides 2026 ',
  budget_pence: 10_000_00,
  proposals_from: '2026-01-05',
  review_from: '2026-02-01',
  voting_from: '2026-03-01',
  results_from: '2026-03-29',
  delivery_from: '2026-04-06',
  ballot_kind: 'approval_budget',
  ballot_limit: 10_000_00,
  rule: 'mes',
  utility: 'cost',
  completion: 'add1',
  postcodes: ['w12 7', ' W12  0', 'W12 7'],
  min_age: 16,
  voters: 'accounts',
};

describe('a process’s settings', () => {
  it('trims the title and keeps each district or sector once, upper case with one space', () => {
    const checked = validateProcess(settings);
    assert.equal(checked.title, 'White City decides 2026');
    assert.deepEqual(checked.postcodes, ['W12 7', 'W12 0']);
  });

  it('names each problem against its field: phases out of order, a rule that cannot count the ballot, a bad postcode', () => {
    assert.throws(
      () =>
        validateProcess({
          ...settings,
          voting_from: '2026-01-20',
          ballot_kind: 'ordinal',
          rule: 'phragmen',
          postcodes: ['not a postcode'],
          min_age: 121,
        }),
      (err: AppError) => {
        assert.deepEqual(Object.keys(err.fields ?? {}).sort(), [
          'min_age',
          'postcodes',
          'rule',
          'voting_from',
        ]);
        assert.equal(err.fields!.voting_from, 'This phase cannot start before the council review phase');
        return true;
      },
    );
  });

  it('moves through the phases in order, ending in delivery', () => {
    assert.equal(nextPhase('proposals'), 'review');
    assert.equal(nextPhase('results'), 'delivery');
    assert.equal(nextPhase('delivery'), null);
  });

  it('turns the ballot kind and its one number into the limits election.ts validates', () => {
    assert.deepEqual(ballotRulesOf({ ballot_kind: 'approval_budget', ballot_limit: 500 }), {
      kind: 'approval_budget',
      limit: 500,
    });
    assert.deepEqual(ballotRulesOf({ ballot_kind: 'approval_max', ballot_limit: 3 }), {
      kind: 'approval_max',
      maxProjects: 3,
    });
    assert.deepEqual(ballotRulesOf({ ballot_kind: 'ordinal', ballot_limit: 5 }), {
      kind: 'ordinal',
      maxRanks: 5,
    });
    assert.deepEqual(ballotRulesOf({ ballot_kind: 'cumulative', ballot_limit: 10 }), {
      kind: 'cumulative',
      maxPoints: 10,
    });
  });

  it('counts a proposal at the council’s estimate when it replaced the proposer’s', () => {
    assert.equal(costOf({ cost_pence: 600_000, council_cost_pence: 500_000 }), 500_000);
    assert.equal(costOf({ cost_pence: 600_000, council_cost_pence: null }), 600_000);
  });
});

describe('who may vote', () => {
  it('takes a full postcode in a listed district or sector, however it is typed', () => {
    const prefixes = ['W12 7', 'SE1', 'E14'];
    assert.equal(postcodeEligible(prefixes, 'w12 7pq'), true);
    assert.equal(postcodeEligible(prefixes, 'W127PQ'), true);
    assert.equal(postcodeEligible(prefixes, 'SE1 9SG'), true);
    assert.equal(postcodeEligible(prefixes, 'E14 0AB'), true);
    // W12 0 is another sector of the same district; SE17 is another district that starts with SE1;
    // E1 4AB is in sector E1 4 of district E1, not in district E14.
    assert.equal(postcodeEligible(prefixes, 'W12 0AA'), false);
    assert.equal(postcodeEligible(prefixes, 'SE17 1AA'), false);
    assert.equal(postcodeEligible(prefixes, 'E1 4AB'), false);
    assert.equal(postcodeEligible(prefixes, 'W12 7'), false, 'a full postcode, not just the sector');
  });

  it('makes access codes a voter can type with or without dashes, in any case; only the hash depends on the process', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (processId) => {
        const code = newAccessCode();
        assert.match(code, /^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/);
        const hash = accessCodeHash(processId, code);
        assert.equal(accessCodeHash(processId, code.toLowerCase().replaceAll('-', ' ')), hash);
        assert.notEqual(accessCodeHash(processId + 1, code), hash);
      }),
      { numRuns: 50 },
    );
  });
});
