import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart } from './chart.ts';
import { formatPounds } from './money.ts';

describe('bar chart figure', () => {
  it('renders an SVG and a table holding the same numbers', () => {
    const figure = barChart({
      caption: 'Contributions by partner',
      categories: ['Council', 'Police'],
      series: [{ name: 'Contribution', values: [125_000_00, 40_000_50] }],
      format: formatPounds,
    });
    assert.match(figure.svg, /^<svg[\s\S]*<\/svg>$/);
    assert.match(figure.svg, /Council/);
    assert.deepEqual(figure.table, {
      head: ['', 'Contribution'],
      rows: [
        ['Council', '£125,000.00'],
        ['Police', '£40,000.50'],
      ],
    });
  });
});
