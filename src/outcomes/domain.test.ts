import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Invalid } from '../core/errors.ts';
import {
  assess,
  linearExpected,
  parseActualsCsv,
  periodEnds,
  progressToTarget,
  shortfall,
  statusOf,
  trajectory,
  validateNewIndicator,
  type IndicatorShape,
} from './domain.ts';

const gcse: IndicatorShape = {
  better: 'higher',
  frequency: 'annual',
  baseline: { value: 64, date: '2012-03-31' },
  target: { value: 80, date: '2015-03-31' },
};

const neet: IndicatorShape = {
  better: 'lower',
  frequency: 'annual',
  baseline: { value: 5.2, date: '2012-03-31' },
  target: { value: 0, date: '2016-03-31' },
};

describe('the status rule', () => {
  it('is on track at or within 5% short of the trajectory, at risk to 15%, off track beyond', () => {
    // Expected 70, higher is better: 66.5 is 3.5/70 = 5% short (on track), 66.4 is 5.14% (at risk),
    // 59.5 is 10.5/70 = 15% (at risk), 59.4 is 15.14% (off track), 75 is ahead (on track).
    assert.equal(statusOf('higher', 66.5, 70, 64), 'on_track');
    assert.equal(statusOf('higher', 66.4, 70, 64), 'at_risk');
    assert.equal(statusOf('higher', 59.5, 70, 64), 'at_risk');
    assert.equal(statusOf('higher', 59.4, 70, 64), 'off_track');
    assert.equal(statusOf('higher', 75, 70, 64), 'on_track');
  });

  it('reads the other way when a lower value is better', () => {
    // Expected 3.9% NEET: 4.0 is 0.1/3.9 = 2.6% above (on track); 4.3 is 0.4/3.9 = 10.3% (at risk);
    // 4.6 is 0.7/3.9 = 17.9% (off track); 3.0 is below the trajectory, so better (on track).
    assert.equal(statusOf('lower', 4.0, 3.9, 5.2), 'on_track');
    assert.equal(statusOf('lower', 4.3, 3.9, 5.2), 'at_risk');
    assert.equal(statusOf('lower', 4.6, 3.9, 5.2), 'off_track');
    assert.equal(statusOf('lower', 3.0, 3.9, 5.2), 'on_track');
  });

  it('measures against the baseline when the trajectory reaches zero', () => {
    // NEET target 0%: at the target date 0.2% is 0.2/5.2 = 3.8% of the baseline (on track),
    // 0.5% is 9.6% (at risk), 1% is 19.2% (off track).
    assert.equal(statusOf('lower', 0.2, 0, 5.2), 'on_track');
    assert.equal(statusOf('lower', 0.5, 0, 5.2), 'at_risk');
    assert.equal(statusOf('lower', 1, 0, 5.2), 'off_track');
  });

  it('never rates a better value lower than a worse one (property)', () => {
    const rank = { on_track: 0, at_risk: 1, off_track: 2 } as const;
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e3, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (expected, step, actual) => {
          const better = actual + step;
          assert.ok(
            rank[statusOf('higher', better, expected, 1)] <= rank[statusOf('higher', actual, expected, 1)],
          );
          assert.ok(
            rank[statusOf('lower', actual, expected, 1)] <= rank[statusOf('lower', better, expected, 1)],
          );
        },
      ),
    );
  });
});

describe('trajectory', () => {
  it('runs in a straight line from baseline to target at each financial year end', () => {
    // 64 to 80 over three years (1,095 days): 2013-03-31 is day 365, 64 + 16 × 365/1095 = 69.33;
    // 2014-03-31 is day 730, 64 + 16 × 730/1095 = 74.67; 2015-03-31 is the target, 80.
    const points = trajectory(gcse, []);
    assert.deepEqual(
      points.map((p) => p.period_end),
      ['2013-03-31', '2014-03-31', '2015-03-31'],
    );
    assert.deepEqual(
      points.map((p) => Math.round(p.expected * 100) / 100),
      [69.33, 74.67, 80],
    );
    assert.ok(points.every((p) => !p.entered));
  });

  it('uses an entered point for its period and the line for the rest', () => {
    const points = trajectory(gcse, [{ period_end: '2014-03-31', expected: 72 }]);
    assert.deepEqual(
      points.map((p) => [p.period_end, Math.round(p.expected * 100) / 100, p.entered]),
      [
        ['2013-03-31', 69.33, false],
        ['2014-03-31', 72, true],
        ['2015-03-31', 80, false],
      ],
    );
  });

  it('lists quarter ends for a quarterly indicator and holds the target after its date', () => {
    const quarterly: IndicatorShape = {
      better: 'higher',
      frequency: 'quarterly',
      baseline: { value: 0, date: '2011-12-31' },
      target: { value: 150, date: '2013-03-31' },
    };
    assert.deepEqual(periodEnds(quarterly), [
      '2012-03-31',
      '2012-06-30',
      '2012-09-30',
      '2012-12-31',
      '2013-03-31',
    ]);
    assert.equal(linearExpected(quarterly, '2020-01-01'), 150);
    assert.equal(linearExpected(quarterly, '2000-01-01'), 0);
  });
});

describe('assessing an indicator on its latest value', () => {
  it('rates the Tri-borough NEET figure off track and the GCSE figure on track', () => {
    // NEET: 5.2 to 0 over 1,461 days; 2014-03-31 is day 730, expected 5.2 − 5.2 × 730/1461 = 2.602;
    // actual 3.5 is 0.898/2.602 = 34.5% above it: off track. Progress (3.5 − 5.2)/(0 − 5.2) = 32.7%.
    const n = assess(
      neet,
      [],
      [
        { period_end: '2013-03-31', value: 4.3 },
        { period_end: '2014-03-31', value: 3.5 },
      ],
    );
    assert.equal(n.status, 'off_track');
    assert.equal(Math.round(n.latest!.expected * 1000) / 1000, 2.602);
    assert.equal(Math.round(n.progress! * 1000) / 1000, 0.327);
    // GCSE: expected 74.67 in 2014; 73 is 1.67/74.67 = 2.2% short: on track; progress 9/16 = 0.5625.
    const g = assess(
      gcse,
      [],
      [
        { period_end: '2014-03-31', value: 73 },
        { period_end: '2013-03-31', value: 69.1 },
      ],
    );
    assert.equal(g.status, 'on_track');
    assert.equal(g.latest!.period_end, '2014-03-31');
    assert.equal(g.progress, 0.5625);
    assert.equal(Math.round(shortfall('higher', 73, g.latest!.expected, 64) * 1000) / 1000, 0.022);
  });

  it('has no status until an actual value is recorded', () => {
    assert.deepEqual(assess(gcse, [], []), { status: 'no_data', latest: null, progress: null });
    assert.equal(progressToTarget(gcse, 80), 1);
  });
});

describe('validating an indicator', () => {
  const valid = {
    title: 'Pupils achieving five A*–C GCSEs',
    definition: 'Share of pupils',
    unit: '%',
    source: 'DfE',
    better: 'higher',
    frequency: 'annual',
    baseline_value: '64',
    baseline_date: '2012-03-31',
    target_value: '80',
    target_date: '2015-03-31',
    trajectory: '2014-03-31, 72\n',
  };

  it('accepts a complete indicator with an entered trajectory point', () => {
    const ind = validateNewIndicator(valid);
    assert.deepEqual(ind.trajectory, [{ period_end: '2014-03-31', expected: 72 }]);
    assert.deepEqual(ind.target, { value: 80, date: '2015-03-31' });
  });

  it('names every field that is wrong', () => {
    try {
      validateNewIndicator({
        ...valid,
        title: ' ',
        better: 'sideways',
        target_date: '2011-01-01',
        baseline_value: '12%',
        trajectory: 'soon, 3',
      });
      assert.fail('expected Invalid');
    } catch (err) {
      assert.ok(err instanceof Invalid);
      assert.deepEqual(Object.keys(err.fields!).sort(), [
        'baseline_value',
        'better',
        'target_date',
        'title',
        'trajectory',
      ]);
      assert.equal(
        err.fields!.trajectory,
        'Line 1: enter a period end as YYYY-MM-DD and an expected value, like 2014-03-31, 65',
      );
    }
  });

  it('refuses a target on the worse side of the baseline', () => {
    assert.throws(
      () => validateNewIndicator({ ...valid, target_value: '50' }),
      (err: Invalid) =>
        err.fields?.target_value === 'The target must be at least the baseline when a higher value is better',
    );
  });
});

describe('importing actual values from CSV', () => {
  it('reads period_end, value and an optional note', () => {
    const values = parseActualsCsv(
      'period_end,value,note\n2013-03-31,69.1,provisional\n2014-03-31,"1,073"\n',
      '2012-03-31',
    );
    assert.deepEqual(values, [
      { period_end: '2013-03-31', value: 69.1, note: 'provisional' },
      { period_end: '2014-03-31', value: 1073, note: '' },
    ]);
  });

  it('refuses the whole file with each bad line numbered', () => {
    const csv =
      'period_end,value\n2013-03-31,69.1\n2014-02-30,70\n2011-03-31,60\n2013-03-31,71\n2015-03-31,\n';
    assert.throws(
      () => parseActualsCsv(csv, '2012-03-31'),
      (err: Invalid) => {
        assert.equal(err.message, 'Nothing was imported: 4 lines need fixing');
        assert.equal(
          err.fields!.csv,
          [
            'Line 3: Enter the period end as YYYY-MM-DD, like 2014-03-31',
            'Line 4: The period must end after the baseline date (2012-03-31)',
            'Line 5: 2013-03-31 is also on line 2',
            'Line 6: Enter the value as a number, like 64.2',
          ].join('\n'),
        );
        return true;
      },
    );
  });

  it('asks for the header when it is missing', () => {
    assert.throws(
      () => parseActualsCsv('2013-03-31,69.1\n', '2012-03-31'),
      (err: Invalid) => /Line 1: the header must name/.test(err.fields!.csv!),
    );
  });
});
