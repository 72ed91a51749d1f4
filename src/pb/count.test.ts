import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { countElection } from './count.ts';
import type { Election } from './election.ts';
import { parsePabulib } from './pabulib.ts';

/** A tiny election held in memory: no database is opened anywhere in this file. */
const TINY = `META
key;value
budget;10
vote_type;approval
PROJECTS
project_id;cost
1;6
2;4
3;5
VOTES
voter_id;vote
v1;1,2
v2;1
v3;1,3
v4;2,3
`;

const settings = { utility: 'cost', completion: 'add1', tie_order: '' } as const;

describe('the count engine with no database', () => {
  it('counts a Pabulib-parsed election in memory with each rule', () => {
    const election: Election = parsePabulib(TINY).election;
    for (const rule of ['greedy', 'phragmen', 'mes'] as const) {
      const result = countElection({ ...settings, rule }, election);
      assert.equal(result.rule, rule);
      assert.equal(result.budget, 10);
      assert.ok(result.spent <= 10);
      assert.equal(result.projects.length, 3);
    }
    const greedy = countElection({ ...settings, rule: 'greedy' }, election);
    assert.deepEqual(greedy.winners, ['1', '2']);
    assert.equal(greedy.spent, 10);
  });

  it('reaches no storage, database or web framework through its imports', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/^import [^;]*?from '([^']+)';/gms)) {
        assert.ok(
          !/^(kysely|fastify|@fastify\/|@electric-sql\/|pg$)/.test(spec!),
          `${path.relative(process.cwd(), file)} imports ${spec}`,
        );
        if (spec!.startsWith('.')) visit(path.resolve(path.dirname(file), spec!));
      }
    };
    for (const entry of ['count.ts', 'pabulib.ts', 'rules.ts', 'election.ts', 'domain.ts'])
      visit(path.join(import.meta.dirname, entry));
    for (const file of seen)
      assert.doesNotMatch(path.basename(file), /store|db|routes|pages|schema|tables/, `reached ${file}`);
  });
});
