import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assert } from '../src/core/errors.ts';
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

/**
 * One count in a child process of its own, so its peak memory (the child's maximum resident
 * set) is its own and not what earlier counts in this process left behind. The child also
 * generates the election, so greedy's figures in the same shape are the baseline for both time
 * and memory. CPU time is reported beside wall time: on a shared machine it is the steadier one.
 */
function measure(voters: number, options: CountOptions): Measured {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), CHILD, String(voters), JSON.stringify(options)],
    {
      encoding: 'utf8',
      maxBuffer: 2 ** 24,
    },
  );
  return JSON.parse(out) as Measured;
}

interface Measured {
  ms: number;
  cpuMs: number;
  peakRssMiB: number;
  add1Steps: number | null;
  winners: number;
  spent: number;
  election: { budget: number; approvals: number };
}

const CHILD = '--pb-count-child';

function child(voters: number, options: CountOptions) {
  const election = generateElection(voters, 300, 20250101 + voters);
  const profile = profileOf(election);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const outcome = count(profile, options);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const measured: Measured = {
    ms: Math.round(ms),
    cpuMs: Math.round((used.user + used.system) / 1000),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    add1Steps: outcome.add1Steps,
    winners: outcome.winners.length,
    spent: outcome.spent,
    election: {
      budget: outcome.budget,
      approvals: election.ballots.reduce((s, b) => s + b.projects.length, 0),
    },
  };
  process.stdout.write(JSON.stringify(measured));
}

const bench: Benchmark = {
  name: 'pb-count',
  description:
    'MES with add1 completion on generated approval elections (300 projects; 10,000 and 100,000 voters) against greedy on the same data',
  async run() {
    const out: BenchResult[] = [];
    for (const voters of [10_000, 100_000]) {
      const greedy = measure(voters, { rule: 'greedy' });
      const mes = measure(voters, { rule: 'mes', utility: 'cost', completion: 'add1' });
      const { election, ...greedyFigures } = greedy;
      const { election: same, ...mesFigures } = mes;
      assert(
        same.budget === election.budget && same.approvals === election.approvals,
        'both counts see the same election',
      );
      out.push(
        result({
          name: `mes add1, ${voters.toLocaleString('en-GB')} voters x 300 projects`,
          unit: 'ms',
          value: mes.ms,
          baseline: { name: 'greedy, same election', value: Math.max(1, greedy.ms) },
          higherIsBetter: false,
          engine: 'none',
          details: { mes: mesFigures, greedy: greedyFigures, ...election },
        }),
      );
    }
    return out;
  },
};

export default bench;

if (process.argv[2] === CHILD) child(Number(process.argv[3]), JSON.parse(process.argv[4]!) as CountOptions);
