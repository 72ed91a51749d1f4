/**
 * The repository carries everything its tests read: every fixture is the exact file its README
 * cites, the fixtures stay small, and no file the project tracks points outside the repository.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './cli.ts';
import { FIXTURES_DIR, SPEND_FIXTURES, STANDARDS_FIXTURES, SYNTHETIC_FIXTURES } from './fixtures.ts';

const FIXTURE_BUDGET_BYTES = 10 * 1024 * 1024;

const sums = fs
  .readFileSync(path.join(FIXTURES_DIR, 'SHA256SUMS'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => {
    const [sha256, file] = line.split(/\s+/);
    return { sha256: sha256!, file: file! };
  });

test('every fixture is byte for byte the file its checksum names', () => {
  for (const { sha256, file } of sums) {
    const bytes = fs.readFileSync(path.join(FIXTURES_DIR, file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), sha256, `${file} has changed`);
  }
});

test('every fixture the tests name is checksummed and cited in the README', () => {
  const readme = fs.readFileSync(path.join(FIXTURES_DIR, 'README.md'), 'utf8');
  for (const full of [SPEND_FIXTURES, STANDARDS_FIXTURES, SYNTHETIC_FIXTURES].flatMap(Object.values)) {
    const relative = path.relative(FIXTURES_DIR, full);
    assert.ok(
      sums.some((s) => s.file === relative),
      `${relative} is not in SHA256SUMS`,
    );
    assert.ok(readme.includes(`\`${path.basename(full)}\``), `${relative} is not cited in the README`);
  }
});

test('the fixtures stay under 10 MB in all', () => {
  const total = sums.reduce((sum, { file }) => sum + fs.statSync(path.join(FIXTURES_DIR, file)).size, 0);
  assert.ok(total < FIXTURE_BUDGET_BYTES, `${total} bytes of fixtures`);
});

test('no tracked file refers to a folder beside the repository', () => {
  // Built from parts so that this file does not match itself.
  const outside = ['..', 'shared', ''].join('/');
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && !file.startsWith('test/fixtures/') && file !== 'package-lock.json');
  const offenders = tracked.filter((file) => {
    const full = path.join(REPO_ROOT, file);
    return fs.existsSync(full) && fs.readFileSync(full, 'utf8').includes(outside);
  });
  assert.deepEqual(offenders, []);
});
