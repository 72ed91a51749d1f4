import fs from 'node:fs';
import type { Command } from 'commander';
import { withDatabase } from '../core/command.ts';
import { makeCheckpoint, parseCheckpoint, verifyAgainstCheckpoint, verifyAuditChain } from './store.ts';

export function auditCommands(program: Command) {
  const audit = program.command('audit').description('the append-only, hash-chained (keyed) audit log');
  audit
    .command('verify')
    .description('check every entry of the audit chain; exits 1 and names the first broken entry')
    .option(
      '--checkpoint <file>',
      'also check the chain still holds this checkpoint (made by `audit checkpoint`)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean; checkpoint?: string }) => {
      const checkpoint =
        options.checkpoint === undefined
          ? null
          : parseCheckpoint(fs.readFileSync(options.checkpoint, 'utf8'));
      const report = await withDatabase((db) =>
        checkpoint ? verifyAgainstCheckpoint(db, checkpoint) : verifyAuditChain(db),
      );
      if (options.json) console.log(JSON.stringify(report));
      else if (report.broken)
        console.error(
          `Audit chain broken at entry ${report.broken.id}: ${report.broken.reason}. ${report.entries} entries before it verify.`,
        );
      else
        console.log(
          `Audit chain verified: ${report.entries} entries intact${checkpoint ? `, and it holds the checkpoint of ${checkpoint.at} (${checkpoint.entries} entries)` : ''}.`,
        );
      if (report.broken) process.exitCode = 1;
    });
  audit
    .command('checkpoint')
    .description(
      'sign the head of the chain (entry count, last id, last hash, time); keep it outside the database',
    )
    .option('--out <file>', 'write the checkpoint to this file as well as printing it')
    .action(async (options: { out?: string }) => {
      const checkpoint = await withDatabase((db) => makeCheckpoint(db));
      const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
      if (options.out) fs.writeFileSync(options.out, text, { flag: 'wx' });
      process.stdout.write(text);
    });
}
