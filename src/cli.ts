import { Command } from 'commander';
import { loadConfig } from './core/config.ts';
import { openDatabase } from './core/db.ts';
import { AppError, exitCodeOf } from './core/errors.ts';
import { migrate } from './core/migrate.ts';
import { auditCommands } from './audit/cli.ts';
import { networkCommands } from './network/cli.ts';
import { placeCommands } from './places/cli.ts';

export function buildCli(): Command {
  const program = new Command('placebudget')
    .description('Community Budgets: pooled budgets, family costs, cost-benefit analysis and participatory budgeting')
    .showHelpAfterError();
  program
    .command('migrate')
    .description('apply database migrations that have not been applied yet')
    .action(async () => {
      const db = await openDatabase(loadConfig());
      try {
        const applied = await migrate(db);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await db.close();
      }
    });
  program
    .command('serve')
    .description('start the web server (the same as npm start)')
    .action(async () => {
      await import('./server.ts');
    });
  placeCommands(program);
  auditCommands(program);
  networkCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof AppError) {
      console.error(err.message);
      for (const [field, message] of Object.entries(err.fields ?? {})) console.error(`  ${field}: ${message}`);
    } else {
      console.error(err instanceof Error ? err.message : String(err));
    }
    return exitCodeOf(err);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv);
}
