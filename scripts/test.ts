/**
 * `npm test`: every `*.test.ts` beside the code (src/) and the cross-cutting ones (test/), run by
 * node's own test runner, on PGlite, or on PostgreSQL when DATABASE_URL is set (each test file
 * makes its own database and drops it). The migrations run once, into a template each test file's
 * database is copied from (test/template.ts); the template is removed at the end, pass or fail.
 * `npm run test:browser` runs the browser tests instead.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTemplate, type Template } from '../test/template.ts';

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

const files = roots
  .flatMap(findTests)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('No test files found');
  process.exit(1);
}
const engine = browser
  ? 'Chromium'
  : process.env.DATABASE_URL
    ? 'PostgreSQL (DATABASE_URL)'
    : 'PGlite (in memory)';
console.log(`Running ${files.length} test files on ${engine}`);

// At least four files at once even on two cores: a file spends much of its time waiting (on the
// PostgreSQL server, PGlite's disk, child processes), and four beat two and three on both engines.
const concurrency = browser ? 1 : Math.max(4, os.availableParallelism());
const started = performance.now();
const template: Template | undefined = browser ? undefined : await makeTemplate(process.env.DATABASE_URL);
if (template) console.log(`Migrated the template in ${Math.round(performance.now() - started)} ms`);
let status = 1;
try {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-timeout=600000',
      '--test-reporter=spec',
      ...files,
    ],
    { stdio: 'inherit', env: { ...process.env, ...template?.env, NODE_ENV: 'test' } },
  );
  // Ctrl-C reaches the test runner too (same process group); this process waits for it to stop
  // and then removes the template, instead of dying first and leaving it behind.
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  status = await new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
} finally {
  await template?.remove();
}
process.exit(status);
