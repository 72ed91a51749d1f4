/**
 * Browser tests run the real product the way a user would: `src/server.ts` in its own process on
 * a fresh PGlite data directory (so it loads the demo and prints the demo sign-in), and Debian's
 * Chromium driven by playwright-core. Each test file calls `useProduct()` once at the top level.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCREENSHOTS = path.join(ROOT, 'browser', 'screenshots');
const CHROMIUM = process.env.PLACEBUDGET_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const STARTUP_MS = 60_000;

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 740 };

export interface Login {
  email: string;
  password: string;
}

export interface Server {
  url: string;
  /** The demo sign-in the server printed on start-up. */
  demo: Login;
  stop(): Promise<void>;
}

/** Asks the OS for a free port; the server's banner needs a real port number, so PORT=0 won't do. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Every server still running, killed when the test process exits however it exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `node --import tsx src/server.ts` on a new temporary data directory and waits for its
 * "placebudget is running at" banner and the demo sign-in line.
 */
export async function startServer(): Promise<Server> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'placebudget-browser-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PLACEBUDGET_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  // The product under test is the PGlite one a new user starts; a DATABASE_URL from the shell would
  // point it at a shared server instead.
  delete env.DATABASE_URL;
  delete env.PLACEBUDGET_NO_DEMO;
  delete env.NODE_ENV;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const started = await new Promise<{ url: string; demo: Login }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`server did not start in ${STARTUP_MS} ms:\n${output}`)),
        STARTUP_MS,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const url = /placebudget is running at (http:\/\/\S+)/.exec(output)?.[1];
        const demo = /Demo sign-in: (\S+) \/ password: (\S+)/.exec(output);
        if (url && demo) {
          clearTimeout(timer);
          resolve({ url, demo: { email: demo[1]!, password: demo[2]! } });
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before it was ready:\n${output}`));
      });
    });
    // Keep draining the pipes so a chatty server never blocks on a full buffer.
    child.stdout!.resume();
    child.stderr!.resume();
    return { ...started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Product {
  server: Server;
  browser: Browser;
  /** A fresh browser profile (no cookies) at the given viewport, with the server as its base URL. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
}

/**
 * Registers `before`/`after` hooks that start the server and Chromium for the test file and stop
 * both at the end, also when a test fails. Read the returned object's fields inside tests only.
 */
export function useProduct(): Product {
  const contexts: BrowserContext[] = [];
  const product = {
    async newPage(viewport = DESKTOP) {
      // CSP stays on: the product's own scripts must work under it, and axe goes in through
      // page.evaluate, which the page's CSP does not govern.
      const context = await product.browser.newContext({ baseURL: product.server.url, viewport });
      contexts.push(context);
      // Every wait in these tests is for something a working page shows at once.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      watchForPageErrors(page);
      return page;
    },
  } as Product;

  before(async () => {
    product.server = await startServer();
    product.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await product.browser?.close();
    await product.server?.stop();
  });
  return product;
}

/** Script errors and CSP violations are bugs: collect them so tests can assert there were none. */
const pageProblems = new WeakMap<Page, string[]>();
function watchForPageErrors(page: Page) {
  const problems: string[] = [];
  pageProblems.set(page, problems);
  page.on('pageerror', (err) => problems.push(`script error: ${err.message}`));
  // A page answered with 400 or 404 is often the point of a test; its stylesheets, scripts and
  // images failing is not. Chromium logs both as "Failed to load resource", so look at requests.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
      problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.request().isNavigationRequest())
      problems.push(`${response.status()} for ${response.url()}`);
  });
  // ERR_ABORTED is Chromium cancelling a load because the test moved on (the favicon, most often):
  // the server did not fail it. Any other failure, and every 4xx/5xx above, is a problem.
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`failed to load ${request.url()}: ${reason}`);
  });
}

/** What went wrong in the page's own scripts so far (script errors, CSP violations, failed loads). */
export function problemsIn(page: Page): string[] {
  return pageProblems.get(page) ?? [];
}

export async function signIn(page: Page, login: Login) {
  await page.goto('/sign-in');
  await page.getByLabel('Email address').fill(login.email);
  await page.getByLabel('Password', { exact: true }).fill(login.password);
  await page.getByTestId('sign-in').click();
  await page.waitForURL((url) => url.pathname !== '/sign-in');
}

export async function signOut(page: Page) {
  // On a phone the service navigation is folded behind its "Menu" button.
  const menu = page.locator('.govuk-service-navigation__toggle');
  if (await menu.isVisible()) await menu.click();
  await page.getByTestId('sign-out').click();
  await page.waitForURL('**/sign-in');
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const axeSource = fs.readFileSync(
  path.join(path.dirname(createRequire(import.meta.url).resolve('axe-core')), 'axe.min.js'),
  'utf8',
);

/**
 * Runs axe-core (WCAG 2.2 A and AA plus best practice) on the page as it stands and returns the
 * violations that are serious or critical, each summarised as "rule: help (selectors)".
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(ctx: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
    });
    return result.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map((n) => ({ target: n.target })),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Saves a full-page screenshot to browser/screenshots/NAME.png (gitignored) for a person to look at. */
export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
