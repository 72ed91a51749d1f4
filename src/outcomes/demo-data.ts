import type { NewIndicator } from './domain.ts';

/**
 * Indicators for the four whole-place pilots, with the targets they published. Baselines,
 * entered trajectories and actual values are illustrative, for the demo only, and say so.
 */
const PILOTS_2011 = 'Target: DCLG announcement of the 14 community budget pilots, December 2011';
const LGA_2011 = 'Target: LGA, “Thoughts on the Community Budget pilots”, December 2011';
const ILLUSTRATIVE = 'Baseline and actual values are illustrative demo figures, not published statistics';

export interface DemoIndicator extends NewIndicator {
  actuals: [period_end: string, value: number][];
}

export const DEMO_INDICATORS: Record<string, DemoIndicator[]> = {
  'west-london-tri-borough': [
    {
      title: 'Young people not in education, employment or training',
      definition:
        'Residents aged 16 to 24 not in education, employment or training, as a share of all residents aged 16 to 24. The Tri-borough guarantee is that every young person under 25 is in work, education or training.',
      unit: '% of 16 to 24 year olds',
      source: `${PILOTS_2011}. ${ILLUSTRATIVE}.`,
      better: 'lower',
      frequency: 'annual',
      baseline: { value: 5.2, date: '2012-03-31' },
      target: { value: 0, date: '2016-03-31' },
      trajectory: [],
      actuals: [
        ['2013-03-31', 4.3],
        ['2014-03-31', 3.5],
      ],
    },
    {
      title: 'Pupils achieving five or more A*–C GCSEs',
      definition:
        'Pupils at the end of key stage 4 achieving five or more GCSEs at grades A* to C, as a share of all pupils at the end of key stage 4.',
      unit: '% of pupils',
      source: `${LGA_2011}. ${ILLUSTRATIVE}.`,
      better: 'higher',
      frequency: 'annual',
      baseline: { value: 64, date: '2012-03-31' },
      target: { value: 80, date: '2015-03-31' },
      trajectory: [],
      actuals: [
        ['2013-03-31', 69.1],
        ['2014-03-31', 73],
      ],
    },
  ],
  'greater-manchester': [
    {
      title: 'Jobs supported by joint investment',
      definition:
        'Jobs created or safeguarded by the partners’ joint investment since April 2012, counted cumulatively.',
      unit: 'jobs (cumulative)',
      source: `${PILOTS_2011}. ${ILLUSTRATIVE}.`,
      better: 'higher',
      frequency: 'annual',
      baseline: { value: 0, date: '2012-03-31' },
      target: { value: 50_000, date: '2016-03-31' },
      // Investment takes time to turn into jobs, so the board planned a slow first two years.
      trajectory: [
        { period_end: '2013-03-31', expected: 8_000 },
        { period_end: '2014-03-31', expected: 20_000 },
        { period_end: '2015-03-31', expected: 35_000 },
      ],
      actuals: [
        ['2013-03-31', 11_200],
        ['2014-03-31', 23_900],
      ],
    },
  ],
  'cheshire-west-and-chester': [
    {
      title: 'Local services reviewed for the single budget',
      definition:
        'Local public services whose spending by every partner has been mapped and reviewed as the basis for a single budget, counted cumulatively.',
      unit: 'services (cumulative)',
      source: `${PILOTS_2011}. ${ILLUSTRATIVE}.`,
      better: 'higher',
      frequency: 'quarterly',
      baseline: { value: 0, date: '2011-12-31' },
      target: { value: 150, date: '2013-03-31' },
      trajectory: [],
      actuals: [
        ['2012-03-31', 20],
        ['2012-06-30', 61],
        ['2012-09-30', 84],
      ],
    },
  ],
  essex: [
    {
      title: 'Cashable savings reinvested in prevention and early intervention',
      definition:
        'Cashable savings from the community budget that partners reinvest in prevention and early intervention, as a share of all cashable savings, rather than handing them back.',
      unit: '% of cashable savings',
      source: `${PILOTS_2011}. ${ILLUSTRATIVE}.`,
      better: 'higher',
      frequency: 'annual',
      baseline: { value: 0, date: '2012-03-31' },
      target: { value: 100, date: '2015-03-31' },
      trajectory: [],
      actuals: [
        ['2013-03-31', 35],
        ['2014-03-31', 60],
      ],
    },
  ],
};
