import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { engineName } from '../../test/db.ts';
import { SPEND_FIXTURES, SYNTHETIC_FIXTURES } from '../../test/fixtures.ts';
import {
  makePartner,
  makePerson,
  makePlace,
  requests,
  signInAs,
  startTestApp,
  type SignedIn,
  type TestApp,
} from '../../test/support.ts';
import { inPlace } from '../core/db.ts';
import { findUpload } from '../spend/store.ts';
import { UPLOAD_LIMIT } from '../spend/upload.ts';
import { ORUK_LIMIT } from './upload.ts';

const LAMBETH = path.basename(SPEND_FIXTURES.lambeth2012);
const LAMBETH_BYTES = fs.readFileSync(SPEND_FIXTURES.lambeth2012);
/** A whole service directory as an Open Referral UK v1 API lists it: 738 services. */
const DIRECTORY_ORUK = fs.readFileSync(SYNTHETIC_FIXTURES.serviceDirectory);

describe(`the service map and import wizard pages (${engineName})`, () => {
  let t: TestApp;
  let admin: SignedIn;
  let resident: SignedIn;
  let observer: SignedIn;
  let placeId: number;
  let council: number;
  const page = (rest: string) => `/places/lambeth${rest}`;
  const form = (who: SignedIn, values: Record<string, string | string[]>) => {
    const params = new URLSearchParams({ _csrf: who.csrfToken });
    for (const [k, v] of Object.entries(values)) for (const one of [v].flat()) params.append(k, one);
    return {
      headers: { ...who.read, 'content-type': 'application/x-www-form-urlencoded' },
      payload: params.toString(),
    };
  };

  before(async () => {
    t = await startTestApp();
    placeId = await makePlace(t.db, 'lambeth');
    council = await makePartner(t.db, placeId, 'London Borough of Lambeth');
    admin = await signInAs(
      t.db,
      await makePerson(t.db, 'admin@example.org', [
        [placeId, 'admin'],
        [placeId, 'finance'],
      ]),
    );
    resident = await signInAs(t.db, await makePerson(t.db, 'resident@example.org', [[placeId, 'resident']]));
    observer = await signInAs(t.db, await makePerson(t.db, 'observer@example.org', [[placeId, 'observer']]));
  });
  after(() => t.close());

  test('the place overview links to the service map; residents do not see it', async () => {
    const overview = await t.app.inject({ url: page(''), headers: admin.read });
    assert.match(overview.body, /href="\/places\/lambeth\/services"/);
    assert.equal((await t.app.inject({ url: page('/services'), headers: resident.read })).statusCode, 403);
  });

  test('adds a service, records its cost and review decision, and shows it on the map with a chart and its table', async () => {
    const invalid = await t.app.inject({
      method: 'POST',
      url: page('/services'),
      ...form(admin, { name: '' }),
    });
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.body, /There is a problem/);
    assert.match(invalid.body, /href="#name"/);
    const added = await t.app.inject({
      method: 'POST',
      url: page('/services'),
      ...form(admin, {
        name: 'Troubled families',
        client_group: 'Families',
        outcome_area: 'Work',
        funded_by: String(council),
      }),
    });
    assert.equal(added.statusCode, 303, added.body);
    const at = added.headers.location!.split('?')[0]!;
    const badCost = await t.app.inject({
      method: 'POST',
      url: `${at}/costs`,
      ...form(admin, { partner_id: String(council), year: '25', cost: 'lots' }),
    });
    assert.equal(badCost.statusCode, 400);
    assert.match(badCost.body, /href="#year"/);
    assert.match(badCost.body, /href="#cost"/);
    assert.equal(
      (
        await t.app.inject({
          method: 'POST',
          url: `${at}/costs`,
          ...form(admin, { partner_id: String(council), year: '2012', cost: '1,250,000.50' }),
        })
      ).statusCode,
      303,
    );
    const reviewed = await t.app.inject({
      method: 'POST',
      url: at,
      ...form(admin, {
        name: 'Troubled families',
        client_group: 'Families',
        outcome_area: 'Work',
        review: 'redesign',
        funded_by: String(council),
      }),
    });
    assert.equal(reviewed.statusCode, 303, reviewed.body);
    const shown = await t.app.inject({ url: at, headers: admin.read });
    assert.match(shown.body, /value="redesign" checked/);
    const map = await t.app.inject({ url: page('/services'), headers: admin.read });
    assert.equal(map.statusCode, 200);
    assert.match(map.body, /Troubled families/);
    assert.match(map.body, /£1,250,000\.50/);
    assert.match(map.body, /Redesign/);
    assert.match(map.body, /<svg/);
    assert.match(map.body, /Data for: Annual cost of services by funding partner and outcome area/);
  });

  /** Posts a form with one file, as a browser would, to one of this place's pages. */
  const postFile = (to: string, who: SignedIn, fields: Record<string, string>, name: string, bytes: Buffer) =>
    requests(t.app, { pages: '/places/lambeth' }).fileForm(to, who, { name, bytes }, fields);
  const upload = (who: SignedIn, fields: Record<string, string>, name: string, bytes: Buffer) =>
    postFile('/spend/uploads', who, fields, name, bytes);

  test('an uploaded file is kept byte for byte under its own name, for the import to detect its encoding', async () => {
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x0d, 0x0a, 0x2d, 0x2d, 0xa3, 0x00]);
    const uploaded = await upload(admin, { _csrf: admin.csrfToken }, 'C:\\Users\\me\\spend.csv', bytes);
    assert.equal(uploaded.statusCode, 303, uploaded.body);
    const uploadId = Number(/\/spend\/uploads\/(\d+)/.exec(uploaded.headers.location!)![1]);
    const kept = await inPlace(t.db, placeId, (tx) => findUpload(tx, placeId, uploadId));
    assert.equal(kept.file_name, 'spend.csv');
    assert.deepEqual(Buffer.from(kept.content), bytes);
  });

  test('an upload without the form’s CSRF token, without a file or over the limit is refused', async () => {
    const csv = Buffer.from('Date,Amount\r\n01/04/2025,1.00\r\n');
    assert.equal((await upload(admin, {}, 'spend.csv', csv)).statusCode, 403);
    assert.equal((await upload(admin, { _csrf: 'not-the-token' }, 'spend.csv', csv)).statusCode, 403);
    const empty = await upload(admin, { _csrf: admin.csrfToken }, '', Buffer.alloc(0));
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /Choose a CSV spending file/);
    const huge = await upload(
      admin,
      { _csrf: admin.csrfToken },
      'huge.csv',
      Buffer.alloc(UPLOAD_LIMIT + 1, 0x41),
    );
    assert.equal(huge.statusCode, 400);
    assert.match(huge.body, /The file is larger than 64 MB/);
  });

  test('the wizard: upload, preview with rejected lines by number, correct the mapping, import the readable rows, result', async () => {
    const uploaded = await upload(
      admin,
      { _csrf: admin.csrfToken, partner_id: String(council), profile: '' },
      LAMBETH,
      LAMBETH_BYTES,
    );
    assert.equal(uploaded.statusCode, 303, uploaded.body);
    const previewUrl = uploaded.headers.location!;
    const preview = await t.app.inject({ url: previewUrl, headers: admin.read });
    assert.equal(preview.statusCode, 200);
    // The figures of src/spend/import.test.ts: header on line 10, 2,516 rows, 639 unreadable.
    assert.match(preview.body, /Line 10/);
    assert.match(preview.body, /2516/);
    assert.match(preview.body, /639/);
    assert.match(preview.body, /data-testid="rejects-table"/);
    assert.match(preview.body, /<td class="govuk-table__cell govuk-table__cell--numeric">19<\/td>/);

    // A wrong mapping is reported against the field, with the file's columns to choose from.
    const wrong = await t.app.inject({ url: `${previewUrl}?amount=No%20such%20column`, headers: admin.read });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /href="#amount"/);
    assert.equal(
      (await t.app.inject({ url: `${previewUrl}?amount=Invoice%20Nett%20Amount`, headers: admin.read }))
        .statusCode,
      200,
    );

    const importAt = `${previewUrl.split('?')[0]}/import`;
    const refused = await t.app.inject({
      method: 'POST',
      url: importAt,
      ...form(admin, { rejects: 'refuse' }),
    });
    const refusedJob = await t.app.inject({ url: refused.headers.location!, headers: admin.read });
    assert.match(refusedJob.body, /was not imported/);
    assert.match(refusedJob.body, /639 lines could not be read/);

    const imported = await t.app.inject({
      method: 'POST',
      url: importAt,
      ...form(admin, { rejects: 'record', save_profile: 'Lambeth' }),
    });
    assert.equal(imported.statusCode, 303);
    let job = await t.app.inject({ url: imported.headers.location!, headers: admin.read });
    for (let i = 0; i < 100 && job.statusCode === 200; i++) {
      assert.equal(job.headers.refresh, '2');
      await new Promise((r) => setTimeout(r, 200));
      job = await t.app.inject({ url: imported.headers.location!, headers: admin.read });
    }
    assert.equal(job.statusCode, 303);
    const result = await t.app.inject({ url: job.headers.location!, headers: admin.read });
    assert.match(result.body, /2516 new rows/);
    assert.match(result.body, /data-testid="excluded-table"/);
    // The upload is gone once imported; the mapping was saved for next time.
    assert.equal((await t.app.inject({ url: previewUrl, headers: admin.read })).statusCode, 404);
    const importPage = await t.app.inject({ url: page('/spend/import'), headers: admin.read });
    assert.match(importPage.body, /<option value="Lambeth">Lambeth<\/option>/);
  });

  test('the rules page lists unclassified spend and adds a rule from it', async () => {
    const rules = await t.app.inject({ url: page('/services/rules'), headers: admin.read });
    assert.match(rules.body, /data-testid="unclassified-table"/);
    const services = await t.app.inject({ url: '/api/v1/places/lambeth/services', headers: admin.read });
    const area = /href="\/places\/lambeth\/services\/rules\?field=expense_area&amp;value=([^"#]+)#add"/.exec(
      rules.body,
    )![1]!;
    const value = decodeURIComponent(area.replaceAll('&amp;', '&'));
    const bad = await t.app.inject({
      method: 'POST',
      url: page('/services/rules'),
      ...form(admin, { field: 'expense_area', value, service_id: '' }),
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /href="#service_id"/);
    const added = await t.app.inject({
      method: 'POST',
      url: page('/services/rules'),
      ...form(admin, { field: 'expense_area', value, service_id: String(services.json()[0].id) }),
    });
    assert.equal(added.statusCode, 303);
    const spend = await t.app.inject({ url: page('/spend'), headers: admin.read });
    assert.match(spend.body, /Troubled families/);
    assert.match(spend.body, /data-testid="reconciliation-table"/);
    assert.equal(
      (await t.app.inject({ url: page('/services/overlaps'), headers: admin.read })).statusCode,
      200,
    );
  });

  // Last: the 738 services it adds would change which service the tests above find first.
  test('imports a council’s Open Referral UK directory from the upload page, all or nothing, and again without duplicates', async () => {
    const importOruk = (who: SignedIn, name: string, bytes: Buffer, fields = { _csrf: who.csrfToken }) =>
      postFile('/services/import', who, fields, name, bytes);
    const count = async () =>
      (await t.app.inject({ url: '/api/v1/places/lambeth/services', headers: admin.read })).json().length;
    const before = await count();

    // The service map links to it for those who manage services, beside the ORUK export.
    const map = await t.app.inject({ url: page('/services'), headers: admin.read });
    assert.match(map.body, /href="\/places\/lambeth\/services\/import"/);
    assert.match(map.body, /Open Referral UK feed/);
    const form = await t.app.inject({ url: page('/services/import'), headers: admin.read });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /enctype="multipart\/form-data"/);
    assert.match(form.body, /href="\/api\/v1\/places\/lambeth\/services\/export\?format=oruk"/);
    assert.doesNotMatch(form.body, /govuk-notification-banner/);

    // Readers who may not manage services see no link and are refused; so are residents.
    const observerMap = await t.app.inject({ url: page('/services'), headers: observer.read });
    assert.equal(observerMap.statusCode, 200);
    assert.doesNotMatch(observerMap.body, /services\/import/);
    assert.equal(
      (await t.app.inject({ url: page('/services/import'), headers: observer.read })).statusCode,
      403,
    );
    assert.equal((await importOruk(observer, 'services.json', DIRECTORY_ORUK)).statusCode, 403);
    assert.equal(
      (await t.app.inject({ url: page('/services/import'), headers: resident.read })).statusCode,
      403,
    );
    assert.equal((await importOruk(resident, 'services.json', DIRECTORY_ORUK)).statusCode, 403);
    assert.equal(
      (await importOruk(admin, 'services.json', DIRECTORY_ORUK, { _csrf: 'not-the-token' })).statusCode,
      403,
    );
    assert.equal(await count(), before);

    // Refused files: the error summary says why, linked to the file field, and nothing is imported.
    const refused = async (name: string, bytes: Buffer, message: RegExp) => {
      const response = await importOruk(admin, name, bytes);
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.body, /There is a problem/);
      assert.match(response.body, /<a href="#file">/);
      assert.match(response.body, /class="govuk-error-message"/);
      assert.match(response.body, message);
      assert.equal(await count(), before);
    };
    await refused(
      'broken.json',
      Buffer.from(
        JSON.stringify([
          { id: 'a', name: 'Fine' },
          { id: '', name: 'No id' },
          { id: 'a', name: 'Again' },
        ]),
      ),
      /2 services cannot be imported, so none were: service 2: no id; the id a appears twice/,
    );
    await refused(
      'typo.json',
      Buffer.from('[\n  {"id": "a", "name": "Fine"},\n  {"id": "b" "name": "Broken"}\n]\n'),
      /typo\.json is not readable JSON: line 3, column 14: Expected &#39;,&#39; or &#39;}&#39; after property value/,
    );
    await refused(
      'half.json',
      DIRECTORY_ORUK.subarray(0, 100_000),
      /half\.json is not readable JSON: line 2764, column 29: Unterminated string/,
    );
    await refused(
      'page.json',
      Buffer.from('{"services": []}'),
      /This is not an Open Referral UK service list: expected an array of services\. Choose an ORUK services JSON file/,
    );
    await refused(
      'latin1.json',
      Buffer.from('[{"id": "a", "name": "Caf\xe9"}]', 'latin1'),
      /is not UTF-8 text/,
    );
    await refused(
      'nul.json',
      Buffer.from('[{"id": "a", "name": "A\\u0000"}]'),
      /a character that cannot be stored \(a NUL or a broken Unicode character\) at \[0\]\.name/,
    );
    await refused('', Buffer.alloc(0), /Choose an Open Referral UK JSON file/);
    const huge = await importOruk(admin, 'huge.json', Buffer.alloc(ORUK_LIMIT + 1, 0x20));
    assert.equal(huge.statusCode, 400);
    assert.match(huge.body, /The file is larger than 16 MB/);
    assert.equal(await count(), before);

    // The whole directory: all 738 added, then the same file again updates them, with no duplicates.
    const first = await importOruk(admin, 'directory.json', DIRECTORY_ORUK);
    assert.equal(first.statusCode, 303, first.body);
    assert.equal(first.headers.location, '/places/lambeth/services/import?added=738&updated=0');
    const done = await t.app.inject({ url: first.headers.location!, headers: admin.read });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /govuk-notification-banner--success/);
    assert.match(done.body, /data-testid="oruk-imported">738 services added and 0 updated</);
    assert.match(done.body, /href="\/places\/lambeth\/services">Back to the service map</);
    assert.equal(await count(), before + 738);
    const again = await importOruk(admin, 'directory.json', DIRECTORY_ORUK);
    assert.equal(again.headers.location, '/places/lambeth/services/import?added=0&updated=738');
    const doneAgain = await t.app.inject({ url: again.headers.location!, headers: admin.read });
    assert.match(doneAgain.body, />0 services added and 738 updated</);
    assert.equal(await count(), before + 738);
  });
});
