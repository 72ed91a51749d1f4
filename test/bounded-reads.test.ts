import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { inPlace } from '../src/core/db.ts';
import { toErrorBody } from '../src/core/http.ts';
import { LIMITS } from '../src/auth/limits.ts';
import { transparencyCsvChunks } from '../src/spend/transparency.ts';
import { engineName } from './db.ts';
import { makePerson, makePlace, signInAs, startTestApp, type SignedIn, type TestApp } from './support.ts';

const LINES = 10_000;

/** Review 2026-12, H5: every request a low-privilege user can make has bounded time and memory. */
describe(`review 2026-12 H5: bounded reads and per-person limits, on ${engineName}`, () => {
  let t: TestApp;
  let placeId: number;
  let observers: SignedIn[];
  let resident: SignedIn;
  let base: string;

  before(async () => {
    t = await startTestApp();
    placeId = await makePlace(t.db, 'essex');
    observers = [];
    for (let i = 1; i <= 5; i++)
      observers.push(
        await signInAs(t.db, await makePerson(t.db, `observer${i}@example.org`, [[placeId, 'observer']])),
      );
    resident = await signInAs(t.db, await makePerson(t.db, 'resident@example.org', [[placeId, 'resident']]));
    // A council's spend file: 10,000 lines over a year, written straight into the tables.
    const imp = await t.db.kysely
      .insertInto('spend_imports')
      .values({
        place_id: placeId,
        file_name: 'devon.csv',
        sha256: 'a'.repeat(64),
        bytes: 1,
        encoding: 'utf-8',
        header_line: 1,
        columns: '{}',
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    await sql`insert into spend_lines (place_id, import_id, line, row_key, paid_on, amount_pence, supplier, transaction_id, body, expense_area, expense_type, account_code)
      select ${placeId}, ${imp.id}, i, 'k' || i, date '2017-01-01' + (i * 7919 % 365), 50000 + i, 'SUPPLIER ' || (i % 500) || ' LTD', 'TX' || i,
        'Devon County Council', 'Area ' || (i % 20), 'Type ' || (i % 100), 'C' || (i % 400)
      from generate_series(1, ${LINES}) as i`.execute(t.db.kysely);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  });
  after(() => t.close());

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      body: string;
      firstByteMs: number;
      doneMs: number;
    }>((resolve, reject) => {
      const start = Date.now();
      http
        .get(base + path, { headers }, (res) => {
          let body = '';
          let firstByteMs = -1;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (firstByteMs < 0) firstByteMs = Date.now() - start;
            body += chunk;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body,
              firstByteMs,
              doneMs: Date.now() - start,
            }),
          );
        })
        .on('error', reject);
    });

  it('streams transparency.csv: a chunked response, and each page is read only when the one before has been taken', async () => {
    let pages = 0;
    const chunks = transparencyCsvChunks((work) => inPlace(t.db, placeId, work), placeId, {
      pageSize: 1_000,
      onPage: () => pages++,
    });
    const head = await chunks.next();
    assert.match(String(head.value), /^Body Name,Date,/);
    const first = await chunks.next();
    assert.equal(String(first.value).split('\r\n').length - 1, 1_000);
    assert.equal(pages, 1, 'only the first page has been read while the client holds it');
    let rest = 0;
    for await (const chunk of chunks) rest += chunk.split('\r\n').length - 1;
    assert.equal(rest, LINES - 1_000);

    const res = await get('/api/v1/places/essex/spend/transparency.csv', observers[0]!.read);
    assert.equal(res.status, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['content-length'], undefined, 'not built whole before sending');
    const lines = res.body.trimEnd().split('\r\n');
    assert.equal(lines.length, LINES + 1);
    const dates = lines.slice(1).map((l) => l.split(',')[1]!.split('/').reverse().join('-'));
    assert.deepEqual(dates, [...dates].sort(), 'in date order across pages');
    assert.equal(new Set(lines.slice(1).map((l) => l.split(',')[2])).size, LINES, 'every line once');
  });

  it('answers /healthz while four people download exports', async () => {
    const downloads = observers
      .slice(1, 5)
      .map((o) => get('/api/v1/places/essex/spend/transparency.csv', o.read));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const health = await get('/healthz');
    const done = await Promise.all(downloads);
    assert.equal(health.status, 200);
    assert.deepEqual(
      done.map((d) => d.status),
      [200, 200, 200, 200],
    );
    const lastExport = Math.max(...done.map((d) => d.doneMs));
    assert.ok(
      health.doneMs + 20 < lastExport,
      `/healthz (${health.doneMs} ms) answered before the exports finished (${lastExport} ms)`,
    );
  });

  it('gives a person one export at a time: a second one at once is a 429 with a clear message', async () => {
    const both = await Promise.all([
      t.app.inject({ url: '/api/v1/places/essex/spend/transparency.csv', headers: observers[1]!.read }),
      t.app.inject({ url: '/api/v1/places/essex/spend/transparency.csv', headers: observers[1]!.read }),
    ]);
    assert.deepEqual(both.map((r) => r.statusCode).sort(), [200, 429]);
    const refused = both.find((r) => r.statusCode === 429)!.json();
    assert.equal(refused.error, 'too_many_requests');
    assert.match(refused.message, /already have a download in progress/);
    // Once it has finished, the next one is allowed.
    assert.equal(
      (
        await t.app.inject({
          url: '/api/v1/places/essex/spend/transparency.csv',
          headers: observers[1]!.read,
        })
      ).statusCode,
      200,
    );
  });

  it(`limits the network roll-up to ${LIMITS.network.perMinute} a minute per person: the next is a 429, others are unaffected`, async () => {
    for (let i = 0; i < LIMITS.network.perMinute; i++) {
      const ok = await t.app.inject({ url: '/api/v1/network/rollup', headers: resident.read });
      assert.equal(ok.statusCode, 200, `request ${i + 1}`);
    }
    const over = await t.app.inject({ url: '/api/v1/network/rollup', headers: resident.read });
    assert.equal(over.statusCode, 429);
    assert.equal(over.json().error, 'too_many_requests');
    assert.match(
      over.json().message,
      /network figures 10 times in the last minute.*Try again in \d+ seconds/,
    );
    const page = await t.app.inject({ url: '/network/rollup', headers: resident.read });
    assert.equal(page.statusCode, 429, 'the page shares the budget');
    assert.equal(
      (await t.app.inject({ url: '/api/v1/network/rollup', headers: observers[0]!.read })).statusCode,
      200,
    );
  });

  it('limits exports to a budget a minute per person', async () => {
    const o = observers[4]!;
    // One download was made in the /healthz test.
    for (let i = 1; i < LIMITS.export.perMinute; i++) {
      assert.equal(
        (await t.app.inject({ url: '/api/v1/places/essex/services/export?format=csv', headers: o.read }))
          .statusCode,
        200,
      );
    }
    const over = await t.app.inject({ url: '/api/v1/places/essex/spend/transparency.csv', headers: o.read });
    assert.equal(over.statusCode, 429);
    assert.match(over.json().message, /exports 10 times in the last minute/);
  });

  it('cancels a read statement that runs past the timeout on PostgreSQL (PGlite cannot: documented)', async () => {
    const slow = inPlace(t.db, placeId, (tx) => sql`select pg_sleep(1.5)`.execute(tx), {
      statementTimeoutMs: 200,
    });
    if (t.db.engine === 'postgres') {
      await assert.rejects(slow, (err: { code?: string }) => err.code === '57014');
    } else {
      await slow;
    }
    assert.deepEqual(toErrorBody({ code: '57014' }), {
      status: 503,
      body: { error: 'unavailable', message: 'This took too long and was stopped. Try again later' },
    });
  });
});
