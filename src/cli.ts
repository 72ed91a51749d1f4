import { Command, CommanderError } from 'commander';
import { loadConfig } from './core/config.ts';
import { openDatabase } from './core/db.ts';
import { AppError, exitCodeOf } from './core/errors.ts';
import { migrate } from './core/migrate.ts';
import { backup, restore } from './core/backup.ts';
import { auditCommands } from './audit/cli.ts';
import { ledgerCommands } from './ledger/cli.ts';
import { cbaCommands } from './cba/cli.ts';
import { familyCommands } from './families/cli.ts';
import { networkCommands } from './network/cli.ts';
import { demoCommands } from './demo/cli.ts';
import { placeCommands } from './places/cli.ts';
import { pbCommands } from './pb/cli.ts';
import { serviceCommands } from './services/cli.ts';
import { spendCommands } from './spend/cli.ts';
import { buildWiring } from './wiring/index.ts';

export function buildCli(): Command {
  const wiring = buildWiring();
  // Before any command is added, so each inherits it: a usage error ends runCli, not the process.
  const program = new Command('placebudget')
    .exitOverride()
    .description(
      'Community Budgets: pooled budgets, family costs, cost-benefit analysis and participatory budgeting',
    )
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
  program
    .command('backup')
    .requiredOption('--out <file>', 'where to write the backup')
    .description('back up the whole database (stop the server first when using the embedded database)')
    .action(async (options: { out: string }) => {
      const result = await backup(loadConfig(), options.out);
      console.log(
        `Backed up the ${result.engine === 'pglite' ? 'embedded' : 'PostgreSQL'} database to ${result.file} (${result.bytes} bytes).`,
      );
    });
  program
    .command('restore')
    .requiredOption('--in <file>', 'a file made by placebudget backup')
    .description(
      'replace the database with a backup; the replaced embedded database folder is kept beside it',
    )
    .action(async (options: { in: string }) => {
      const result = await restore(loadConfig(), options.in);
      console.log(
        `Restored ${options.in}.${result.keptAs ? ` The previous database is kept in ${result.keptAs}.` : ''}`,
      );
    });
  demoCommands(program);
  placeCommands(program);
  auditCommands(program);
  ledgerCommands(program);
  pbCommands(program);
  spendCommands(program);
  serviceCommands(program);
  cbaCommands(program);
  familyCommands(program);
  networkCommands(program, wiring.network.figures);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildCli().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    // Commander has already written the usage error or the help.
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof AppError) {
      console.error(err.message);
      for (const [field, message] of Object.entries(err.fields ?? {}))
        console.error(`  ${field}: ${message}`);
    } else {
      console.error(err instanceof Error ? err.message : String(err));
    }
    return exitCodeOf(err);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv);
}
