import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { engineName, openTestDatabase, type TestDatabase } from '../../test/db.ts';
import { REPO_ROOT } from '../../test/cli.ts';
import { DEMO_PEOPLE } from './data.ts';
import { demoDecision, isLoopbackHost } from './policy.ts';

describe('review 2026-12 M9: where the demo may load (pure)', () => {
  it('loads only on a loopback address, outside production, on the embedded database unless PLACEBUDGET_DEMO=1', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2'])
      assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'placebudget.example.org', ''])
      assert.equal(isLoopbackHost(host), false, host);
    assert.equal(demoDecision({}, '127.0.0.1').load, true);
    assert.equal(demoDecision({}, '0.0.0.0').load, false);
    assert.equal(demoDecision({ NODE_ENV: 'production' }, '127.0.0.1').load, false);
    assert.equal(demoDecision({ NODE_ENV: 'production', PLACEBUDGET_DEMO: '1' }, '127.0.0.1').load, false);
    assert.equal(demoDecision({ DATABASE_URL: 'postgres://x/y' }, '127.0.0.1').load, false);
    assert.equal(
      demoDecision({ DATABASE_URL: 'postgres://x/y', PLACEBUDGET_DEMO: '1' }, '127.0.0.1').load,
      true,
    );
    assert.equal(
      demoDecision({ DATABASE_URL: 'postgres://x/y', PLACEBUDGET_DEMO: '1' }, '0.0.0.0').load,
      false,
    );
    assert.equal(demoDecision({ PLACEBUDGET_NO_DEMO: '1' }, '127.0.0.1').load, false);
  });
});

/** `npm start` as a newcomer or a deployment would run it; resolves with its output once it serves or exits. */
function startServer(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const full: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env };
  delete full.NODE_ENV;
  delete full.PLACEBUDGET_NO_DEMO;
  if (!env.DATABASE_URL) delete full.DATABASE_URL;
  Object.assign(full, env);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/server.ts')], {
    cwd: REPO_ROOT,
    env: full,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/placebudget is running at/.test(output) && /Demo sign-in|demo is not loaded/.test(output))
        child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe(`review 2026-12 M9: the demo never loads where others can reach it, on ${engineName}`, () => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase({ onDisk: true });
    await db.close();
  });
  after(() => db.drop());

  const demoAdmins = async () => {
    db = await db.reopen();
    const rows = await db.kysely
      .selectFrom('people')
      .select('email')
      .where('email', '=', DEMO_PEOPLE[0]!.email)
      .execute();
    await db.close();
    return rows.length;
  };

  it('does not load into an empty database when HOST is not loopback', async () => {
    const exposed = await startServer({ ...db.env, HOST: '0.0.0.0' });
    assert.match(exposed.output, /The demo is not loaded: HOST 0\.0\.0\.0 is reachable beyond this machine/);
    assert.doesNotMatch(exposed.output, /Demo sign-in/);
    assert.equal(await demoAdmins(), 0);
  });

  it('loads for a newcomer on localhost, and then refuses to start exposed while the demo password works', async () => {
    const local = await startServer({
      ...db.env,
      HOST: '127.0.0.1',
      ...(db.env.DATABASE_URL ? { PLACEBUDGET_DEMO: '1' } : {}),
    });
    assert.match(local.output, /Demo sign-in: admin@placebudget\.example/);
    assert.equal(await demoAdmins(), 1);
    const exposed = await startServer({ ...db.env, HOST: '0.0.0.0' });
    assert.notEqual(exposed.code, 0);
    assert.match(exposed.output, /Refusing to start: the demo accounts still have the published password/);
  });
});
