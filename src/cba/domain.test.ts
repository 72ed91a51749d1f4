import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  annualBenefit,
  apportion,
  discountFactor,
  parseBusinessCase,
  profileShare,
  proposeAgreement,
  runModel,
  type BusinessCase,
} from './domain.ts';
import { nationalUnitCost, optimismBiasFor, upliftFactor } from '../reference/figures.ts';
import { workedExample } from './examples/index.ts';

const example = () => parseBusinessCase(workedExample());
const pounds = (p: number) => Math.round(p / 100);

describe('the worked example of src/cba/README.md, "Worked example: key-worker support for 500 families"', () => {
  const r = runModel(example(), nationalUnitCost);

  test('reproduces each line’s full-year benefit to the penny', () => {
    // Into work: 500 × 0.8 × 0.15 × (1 − 0.2) × £9,234 × (1 − 0.10) = £398,908.80
    // Health:    48 × £566 × 0.9 = £24,451.20
    // A&E:       1000 × 0.8 × 0.3 × 0.9 × £114 × (1 − 0.05) = £23,392.80
    // Police:    1500 × 0.8 × 0.25 × 0.8 × £300 × (1 − 0.25) = £54,000.00
    assert.deepEqual(
      r.lines.map((l) => l.full_year_benefit_pence),
      [39890880, 2445120, 2339280, 5400000],
    );
  });

  test('reproduces the yearly fiscal benefits, drop-off included', () => {
    // Y1: 23,392.80 + 54,000 = 77,392.80
    // Y2: 398,908.80 + 24,451.20 + 23,392.80 + 54,000 × 0.5 = 473,752.80
    // Y3: (398,908.80 + 24,451.20) × 0.75 + 23,392.80 = 340,912.80
    // Y4: (398,908.80 + 24,451.20) × 0.75² = 238,140.00; Y5: nothing lasts that long
    assert.deepEqual(
      r.years.map((y) => y.fiscal_pence),
      [7739280, 47375280, 34091280, 23814000, 0],
    );
    assert.deepEqual(
      r.years.map((y) => y.financial_year),
      ['2014/15', '2015/16', '2016/17', '2017/18', '2018/19'],
    );
  });

  test('reproduces the headline measures to the pound', () => {
    // PV costs  = 300,000 + 250,000 / 1.035 = £541,545.89
    // PV fiscal = 77,392.80 + 473,752.80/1.035 + 340,912.80/1.035² + 238,140/1.035³ = £1,068,159.36
    // NPBI = £526,613.46; financial ROI = 1,068,159.36 / 541,545.89 = 1.9724
    assert.equal(pounds(r.totals.present_value.costs_pence), 541546);
    assert.equal(pounds(r.totals.present_value.fiscal_pence), 1068159);
    assert.equal(pounds(r.net_present_budget_impact_pence), 526613);
    assert.equal(r.financial_roi, 1.9724);
    assert.equal(r.public_value_roi, 1.9724);
    // Cumulative PV fiscal passes PV costs in year 3: 535,124.97 < 541,545.89 at year 2, 853,370.72 at 3
    assert.equal(r.payback_year, 3);
  });

  test('proposes that DWP, the only cashable beneficiary, repays the council and the police', () => {
    // DWP cashable PV = 398,908.80/1.035 + 299,181.60/1.035² + 224,386.20/1.035³ = £867,091.85
    // Investors: council 491,545.89 (250,000 + 250,000/1.035), police 50,000.00 = 541,545.89
    // DWP keeps 867,091.85 − 541,545.89 = 325,545.96 for reinvestment
    assert.deepEqual(r.investment_agreement.repayments, [
      { from: 'DWP', to: 'Council', amount_pence: 49154589 },
      { from: 'DWP', to: 'Police', amount_pence: 5000000 },
    ]);
    assert.deepEqual(r.investment_agreement.to_reinvestment_pence, { DWP: 32554596 });
    const dwp = r.who_invests_who_benefits.find((p) => p.partner === 'DWP');
    assert.equal(dwp?.cashable_benefits_pv_pence, 86709185);
  });

  test('finds the break-even success rate: fiscal benefits scale with success', () => {
    // scale = 541,545.89 / 1,068,159.36 = 0.5069898; into-work success 0.15 × 0.5069898 = 0.0760485
    assert.equal(r.break_even.success_scale, 0.50699);
    assert.equal(r.break_even.success_rates[0]?.success, 0.076048);
    assert.ok(r.break_even.success_rates.every((s) => s.achievable));
  });

  test('sensitivity: costs 20% higher cut the budget impact by 20% of PV costs', () => {
    // 1,068,159.36 − 1.2 × 541,545.89 = 418,304.29
    const row = r.sensitivity.find((s) => s.input === 'costs' && s.change === 0.2);
    assert.equal(pounds(row!.net_present_budget_impact_pence), 418304);
    assert.equal(r.sensitivity.length, 7 * 4);
  });
});

describe('hand-computed cases', () => {
  test('discounting at the Green Book 3.5%: year 1 is undiscounted, year 3 is divided by 1.035²', () => {
    assert.equal(discountFactor(1, 0.035), 1);
    // 1 / 1.071225 = 0.933510700...
    assert.equal(discountFactor(3, 0.035).toFixed(9), '0.933510700');
  });

  test('optimism bias takes the graded share off the benefit', () => {
    // 100 × 1 × 0.5 × (1 − 0) × £1,000 × (1 − 0.40) = £30,000 → 3,000,000 pence
    assert.equal(optimismBiasFor(6), 0.4);
    assert.equal(
      annualBenefit({
        cohort: 100,
        engagement: 1,
        success: 0.5,
        deadweight: 0,
        unitCost: 100000,
        optimismBias: optimismBiasFor(6),
      }),
      3000000,
    );
  });

  test('drop-off profiles a line: 1, 0.5, 0.25 then nothing after its duration', () => {
    const line = { startYear: 2, durationYears: 3, dropOff: 0.5 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((y) => profileShare(line, y)),
      [0, 1, 0.5, 0.25, 0],
    );
  });

  test('payback: £100 cost in year 1, £60 benefit a year, undiscounted pays back in year 2', () => {
    const model: BusinessCase = {
      title: 't',
      intervention: '',
      priceYear: 2013,
      firstYear: 2014,
      years: 3,
      discountRate: 0,
      costs: [{ partner: 'Council', year: 1, amountPence: 10000 }],
      benefits: [
        {
          outcome: 'o',
          unitCost: {
            costPence: 6000,
            priceYear: 2013,
            valueType: 'fiscal',
            agency: 'Council',
            cashable: true,
            source: 's',
          },
          cohort: 1,
          engagement: 1,
          success: 1,
          deadweight: 0,
          confidenceGrade: 1,
          startYear: 1,
          durationYears: 3,
          dropOff: 0,
        },
      ],
    };
    // cumulative: year 1 60 < 100; year 2 120 ≥ 100
    assert.equal(runModel(model, () => undefined).payback_year, 2);
    // at 3.5% the second year brings 60/1.035 = 57.97: 117.97 ≥ 100, still year 2
    assert.equal(runModel({ ...model, discountRate: 0.035 }, () => undefined).payback_year, 2);
  });

  test('uplifting between price years uses the GDP deflator ratio', () => {
    // 2024 index 100, 2013 index 73.4795
    assert.equal(upliftFactor(2013, 2024), 100 / 73.4795);
    assert.throws(() => upliftFactor(1980, 2024), /No GDP deflator for 1980/);
  });

  test('an agreement balances to the penny however the shares fall', () => {
    assert.deepEqual(apportion(100, [1, 1, 1]), [34, 33, 33]);
    const a = proposeAgreement([
      { partner: 'A', costs: 1000, cashable: 0 },
      { partner: 'B', costs: 0, cashable: 333.3 },
      { partner: 'C', costs: 0, cashable: 333.3 },
    ]);
    // pool = min(1000, 666.6) = 666.6 → 667 pence, split 334 / 333; A is left 333 unrepaid
    assert.deepEqual(
      a.repayments.map((t) => t.amount_pence),
      [334, 333],
    );
    assert.deepEqual(a.investors_unrepaid_pence, { A: 333 });
  });

  test('names every problem in a business case by its path', () => {
    assert.throws(
      () =>
        parseBusinessCase({
          title: '',
          priceYear: 1980,
          firstYear: 2014,
          years: 3,
          costs: [],
          benefits: [
            {
              outcome: 'x',
              unitCost: 'ae_attendance',
              cohort: 1,
              engagement: 2,
              success: 0.1,
              deadweight: 0,
              confidenceGrade: 7,
              startYear: 1,
              durationYears: 1,
              dropOff: 0,
            },
          ],
        }),
      (err: Error & { fields?: Record<string, string> }) => {
        assert.equal(err.fields?.title, 'Enter some text');
        assert.equal(err.fields?.priceYear, 'Must be between 1990 and 2100');
        assert.equal(err.fields?.['benefits[0].engagement'], 'Must be between 0 and 1');
        assert.equal(err.fields?.['benefits[0].confidenceGrade'], 'Must be between 1 and 6');
        return true;
      },
    );
  });

  test('refuses a line naming a unit cost code that has no figure', () => {
    const model = example();
    model.benefits[0]!.unitCost = 'looked_after_child_year';
    assert.throws(
      () => runModel(model, nationalUnitCost),
      (err: Error & { fields?: Record<string, string> }) => {
        assert.match(
          err.fields?.['benefits[0].unitCost'] ?? '',
          /No unit cost with code looked_after_child_year/,
        );
        return true;
      },
    );
  });
});

describe('properties', () => {
  const rate = fc.double({ min: 0, max: 1, noNaN: true });
  const line = fc.record({
    cohort: fc.integer({ min: 1, max: 5000 }),
    engagement: rate,
    success: rate,
    deadweight: rate,
    optimismBias: rate,
    costPence: fc.integer({ min: 1, max: 10_000_000 }),
    startYear: fc.integer({ min: 1, max: 5 }),
    durationYears: fc.integer({ min: 1, max: 10 }),
    dropOff: rate,
  });
  type Line = typeof line extends fc.Arbitrary<infer T> ? T : never;
  const toModel = (l: Line, discountRate: number): BusinessCase => ({
    title: 'p',
    intervention: '',
    priceYear: 2013,
    firstYear: 2014,
    years: 10,
    discountRate,
    costs: [{ partner: 'Council', year: 1, amountPence: 100000 }],
    benefits: [
      {
        outcome: 'o',
        cohort: l.cohort,
        engagement: l.engagement,
        success: l.success,
        deadweight: l.deadweight,
        confidenceGrade: 1,
        optimismBias: l.optimismBias,
        optimismBiasReason: 'test',
        startYear: l.startYear,
        durationYears: l.durationYears,
        dropOff: l.dropOff,
        unitCost: {
          costPence: l.costPence,
          priceYear: 2013,
          valueType: 'fiscal',
          agency: 'NHS',
          cashable: true,
          source: 's',
        },
      },
    ],
  });

  test('discounted totals never exceed undiscounted ones for positive flows', () => {
    fc.assert(
      fc.property(line, fc.double({ min: 0, max: 0.2, noNaN: true }), (l, r) => {
        const res = runModel(toModel(l, r), () => undefined);
        return (
          res.totals.present_value.fiscal_pence <= res.totals.fiscal_pence &&
          res.totals.present_value.costs_pence <= res.totals.costs_pence
        );
      }),
    );
  });

  test('raising deadweight or optimism bias never raises benefits', () => {
    fc.assert(
      fc.property(line, rate, rate, (l, more1, more2) => {
        const base = runModel(toModel(l, 0.035), () => undefined).totals.present_value.fiscal_pence;
        const dw = runModel(
          toModel({ ...l, deadweight: Math.min(1, l.deadweight + more1) }, 0.035),
          () => undefined,
        ).totals.present_value.fiscal_pence;
        const ob = runModel(
          toModel({ ...l, optimismBias: Math.min(1, l.optimismBias + more2) }, 0.035),
          () => undefined,
        ).totals.present_value.fiscal_pence;
        return dw <= base && ob <= base;
      }),
    );
  });
});
