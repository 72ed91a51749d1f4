/**
 * The count engine's entry point, with no database: a process's rule settings applied to a plain
 * election (built from stored ballots by results-store.ts, or parsed from a Pabulib file).
 */
import { LIMITS, parseTieOrder, type ProcessSettings } from './domain.ts';
import { profileOf, type Election } from './election.ts';
import { count, type CountResult } from './rules.ts';

/** The settings a count needs: the rule, its utility and completion, and the process's own tie-break. */
export type CountSettings = Pick<ProcessSettings, 'rule' | 'utility' | 'completion'> & { tie_order: string };

export function countElection(process: CountSettings, election: Election): CountResult {
  return count(profileOf(election), {
    rule: process.rule,
    utility: process.utility,
    completion: process.completion,
    tieOrder: parseTieOrder(process.tie_order),
    add1Step: LIMITS.add1StepPence,
  });
}
