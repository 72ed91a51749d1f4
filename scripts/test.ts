/**
 * `npm test`: every `*.test.ts` beside the code (src/) and the cross-cutting ones (test/), run by
 * node's own test runner, on PGlite, or on PostgreSQL when DATABASE_URL is set (each test file
 * makes its own database and drops it). `npm run test:browser` runs the browser tests instead.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const browser = process.argv.includes('--browser');
const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const roots = browser ? ['browser'] : ['src', 'test'];

function findTests(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = roots.flatMap(findTests).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('No test files found');
  process.exit(1);
}
const engine = browser ? 'Chromium' : process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (in memory)';
console.log(`Running ${files.length} test files on ${engine}`);

// Two cores run two files at once; PGlite and PostgreSQL tests are mostly waiting on I/O.
const concurrency = browser ? 1 : Math.max(2, os.availableParallelism());
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
