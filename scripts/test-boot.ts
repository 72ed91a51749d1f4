/**
 * What a test file pays for its fresh database: `openTestDatabase()` migrating from nothing
 * against copying the run's template, alternated so a busy machine slows both alike.
 * `node --import tsx scripts/test-boot.ts [rounds] [--disk]`, on PostgreSQL with DATABASE_URL set.
 */
import { openTestDatabase } from '../test/db.ts';
import { makeTemplate, TEMPLATE_ENV } from '../test/template.ts';

const rounds = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 5);
const onDisk = process.argv.includes('--disk');
delete process.env[TEMPLATE_ENV];
// The first PGlite of a process also compiles its WebAssembly; keep that out of both figures.
await (await openTestDatabase({ onDisk })).drop();

const templateStarted = performance.now();
const template = await makeTemplate(process.env.DATABASE_URL);
const templateMs = performance.now() - templateStarted;
const times = { migrated: [] as number[], copied: [] as number[] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const kind of ['migrated', 'copied'] as const) {
      if (kind === 'copied') Object.assign(process.env, template.env);
      else delete process.env[TEMPLATE_ENV];
      const started = performance.now();
      const db = await openTestDatabase({ onDisk });
      times[kind].push(performance.now() - started);
      await db.drop();
    }
  }
} finally {
  await template.remove();
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const engine = process.env.DATABASE_URL ? 'PostgreSQL' : `PGlite (${onDisk ? 'on disk' : 'in memory'})`;
console.log(`${engine}, ${rounds} rounds; making the template took ${Math.round(templateMs)} ms`);
for (const [kind, values] of Object.entries(times)) {
  console.log(`  ${kind}: median ${Math.round(median(values))} ms (${values.map(Math.round).join(', ')})`);
}
