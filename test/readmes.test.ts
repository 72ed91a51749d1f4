import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

/**
 * Every folder under src/ has a README.md whose `| File | … |` table names each of its non-test
 * `.ts` files and sub-folders, and names nothing that is not there (issue 14: "each capability has
 * a README table of its files"). A sub-folder counts as named by `` `views/` `` or by a file in it
 * (`` `data/unit-costs.json` ``); names are relative to the folder, so `../reference/figures.ts`
 * may point next door.
 */
const src = path.resolve(import.meta.dirname, '..', 'src');

/** The names in backticks in the first column of the README's table headed `File`. */
function tableNames(readme: string): string[] | undefined {
  const rows = readme.split('\n').map((line) => line.trim());
  const cells = (row: string) => row.replace(/^\||\|$/g, '').split('|');
  const header = rows.findIndex(
    (row) => row.startsWith('|') && cells(row)[0]?.trim().toLowerCase() === 'file',
  );
  if (header === -1) return undefined;
  const body = rows.slice(header + 2);
  const end = body.findIndex((row) => !row.startsWith('|'));
  return (end === -1 ? body : body.slice(0, end)).flatMap((row) =>
    [...(cells(row)[0] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1]!),
  );
}

interface Entry {
  name: string;
  isDirectory: boolean;
}

/** What the README at `where` gets wrong about the folder holding `entries`, one sentence each. */
function readmeDrift(
  where: string,
  readme: string | undefined,
  entries: readonly Entry[],
  exists: (name: string) => boolean,
): string[] {
  if (readme === undefined) return [`${where} is missing`];
  const names = tableNames(readme);
  if (names === undefined) return [`${where} has no | File | What it holds | table`];
  const named = (entry: Entry) =>
    entry.isDirectory
      ? names.some((n) => n === entry.name || n.startsWith(`${entry.name}/`))
      : names.includes(entry.name);
  const listed = entries.filter(
    (e) => e.isDirectory || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')),
  );
  return [
    ...listed
      .filter((e) => !named(e))
      .map((e) => `${where} does not name ${e.name}${e.isDirectory ? '/' : ''}`),
    ...names.filter((n) => !exists(n)).map((n) => `${where} names ${n}, which does not exist`),
  ];
}

function driftOf(folder: string): string[] {
  const dir = path.join(src, folder);
  const file = path.join(dir, 'README.md');
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .map((e) => ({ name: e.name, isDirectory: e.isDirectory() }));
  const exists = (name: string) => {
    const target = path.join(dir, name);
    return name.endsWith('/')
      ? fs.statSync(target, { throwIfNoEntry: false })?.isDirectory() === true
      : fs.existsSync(target);
  };
  const readme = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  return readmeDrift(`src/${folder}/README.md`, readme, entries, exists);
}

describe('the README of every folder under src/', () => {
  const folders = fs
    .readdirSync(src, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

  it('covers the folders there are', () => {
    assert.ok(folders.length > 10, `found ${folders.join(', ')}`);
  });

  for (const folder of folders) {
    it(`src/${folder}/README.md names every file and sub-folder there, and only those`, () => {
      assert.deepEqual(driftOf(folder), []);
    });
  }

  it('says which file is missing from which README, and which named file is gone (the check itself works)', () => {
    const readme = [
      '# thing',
      '',
      '| File | What it holds |',
      '| --- | --- |',
      '| `domain.ts`, `store.ts` | the rules and the store |',
      '| `views/` | templates |',
      '| `data/figures.json` | figures |',
      '',
      '| page | address |',
      '| --- | --- |',
      '| `routes.ts` is not in the file table | `/x` |',
    ].join('\n');
    const entries = [
      { name: 'domain.ts', isDirectory: false },
      { name: 'routes.ts', isDirectory: false },
      { name: 'routes.test.ts', isDirectory: false },
      { name: 'README.md', isDirectory: false },
      { name: 'views', isDirectory: true },
      { name: 'data', isDirectory: true },
      { name: 'examples', isDirectory: true },
    ];
    const exists = (name: string) => name !== 'store.ts';
    assert.deepEqual(readmeDrift('src/thing/README.md', readme, entries, exists), [
      'src/thing/README.md does not name routes.ts',
      'src/thing/README.md does not name examples/',
      'src/thing/README.md names store.ts, which does not exist',
    ]);
    assert.deepEqual(readmeDrift('src/thing/README.md', undefined, entries, exists), [
      'src/thing/README.md is missing',
    ]);
    assert.deepEqual(readmeDrift('src/thing/README.md', '# thing\n\nNo table.', entries, exists), [
      'src/thing/README.md has no | File | What it holds | table',
    ]);
  });
});
