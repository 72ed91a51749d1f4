import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { profileOf } from './election.ts';
import { commitmentsFor } from './funds.ts';
import { count } from './rules.ts';

describe('commitments from a result', () => {
  it('raises one commitment per winner for its cost, in selection order, totalling what was spent', () => {
    // Votes: 1 → 2, 2 → 2, 3 → 1. 1 and 2 tie; 2 is cheaper, so 2 (4 pence) then 1 (6 pence); 3 does not fit in 0.
    const result = count(
      profileOf({
        budget: 10,
        voteType: 'approval',
        projects: [
          { id: '1', cost: 6 },
          { id: '2', cost: 4 },
          { id: '3', cost: 5 },
        ],
        ballots: [{ projects: ['1', '2'] }, { projects: ['1'] }, { projects: ['2', '3'] }],
      }),
      { rule: 'greedy' },
    );
    const commitments = commitmentsFor(result, 'White City 2026');
    assert.deepEqual(commitments, [
      { projectId: '2', amount: 4, memo: 'White City 2026: winner 1 of 2 (greedy)' },
      { projectId: '1', amount: 6, memo: 'White City 2026: winner 2 of 2 (greedy)' },
    ]);
    assert.equal(
      commitments.reduce((s, c) => s + c.amount, 0),
      result.spent,
    );
  });
});
