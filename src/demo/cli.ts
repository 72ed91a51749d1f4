import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { Invalid } from '../core/errors.ts';
import { seedDemo } from './seed.ts';

/** `placebudget seed demo`: the demo pilots, loaded by the root because they span every capability. */
export function demoCommands(program: Command) {
  program
    .command('seed')
    .argument('<what>', 'what to load: demo')
    .description('load the demo pilots (four whole places, ten neighbourhoods) into an empty database')
    .action(async (what: string) => {
      if (what !== 'demo') throw new Invalid(`Unknown seed "${what}": the only seed is "demo"`);
      const result = await withDatabase(seedDemo);
      console.log(
        result.seeded
          ? `Loaded ${result.places} demo places.`
          : `The database already has ${result.places} places; nothing loaded.`,
      );
      console.log(`Demo sign-in: ${result.login.email} / password: ${result.login.password}`);
    });
}
