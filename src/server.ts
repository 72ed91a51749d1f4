import { buildApp } from './app.ts';
import { loadConfig } from './core/config.ts';
import { openDatabase } from './core/db.ts';
import { migrate } from './core/migrate.ts';
import { seedDemo, demoPasswordWorks } from './demo/seed.ts';
import { demoDecision } from './demo/policy.ts';
import { loadAuditKey } from './audit/key.ts';

/**
 * `npm start`: open the database (PGlite in ./data unless DATABASE_URL is set), bring the schema
 * up to date, load the demo pilots into an empty database when only this machine can reach it
 * (see demoDecision), and serve.
 */
async function main() {
  const config = loadConfig();
  // The audit chain's key: from PLACEBUDGET_AUDIT_KEY, or a file made (0600) on the first start.
  const auditKey = loadAuditKey(config);
  if (auditKey.created)
    console.log(`Created the audit key ${auditKey.file} (keep a copy outside the database's backups).`);
  const db = await openDatabase(config);
  const applied = await migrate(db);
  if (applied.length) console.log(`Applied migrations: ${applied.join(', ')}`);
  const decision = demoDecision(process.env, config.host);
  if (!decision.load && process.env.PLACEBUDGET_NO_DEMO !== '1' && (await demoPasswordWorks(db))) {
    await db.close();
    throw new Error(
      `Refusing to start: the demo accounts still have the published password, and ${decision.reason}. ` +
        'Remove them or give them new passwords first, or run on a loopback HOST.',
    );
  }
  const demo = decision.load ? await seedDemo(db) : null;
  if (demo?.seeded) console.log(`Loaded the demo: ${demo.places} places.`);
  if (!decision.load) console.log(`The demo is not loaded: ${decision.reason}.`);

  const app = await buildApp({ db, config }, { logger: { level: config.logLevel } });
  const shutdown = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: config.port, host: config.host });
  const url = `http://localhost:${(app.server.address() as { port: number }).port}`;
  // Links handed out (invitations) use PLACEBUDGET_PUBLIC_URL; unset, the port actually bound.
  if (!process.env.PLACEBUDGET_PUBLIC_URL) config.publicUrl = url;
  console.log(
    `\nplacebudget is running at ${url} on ${db.engine === 'pglite' ? `PGlite (${config.dataDir})` : 'PostgreSQL'}`,
  );
  if (demo) console.log(`Demo sign-in: ${demo.login.email} / password: ${demo.login.password}\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
