import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cycles, folderPairs, importEdges } from '../scripts/capability-graph.ts';

/**
 * The import graph between the folders under src/ has no cycles (Tarjan over every non-test
 * import), and only the root, src/demo/ and src/wiring/ reach the adapters. Before issue 14 the
 * eight capabilities auth, cba, families, ledger, outcomes, pb, places and services were one
 * strongly connected group, with nine pairs of folders importing each other.
 */
const src = path.resolve(import.meta.dirname, '..', 'src');

describe('imports between capability folders', () => {
  const edges = importEdges(src);

  it('form no cycle', () => {
    assert.ok(edges.length > 100, 'the graph was read');
    assert.deepEqual(cycles(edges), []);
    const pairs = folderPairs(edges);
    const mutual = pairs.filter((p) => {
      const [a = '', b = ''] = p.split(' -> ');
      return pairs.includes(`${b} -> ${a}`);
    });
    assert.deepEqual(mutual, []);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const edge = (from: string, to: string) => ({
      from,
      to,
      file: `${from}/x.ts`,
      specifier: `../${to}/y.ts`,
      typeOnly: false,
    });
    assert.deepEqual(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')]), [
      ['a', 'b', 'c'],
    ]);
    assert.deepEqual(cycles([edge('a', 'b'), edge('b', 'c')]), []);
  });

  it('keep src/wiring/ and src/demo/ to the root: no capability imports them', () => {
    const into = edges.filter((e) => e.to === 'wiring' || e.to === 'demo' || e.to === '.');
    assert.deepEqual(
      into.filter((e) => !['.', 'demo'].includes(e.from)).map((e) => `${e.file} -> ${e.specifier}`),
      [],
    );
  });

  it('leave out only core/schema.ts assembling table declarations, which import types only, and of another capability only its domain (an edge the graph counts)', () => {
    for (const folder of fs.readdirSync(src)) {
      const file = path.join(src, folder, 'tables.ts');
      if (!fs.existsSync(file)) continue;
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/^import (type )?.*? from '([^']+)';$/gm)) {
        const [, type, specifier = ''] = match;
        assert.ok(type, `${folder}/tables.ts imports types only (${specifier})`);
        assert.ok(
          specifier === 'kysely' ||
            specifier.startsWith('./') ||
            /^\.\.\/((core|reference)\/|[a-z]+\/domain\.ts$)/.test(specifier),
          `${folder}/tables.ts imports ${specifier}`,
        );
      }
    }
  });
});
