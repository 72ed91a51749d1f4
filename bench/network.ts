import { performance } from 'node:perf_hooks';
import { controlDisclosure, SMALL_COUNT } from '../src/network/disclosure.ts';
import { familyCells, publish, type PlaceInput } from '../src/network/publish.ts';
import { result, type Benchmark } from './types.ts';

/**
 * Publishing the network's benchmarks and roll-up for a national deployment: 150 whole places
 * (the 110+ councils of the families programme and more) and 250 neighbourhoods, a fifth of them
 * with cohorts under 10 and a tenth not sharing. Our path is the full disclosure control with
 * secondary suppression; the baseline is primary suppression alone (one pass over the cells),
 * so the ratio is what guarding against subtraction costs.
 */
function network(): PlaceInput[] {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: 400 }, (_, i): PlaceInput => {
    const cohort = random() < 0.2 ? Math.floor(random() * SMALL_COUNT) : 10 + Math.floor(random() * 400);
    return {
      slug: `place-${i}`,
      name: `Place ${i}`,
      kind: i < 150 ? 'whole_place' : 'neighbourhood',
      partners: 5,
      shares: random() > 0.1,
      money: { available: false, reason: '' },
      families: {
        available: true,
        value: { cohort, costBefore: cohort * 4_500_000, costAfter: cohort * 3_000_000 },
        source: { label: '', href: '' },
      },
      savings: { available: false, reason: '' },
      indicators: { indicators: 3, measured: 3, onTrack: 2, meanProgress: random() },
    };
  });
}

function timeMs(work: () => void, runs: number): number {
  work();
  const start = performance.now();
  for (let i = 0; i < runs; i++) work();
  return (performance.now() - start) / runs;
}

const bench: Benchmark = {
  name: 'network',
  description:
    'publish benchmarks and roll-up for 400 places with secondary suppression, against primary suppression only',
  async run() {
    const places = network();
    const { cells, relations } = familyCells(places);
    const ours = timeMs(() => publish(places), 20);
    const baseline = timeMs(() => controlDisclosure(cells, []), 20);
    const suppressed = controlDisclosure(cells, relations).suppressed;
    return [
      result({
        name: 'publish 400 places',
        unit: 'ms',
        value: Math.round(ours * 100) / 100,
        baseline: { name: 'primary suppression only', value: Math.round(baseline * 100) / 100 },
        higherIsBetter: false,
        target: { text: 'under 1,000 ms per publication', met: ours < 1000 },
        engine: 'none',
        details: {
          cells: cells.length,
          suppressed: suppressed.size,
          secondary: [...suppressed.values()].filter((r) => r === 'secondary').length,
        },
      }),
    ];
  },
};

export default bench;
