import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli as runCommand } from '../src/cli.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * What a command run by `runCli` writes, kept by the async context it runs in: anything else the
 * test process writes meanwhile (the test runner's own reports) still reaches the real stream.
 */
const output = new AsyncLocalStorage<{ stdout: string[]; stderr: string[] }>();
for (const name of ['stdout', 'stderr'] as const) {
  const stream = process[name];
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const captured = output.getStore();
    if (!captured) return write(chunk, ...rest);
    captured[name].push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) process.nextTick(callback);
    return true;
  }) as typeof stream.write;
}

/** Commands share the process's environment, so one runs at a time. */
let running: Promise<unknown> = Promise.resolve();

/**
 * Runs `placebudget ARGS` against the database that `env` names, in this process: the variables
 * in `env` are set for the command and put back after it, as is `process.exitCode`. Use
 * `spawnCli` where the test is about the process itself.
 */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const run = running.then(() => runInProcess(args, env));
  running = run.catch(() => undefined);
  return run;
}

async function runInProcess(args: string[], env: Record<string, string>): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const exitCode = process.exitCode;
  Object.assign(process.env, env);
  process.exitCode = undefined;
  const captured = { stdout: [] as string[], stderr: [] as string[] };
  try {
    const status = await output.run(captured, () => runCommand([process.execPath, 'placebudget', ...args]));
    return { status, stdout: captured.stdout.join(''), stderr: captured.stderr.join('') };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    process.exitCode = exitCode;
  }
}

/** Runs `placebudget ARGS` as a user would, in a process of its own (bin/placebudget.js). */
export function spawnCli(args: string[], env: Record<string, string>): CliResult {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/placebudget.js'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
