/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs the ones named.
 * Results are merged into bench/results.json, so running one benchmark keeps the others' figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Benchmark, BenchResult } from './types.ts';

const registry: Record<string, () => Promise<{ default: Benchmark }>> = {
  http: () => import('./http.ts'),
  'ledger-post': () => import('./ledger-post.ts'),
  'ledger-balance': () => import('./ledger-balance.ts'),
  'pb-count': () => import('./pb-count.ts'),
  'spend-import': () => import('./spend-import.ts'),
  'families-rollup': () => import('./families-rollup.ts'),
  network: () => import('./network.ts'),
  load: () => import('./load.ts'),
};

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');

async function main() {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((name) => !registry[name]);
  if (unknown.length) {
    console.error(`Unknown benchmark ${unknown.join(', ')}. Known: ${Object.keys(registry).join(', ')}`);
    process.exit(2);
  }
  const names = asked.length ? asked : Object.keys(registry);
  const previous = fs.existsSync(RESULTS)
    ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as { results: Record<string, BenchResult[]> })
    : { results: {} };
  const results: Record<string, BenchResult[]> = { ...previous.results };
  for (const name of names) {
    const bench = (await registry[name]!()).default;
    console.log(`\n▶ ${bench.name}: ${bench.description}`);
    results[name] = await bench.run();
    for (const r of results[name]) {
      console.log(
        `  ${r.name}: ${r.value} ${r.unit} vs ${r.baseline.name} ${r.baseline.value} ${r.unit} → ratio ${r.ratio}` +
          (r.target ? ` (target ${r.target.text}: ${r.target.met ? 'met' : 'NOT met'})` : ''),
      );
    }
  }
  const machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
  fs.writeFileSync(
    RESULTS,
    JSON.stringify({ updated_at: new Date().toISOString(), machine, results }, null, 2) + '\n',
  );
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS)}`);
}

await main();
