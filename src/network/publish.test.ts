import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PlaceKind } from '../places/domain.ts';
import { controlDisclosure, type CountCell, type Relation } from './disclosure.ts';
import { rollupCsv, rollupDataPackage } from './export.ts';
import type { Figure, MoneyFigures, SavingsFigures } from './figures.ts';
import { familyCells, publish, type PlaceInput, type Publication } from './publish.ts';

const none = { available: false as const, reason: 'not connected' };
const source = { label: 'test', href: '/' };

function place(
  slug: string,
  kind: PlaceKind,
  cohort: number | null,
  options: Partial<PlaceInput> = {},
): PlaceInput {
  return {
    slug,
    name: slug,
    kind,
    partners: 5,
    shares: true,
    money: none,
    // £45,000 a family in the year before, £30,000 after: a third less, as joined-up work managed in Salford.
    families:
      cohort === null
        ? none
        : {
            available: true,
            value: { cohort, costBefore: cohort * 4_500_000, costAfter: cohort * 3_000_000 },
            source,
          },
    savings: none,
    indicators: { indicators: 2, measured: 2, onTrack: 1, meanProgress: 0.5 },
    ...options,
  };
}

const money = (pot: number, committed: number, spent: number): Figure<MoneyFigures> => ({
  available: true,
  value: { pot, committed, spent, byPartner: [] },
  source,
});
const savings = (forecast: number, realised: number): Figure<SavingsFigures> => ({
  available: true,
  value: { forecast, realised, notCounted: [] },
  source,
});

describe('small-number suppression', () => {
  // Whole places 120 + 85 + 7 + 40 = 252; neighbourhoods 12 + 3 + 25 = 40; all 292.
  const network = [
    place('essex', 'whole_place', 120),
    place('greater-manchester', 'whole_place', 85),
    place('cheshire-west-and-chester', 'whole_place', 7),
    place('west-london-tri-borough', 'whole_place', 40),
    place('ilfracombe', 'neighbourhood', 12),
    place('sherwood', 'neighbourhood', 3),
    place('haverhill', 'neighbourhood', 25),
  ];

  it('shows counts under 10 as <10 and withholds the smallest neighbour that would give them away', () => {
    // Cheshire (7) and Sherwood (3) are under 10. With the subtotals published, 252 − 120 − 85 − 40
    // would give Cheshire's 7 and 40 − 12 − 25 Sherwood's 3, so the smallest published cell in
    // each relation is withheld too: Ilfracombe (12) and Tri-borough (40).
    const { benchmarks, rollup } = publish(network, 'families');
    const shown = Object.fromEntries(benchmarks.map((b) => [b.slug, b.measures.families.text]));
    assert.deepEqual(shown, {
      essex: '120',
      'greater-manchester': '85',
      haverhill: '25',
      'cheshire-west-and-chester': '<10',
      ilfracombe: '[c]',
      sherwood: '<10',
      'west-london-tri-borough': '[c]',
    });
    assert.deepEqual(
      rollup.map((r) => [r.kind, r.families.text]),
      [
        ['all', '292'],
        ['whole_place', '252'],
        ['neighbourhood', '40'],
      ],
    );
  });

  it('withholds per-family figures wherever the count is withheld, and computes them where it is shown', () => {
    const { benchmarks } = publish(network);
    const row = (slug: string) => benchmarks.find((b) => b.slug === slug)!.measures;
    // Essex: £5,400,000.00 / 120 = £45,000.00 a family; (£3.6m − £5.4m) / £5.4m = −33.3%.
    assert.equal(row('essex').cost_per_family.text, '£45,000.00');
    assert.equal(row('essex').change_after_intervention.text, '-33.3%');
    for (const slug of ['cheshire-west-and-chester', 'sherwood', 'ilfracombe', 'west-london-tri-borough']) {
      assert.equal(row(slug).cost_per_family.text, '[c]');
      assert.equal(row(slug).change_after_intervention.text, '[c]');
      assert.equal('value' in row(slug).cost_per_family, false, 'a withheld figure carries no value');
    }
  });

  it('keeps a place that does not share out of the benchmarks and out of reach of subtraction', () => {
    // Greater Manchester (85) opts out: 252 − 120 − 40 − Cheshire would reveal it, so another
    // whole-place cell goes with it.
    const optOut = network.map((p) => (p.slug === 'greater-manchester' ? { ...p, shares: false } : p));
    const { benchmarks } = publish(optOut);
    assert.equal(
      benchmarks.some((b) => b.slug === 'greater-manchester'),
      false,
    );
    assertNothingDerivable(publish(optOut), optOut);
  });

  it('never lets a published cell, in either table, pin down a suppressed count (property)', () => {
    const kinds = fc.constantFrom<PlaceKind>('whole_place', 'neighbourhood');
    const cohort = fc.oneof(
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 10, max: 400 }),
      fc.constant(null),
    );
    const network = fc.uniqueArray(
      fc.record({ slug: fc.stringMatching(/^[a-z]{1,6}$/), kind: kinds, cohort, shares: fc.boolean() }),
      {
        minLength: 1,
        maxLength: 12,
        selector: (p) => p.slug,
      },
    );
    fc.assert(
      fc.property(network, (specs) => {
        const places = specs.map((s) => place(s.slug, s.kind, s.cohort, { shares: s.shares }));
        const publication = publish(places);
        assertNothingDerivable(publication, places);
        for (const row of publication.benchmarks) {
          const f = row.measures.families;
          if (f.shown) assert.ok(f.value >= 10, `${row.slug} shows ${f.value}`);
          if (!f.shown)
            assert.ok(!row.measures.cost_per_family.shown && !row.measures.change_after_intervention.shown);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The attacker's view: every family count the two tables show, and the sums that tie them
 * together. A hidden count is derivable when adding it as an equation does not raise the rank of
 * the hidden part of the system (checked here in floating point, independently of the exact
 * elimination the suppression itself uses).
 */
function assertNothingDerivable(publication: Publication, places: PlaceInput[]) {
  const { cells, relations } = familyCells(places);
  const shown = new Map<string, number>();
  for (const b of publication.benchmarks)
    if (b.measures.families.shown) shown.set(`families:place:${b.slug}`, b.measures.families.value);
  for (const r of publication.rollup)
    if (r.families.shown) shown.set(`families:total:${r.kind}`, r.families.value);
  const hidden = cells.filter((c) => !shown.has(c.id)).map((c) => c.id);
  const col = new Map(hidden.map((id, i) => [id, i]));
  const matrix = relations.map((r) => {
    const row = new Array<number>(hidden.length).fill(0);
    if (col.has(r.total)) row[col.get(r.total)!]! += 1;
    for (const p of r.parts) if (col.has(p)) row[col.get(p)!]! -= 1;
    return row;
  });
  const base = rankOf(matrix);
  for (const id of hidden) {
    const unit = hidden.map((h) => (h === id ? 1 : 0));
    assert.equal(rankOf([...matrix, unit]), base + 1, `${id} can be worked out from the published tables`);
  }
}

function rankOf(input: number[][]): number {
  const m = input.map((r) => [...r]);
  let rank = 0;
  const cols = m[0]?.length ?? 0;
  for (let c = 0; c < cols && rank < m.length; c++) {
    let best = rank;
    for (let i = rank; i < m.length; i++) if (Math.abs(m[i]![c]!) > Math.abs(m[best]![c]!)) best = i;
    if (Math.abs(m[best]![c]!) < 1e-9) continue;
    [m[rank], m[best]] = [m[best]!, m[rank]!];
    for (let i = 0; i < m.length; i++) {
      if (i === rank) continue;
      const f = m[i]![c]! / m[rank]![c]!;
      for (let j = c; j < cols; j++) m[i]![j]! -= f * m[rank]![j]!;
    }
    rank++;
  }
  return rank;
}

describe('disclosure control on its own', () => {
  it('leaves a table alone when every count is 10 or more', () => {
    const cells: CountCell[] = [
      { id: 'a', value: 10, shareable: true },
      { id: 'b', value: 31, shareable: true },
      { id: 't', value: 41, shareable: true },
    ];
    const relations: Relation[] = [{ total: 't', parts: ['a', 'b'] }];
    assert.equal(controlDisclosure(cells, relations).suppressed.size, 0);
  });

  it('suppresses a total that equals its single part', () => {
    // A kind with one place: the subtotal is that place's count, so both go.
    const cells: CountCell[] = [
      { id: 'a', value: 4, shareable: true },
      { id: 't', value: 4, shareable: true },
    ];
    assert.deepEqual(
      [...controlDisclosure(cells, [{ total: 't', parts: ['a'] }]).suppressed],
      [
        ['a', 'small'],
        ['t', 'small'],
      ],
    );
  });
});

describe('the national roll-up', () => {
  it('adds money and savings in pence over the places that report them and says how many do', () => {
    const places = [
      // Essex: £10,400,000.00 pooled, £2,500,000.50 committed, £6,000,000.00 spent; £900,000.00 realised of £1,500,000.00 forecast.
      place('essex', 'whole_place', 120, {
        money: money(1_040_000_000, 250_000_050, 600_000_000),
        savings: savings(150_000_000, 90_000_000),
      }),
      // Ilfracombe: £350,000.25 pooled, £20,000.00 committed, £100,000.00 spent; £30,000.00 realised of £25,000.00 forecast.
      place('ilfracombe', 'neighbourhood', 15, {
        money: money(35_000_025, 2_000_000, 10_000_000),
        savings: savings(2_500_000, 3_000_000),
        partners: 4,
      }),
      place('greater-manchester', 'whole_place', null, { partners: 7 }),
    ];
    const { rollup, benchmarks } = publish(places);
    const all = rollup.find((r) => r.kind === 'all')!;
    // Pot £10,400,000.00 + £350,000.25 = £10,750,000.25; committed £2,500,000.50 + £20,000.00 = £2,520,000.50;
    // spent £6,100,000.00; forecast £1,525,000.00; realised £930,000.00; partners 5 + 4 + 7 = 16; families 120 + 15.
    assert.deepEqual(
      [
        all.places,
        all.partners,
        all.moneyReporting,
        all.pot.text,
        all.committed.text,
        all.spent.text,
        all.families.text,
        all.savingsForecast.text,
        all.savingsRealised.text,
      ],
      [3, 16, 2, '£10,750,000.25', '£2,520,000.50', '£6,100,000.00', '135', '£1,525,000.00', '£930,000.00'],
    );
    const whole = rollup.find((r) => r.kind === 'whole_place')!;
    assert.deepEqual(
      [whole.places, whole.moneyReporting, whole.pot.text, whole.familiesReporting],
      [2, 1, '£10,400,000.00', 1],
    );
    // Essex realised £900,000 of £6,000,000 spent = 15.0%; Ilfracombe £30,000 of £100,000 = 30.0%.
    assert.deepEqual(
      benchmarks.map((b) => [b.slug, b.measures.savings_share.text]),
      [
        ['essex', '15.0%'],
        ['greater-manchester', 'Not available yet'],
        ['ilfracombe', '30.0%'],
      ],
    );
  });

  it('ranks places best first by the chosen measure, with ties sharing a rank and missing figures last', () => {
    const places = [
      place('a', 'whole_place', 50, {
        indicators: { indicators: 4, measured: 4, onTrack: 3, meanProgress: 0.62 },
      }),
      place('b', 'whole_place', 20, {
        indicators: { indicators: 2, measured: 2, onTrack: 1, meanProgress: 0.62 },
      }),
      place('c', 'whole_place', 30, {
        indicators: { indicators: 1, measured: 1, onTrack: 1, meanProgress: 0.8 },
      }),
      place('d', 'whole_place', 30, {
        indicators: { indicators: 0, measured: 0, onTrack: 0, meanProgress: null },
      }),
    ];
    const ranked = publish(places, 'indicator_progress').benchmarks.map((b) => [b.slug, b.rank]);
    assert.deepEqual(ranked, [
      ['c', 1],
      ['a', 2],
      ['b', 2],
      ['d', null],
    ]);
    // Cost per family is the same £45,000 for all, so lower-is-better ranking falls back to name order with a shared rank.
    assert.deepEqual(
      publish(places, 'cost_per_family').benchmarks.map((b) => b.rank),
      [1, 1, 1, 1],
    );
  });

  it('exports CSV and a Fiscal Data Package whose fields match the CSV header', () => {
    const { rollup } = publish([place('essex', 'whole_place', 6, { money: money(1_040_000_000, 0, 0) })]);
    const csv = rollupCsv(rollup);
    const [header, all] = csv.split('\r\n');
    const pkg = rollupDataPackage('2014-04-01');
    assert.deepEqual(
      header!.split(','),
      pkg.resources[0]!.schema.fields.map((f) => f.name),
    );
    // Essex alone, 6 families: every families cell is under 10.
    assert.equal(all, 'all,1,5,1,1040000000,0,0,1,<10,0,,');
    assert.deepEqual(Object.keys(pkg.model.measures), [
      'pooled',
      'committed',
      'spent',
      'savings_forecast',
      'savings_realised',
    ]);
    assert.equal(pkg.model.measures.pooled.factor, 0.01);
    assert.equal(pkg.model.dimensions.place_kind.dimensionType, 'classification');
  });
});
