import fs from 'node:fs';
import type { Command } from 'commander';
import { Invalid } from '../core/errors.ts';
import { profileOf } from './election.ts';
import { parsePabulib } from './pabulib.ts';
import {
  COMPLETIONS,
  count,
  describeReason,
  RULES,
  UTILITIES,
  type Completion,
  type RuleName,
  type Utility,
} from './rules.ts';

interface CountFlags {
  rule: string;
  utility: string;
  completion: string;
  json?: boolean;
}

/** `placebudget pb count FILE.pb`: counts a Pabulib file with no database, for researchers and for checking our rules. */
export function pbCommands(program: Command) {
  const pb = program.command('pb').description('participatory budgeting: count Pabulib (.pb) elections');
  pb.command('count')
    .argument('<file>', 'a Pabulib .pb file')
    .requiredOption('--rule <rule>', RULES.join('|'))
    .option('--utility <utility>', `for mes: ${UTILITIES.join('|')}`, 'cost')
    .option('--completion <completion>', `for mes: ${COMPLETIONS.join('|')}`, 'add1')
    .option('--json', 'print {"rule", "winners", "spent", "budget"}')
    .action((file: string, flags: CountFlags) => {
      if (!(RULES as readonly string[]).includes(flags.rule))
        throw new Invalid(`--rule must be one of ${RULES.join(', ')}`);
      if (!(UTILITIES as readonly string[]).includes(flags.utility))
        throw new Invalid(`--utility must be one of ${UTILITIES.join(', ')}`);
      if (!(COMPLETIONS as readonly string[]).includes(flags.completion))
        throw new Invalid(`--completion must be one of ${COMPLETIONS.join(', ')}`);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new Invalid(`Cannot read ${file}: ${(err as Error).message}`);
      }
      const { election } = parsePabulib(text);
      const result = count(profileOf(election), {
        rule: flags.rule as RuleName,
        utility: flags.utility as Utility,
        completion: flags.completion as Completion,
      });
      if (flags.json) {
        console.log(
          JSON.stringify({
            rule: result.rule,
            winners: result.winners,
            spent: result.spent,
            budget: result.budget,
          }),
        );
        return;
      }
      console.log(
        `${result.rule}: spent ${result.spent} of ${result.budget} on ${result.winners.length} projects`,
      );
      for (const p of result.projects) {
        console.log(
          `${p.funded ? `#${p.position}`.padEnd(5) : '  -  '} ${p.id.padEnd(12)} cost ${String(p.cost).padStart(10)}  votes ${String(p.votes).padStart(7)}  ${describeReason(p.reason, (r) => (r.den === 1n ? String(r.num) : r.toNumber().toFixed(4)))}`,
        );
      }
    });
}
