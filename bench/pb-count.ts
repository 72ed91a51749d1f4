import { seededRandom } from '../src/core/random.ts';
import { profileOf, type Election } from '../src/pb/election.ts';
import { count, type CountOptions } from '../src/pb/rules.ts';
import { result, type Benchmark, type BenchResult } from './types.ts';

/**
 * A city-scale approval election shaped like Pabulib's large ones (Warsaw, Kraków): 300
 * projects costing £5,000–£400,000 in whole pounds, popularity falling off like a power law,
 * voters approving 1–15 projects, and a budget of about a fifth of the total cost.
 */
export function generateElection(voters: number, projects: number, seed: number): Election {
  const rand = seededRandom(seed);
  const list = Array.from({ length: projects }, (_, i) => ({
    id: String(i + 1),
    cost: 5_000 + Math.floor(rand() * 395_000),
  }));
  const weights = list.map((_, i) => 1 / Math.pow(i + 1, 0.8));
  const cumulative: number[] = [];
  weights.reduce((sum, w, i) => (cumulative[i] = sum + w), 0);
  const total = cumulative.at(-1)!;
  const pick = () => {
    const x = rand() * total;
    let lo = 0;
    let hi = projects - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const ballots = Array.from({ length: voters }, () => {
    const size = 1 + Math.floor(rand() * 15);
    const chosen = new Set<number>();
    while (chosen.size < size) chosen.add(pick());
    return { projects: [...chosen].map((p) => list[p]!.id) };
  });
  const budget = Math.round(list.reduce((s, p) => s + p.cost, 0) / 5);
  return { budget, projects: list, voteType: 'approval', ballots };
}

function measure(election: Election, options: CountOptions) {
  const profile = profileOf(election);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = process.hrtime.bigint();
  const outcome = count(profile, options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    ms: Math.round(ms),
    peakRssMiB: Math.round(peak / 2 ** 20),
    addedMiB: Math.round((peak - before) / 2 ** 20),
    outcome,
  };
}

const bench: Benchmark = {
  name: 'pb-count',
  description:
    'MES with add1 completion on generated approval elections (300 projects; 10,000 and 100,000 voters) against greedy on the same data',
  async run() {
    const out: BenchResult[] = [];
    for (const voters of [10_000, 100_000]) {
      const election = generateElection(voters, 300, 20250101 + voters);
      const greedy = measure(election, { rule: 'greedy' });
      const mes = measure(election, { rule: 'mes', utility: 'cost', completion: 'add1' });
      out.push(
        result({
          name: `mes add1, ${voters.toLocaleString('en-GB')} voters x 300 projects`,
          unit: 'ms',
          value: mes.ms,
          baseline: { name: 'greedy, same election', value: Math.max(1, greedy.ms) },
          higherIsBetter: false,
          engine: 'none',
          details: {
            mes: {
              ms: mes.ms,
              peakRssMiB: mes.peakRssMiB,
              addedMiB: mes.addedMiB,
              add1Steps: mes.outcome.add1Steps,
              winners: mes.outcome.winners.length,
              spent: mes.outcome.spent,
            },
            greedy: {
              ms: greedy.ms,
              peakRssMiB: greedy.peakRssMiB,
              addedMiB: greedy.addedMiB,
              winners: greedy.outcome.winners.length,
              spent: greedy.outcome.spent,
            },
            budget: election.budget,
            approvals: election.ballots.reduce((s, b) => s + b.projects.length, 0),
          },
        }),
      );
    }
    return out;
  },
};

export default bench;
