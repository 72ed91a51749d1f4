import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { verifyAuditChain } from './store.ts';

export function auditCommands(program: Command) {
  const audit = program.command('audit').description('the append-only, hash-chained audit log');
  audit
    .command('verify')
    .description('check every entry of the audit chain; exits 1 and names the first broken entry')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await withDatabase(verifyAuditChain);
      if (options.json) console.log(JSON.stringify(report));
      else if (report.broken) console.error(`Audit chain broken at entry ${report.broken.id}: ${report.broken.reason}. ${report.entries} entries before it verify.`);
      else console.log(`Audit chain verified: ${report.entries} entries intact.`);
      if (report.broken) process.exitCode = 1;
    });
}
