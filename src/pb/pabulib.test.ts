import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../test/cli.ts';
import { profileOf } from './election.ts';
import { pabulibOf, parsePabulib, writePabulib } from './pabulib.ts';
import { count } from './rules.ts';

/** The election of rules.test.ts as a Pabulib file; a name holds a quoted ";". */
const SMALL = `META
key;value
description;A small test
budget;10
vote_type;approval
PROJECTS
project_id;cost;votes;name
1;6;3;"Park; benches"
2;4;2;Street lights
3;5;2;Library
VOTES
voter_id;age;vote
v1;34;1,2
v2;51;1
v3;19;1,3
v4;70;2,3
`;

const CUMULATIVE = `META
key;value
budget;8
vote_type;cumulative
max_sum_points;5
PROJECTS
project_id;cost
a;3
b;4
c;4
VOTES
voter_id;vote;points
1;a,b;3,2
2;a,b,c;1,3,1
3;c;4
`;

describe('Pabulib files', () => {
  it('reads META, PROJECTS and VOTES, quoted fields included', () => {
    const { election, file, voterIds } = parsePabulib(SMALL);
    assert.equal(election.budget, 10);
    assert.equal(election.voteType, 'approval');
    assert.deepEqual(election.projects, [
      { id: '1', cost: 6, name: 'Park; benches' },
      { id: '2', cost: 4, name: 'Street lights' },
      { id: '3', cost: 5, name: 'Library' },
    ]);
    assert.deepEqual(election.ballots[3], { projects: ['2', '3'] });
    assert.deepEqual(voterIds, ['v1', 'v2', 'v3', 'v4']);
    assert.equal(file.votes[0]!.age, '34');
  });

  it('reads points for cumulative ballots', () => {
    const { election } = parsePabulib(CUMULATIVE);
    assert.deepEqual(election.ballots[1], { projects: ['a', 'b', 'c'], points: [1, 3, 1] });
  });

  it('writes a file that reads back as the same election with the same result', () => {
    for (const text of [SMALL, CUMULATIVE]) {
      const first = parsePabulib(text);
      const again = parsePabulib(writePabulib(first.file));
      assert.deepEqual(again, first);
      for (const rule of ['greedy', 'mes', 'phragmen'] as const) {
        assert.deepEqual(
          count(profileOf(again.election), { rule }).winners,
          count(profileOf(first.election), { rule }).winners,
        );
      }
    }
  });

  it('exports one of our elections and reads it back the same', () => {
    const { election } = parsePabulib(CUMULATIVE);
    const exported = parsePabulib(writePabulib(pabulibOf(election, [['description', 'Test; export']])));
    assert.deepEqual(exported.election.ballots, election.ballots);
    assert.deepEqual(
      exported.election.projects.map((p) => [p.id, p.cost]),
      [
        ['a', 3],
        ['b', 4],
        ['c', 4],
      ],
    );
    assert.equal(exported.file.meta.find(([k]) => k === 'description')![1], 'Test; export');
  });

  it('exports names and descriptions a spreadsheet would run as formulas as text, still separated by ";"', () => {
    const { election } = parsePabulib(CUMULATIVE);
    const names = new Map([
      ['a', '=HYPERLINK("http://evil.example";"Park")'],
      ['b', '@SUM(1+1)'],
      ['c', '\t-1+cmd'],
    ]);
    const text = writePabulib(pabulibOf(election, [['description', '+44 7700 900123; call us']], names));
    const exported = parsePabulib(text);
    assert.deepEqual(
      exported.file.projects.map((p) => p.name),
      [`'=HYPERLINK("http://evil.example";"Park")`, `'@SUM(1+1)`, `'\t-1+cmd`],
    );
    assert.equal(exported.file.meta.find(([k]) => k === 'description')![1], `'+44 7700 900123; call us`);
    assert.match(text, /^a;3;\d+;"'=HYPERLINK\(""http:\/\/evil.example"";""Park""\)"$/m);
    // Numbers stay numbers, so the count reads the same.
    assert.deepEqual(exported.election.ballots, election.ballots);
    assert.deepEqual(
      exported.election.projects.map((p) => p.cost),
      [3, 4, 4],
    );
  });

  it('refuses malformed files with the line number and the reason', () => {
    const cases: [string, RegExp][] = [
      [SMALL.replace('2;4;2;Street lights', '2;four;2;Street lights'), /line 9: cost must be a whole number/],
      [
        SMALL.replace('v3;19;1,3', 'v3;19;1,7'),
        /line 15: voter v3 votes for project 7, which is not in PROJECTS/,
      ],
      [SMALL.replace('v4;70;2,3', 'v4;70'), /line 16: expected 3 fields/],
      [SMALL.replace('budget;10\n', ''), /line \d+: META has no budget/],
      [SMALL.replace('vote_type;approval', 'vote_type;knapsack'), /line 5: vote_type must be one of/],
      [SMALL.replace('VOTES\n', ''), /VOTES section is missing/],
      [SMALL.replace('"Park; benches"', '"Park; benches'), /quoted field is not closed/],
      [CUMULATIVE.replace('1;a,b;3,2', '1;a,b;3'), /line 13: voter 1 has 2 projects but 1 points/],
      [SMALL.replace('v2;51;1', 'v1;51;1'), /line 14: voter v1 votes twice/],
    ];
    for (const [text, message] of cases) assert.throws(() => parsePabulib(text), message);
  });
});

describe('placebudget pb count', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-'));
  const file = path.join(dir, 'small.pb');
  fs.writeFileSync(file, SMALL);

  it('prints the winners in selection order as JSON, with no database', async () => {
    // The hand computations are in rules.test.ts: greedy 1, 2; MES with add1 1, 2; Phragmén 2, 1; MES alone 1.
    // MES with cardinality utilities, share 2.5: 1 and 2 both cost 2 per supporter (ρ 2), 3 costs 2.5;
    // 2 is cheaper, so it goes first; then 1's supporters hold 0.5 + 2.5 + 2.5 = 5.5 < 6. One add1 step
    // (share 3.5): 2 first again (voters 1 and 4 keep 1.5); 1: voter 1 pays 1.5, voters 2 and 3 pay
    // 2.25 each (ρ 2.25) against 3's 3.5 (voter 4 pays 1.5, voter 3 pays 3.5): 1 is funded, 10 spent.
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const cases: [string[], string[], number][] = [
      [['--rule', 'greedy'], ['1', '2'], 10],
      [['--rule', 'mes'], ['1', '2'], 10],
      [['--rule', 'mes', '--completion', 'none'], ['1'], 6],
      [['--rule', 'mes', '--utility', 'cardinality', '--completion', 'add1'], ['2', '1'], 10],
      [['--rule', 'phragmen'], ['2', '1'], 10],
    ];
    for (const [flags, winners, spent] of cases) {
      const out = await runCli(['pb', 'count', file, ...flags, '--json'], env);
      assert.equal(out.status, 0, out.stderr);
      assert.deepEqual(JSON.parse(out.stdout), { rule: flags[1], winners, spent, budget: 10 });
    }
  });

  it('exits 2 with the line number and reason for a malformed file', async () => {
    const bad = path.join(dir, 'bad.pb');
    fs.writeFileSync(bad, SMALL.replace('3;5;2;Library', '3;-5;2;Library'));
    const out = await runCli(['pb', 'count', bad, '--rule', 'mes', '--json'], {});
    assert.equal(out.status, 2);
    assert.match(out.stderr, /line 10: cost must be a whole number of 0 or more, found "-5"/);
    assert.equal((await runCli(['pb', 'count', file, '--rule', 'best', '--json'], {})).status, 2);
  });
});
