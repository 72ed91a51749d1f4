import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { engineName } from '../../test/db.ts';
import { toErrorBody } from './http.ts';
import {
  makePerson,
  makePlace,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';

describe(`the HTTP shell on ${engineName}`, () => {
  let t: TestApp;
  let admin: SignedIn;
  before(async () => {
    t = await startTestApp();
    admin = await signInAs(
      t.db,
      await makePerson(t.db, 'admin@essex.test', [[await makePlace(t.db, 'essex'), 'admin']]),
    );
  });
  after(() => t.close());

  it('reports health with the engine in use', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(res.json(), { status: 'ok', engine: t.db.engine });
  });

  it('sends security headers, with a CSP that allows no inline script', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/sign-in' });
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'nonce-[^']+'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(String(res.headers['strict-transport-security']), /max-age=/);
    // The page's one inline script carries the nonce from the header.
    const nonce = /'nonce-([^']+)'/.exec(csp)![1];
    assert.match(res.body, new RegExp(`<script nonce="${nonce}">`));
  });

  it('answers malformed JSON with 400 and no stack trace', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/partners',
      headers: { ...admin.write, 'content-type': 'application/json' },
      payload: '{"name": "Essex Police", ',
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(Object.keys(res.json()).sort(), ['error', 'message']);
    assert.doesNotMatch(res.body, /at |node_modules|\.ts/);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/places/essex/partners',
      headers: { ...admin.write, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024), agency_type: 'police' }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().message, 'The request is too large');
  });

  it('answers unknown API paths with JSON and unknown pages with a GOV.UK page', async () => {
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    assert.deepEqual([api.statusCode, api.json().error], [404, 'not_found']);
    const page = await t.app.inject({ method: 'GET', url: '/nothing-here', headers: admin.read });
    assert.equal(page.statusCode, 404);
    assert.match(page.body, /<h1 class="govuk-heading-l">Page not found<\/h1>/);
  });

  it('publishes OpenAPI for the API at /api/docs', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    assert.equal(spec.openapi.slice(0, 2), '3.');
    assert.ok(spec.paths['/api/v1/places/{slug}/partners'].post);
    assert.ok(spec.paths['/api/v1/session'].post);
    assert.equal(spec.paths['/sign-in'], undefined, 'pages are not API');
    const ui = await t.app.inject({ method: 'GET', url: '/api/docs' });
    assert.ok([200, 302].includes(ui.statusCode));
  });

  it('serves GOV.UK Frontend’s assets from the package', async () => {
    const css = await t.app.inject({ method: 'GET', url: '/govuk/govuk-frontend.min.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    assert.equal((await t.app.inject({ method: 'GET', url: '/govuk/package.json' })).statusCode, 404);
  });
});

describe('how database failures reach the client', () => {
  it('tells the loser of a race (unique key, serialisation, deadlock) to try again with 409, and a lost database 503', () => {
    for (const code of ['23505', '40001', '40P01']) {
      const { status, body } = toErrorBody(Object.assign(new Error('clash'), { code }));
      assert.equal(status, 409, code);
      assert.match(body.message, /nothing was saved\. Try again/);
    }
    assert.equal(toErrorBody(Object.assign(new Error('gone'), { code: '57P01' })).status, 503);
    assert.equal(toErrorBody(new Error('a bug')).status, 500);
  });
});
