import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp, type AppOptions } from '../src/app.ts';
import { SESSION_COOKIE, type Role } from '../src/auth/domain.ts';
import { createSession } from '../src/auth/store.ts';
import { loadConfig } from '../src/core/config.ts';
import { inPlace } from '../src/core/db.ts';
import { balancedTransaction, type BalancedTransaction, type NewAccount } from '../src/ledger/domain.ts';
import { createAccount } from '../src/ledger/accounts.ts';
import { postTransactions } from '../src/ledger/postings.ts';
import type { PlaceKind } from '../src/places/domain.ts';
import { openTestDatabase, type TestDatabase } from './db.ts';

export interface TestApp {
  db: TestDatabase;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The whole product over a fresh database, driven with `app.inject`. */
export async function startTestApp(
  options: Pick<AppOptions, 'signInThrottle' | 'passwordCost'> = {},
): Promise<TestApp> {
  const db = await openTestDatabase();
  const app = await buildApp({ db, config: { ...loadConfig({}), secureCookies: false } }, options);
  return {
    db,
    app,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

export async function makePlace(
  db: TestDatabase,
  slug: string,
  kind: PlaceKind = 'whole_place',
  parentId: number | null = null,
) {
  const row = await db.kysely
    .insertInto('places')
    .values({ slug, name: slug.replace(/-/g, ' '), kind, parent_id: parentId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function makePartner(
  db: TestDatabase,
  placeId: number,
  name: string,
  agency_type: 'council' | 'police' | 'health' = 'council',
) {
  const row = await db.kysely
    .insertInto('partners')
    .values({ place_id: placeId, name, agency_type })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A person with roles: `[placeId, role, partnerId?]` each. No password: tests sign in by session. */
export async function makePerson(db: TestDatabase, email: string, roles: [number, Role, number?][] = []) {
  const person = await db.kysely
    .insertInto('people')
    .values({ email, name: email.split('@')[0]!, password_hash: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const [place_id, role, partner_id] of roles) {
    await db.kysely
      .insertInto('memberships')
      .values({ place_id, person_id: person.id, role, partner_id: partner_id ?? null })
      .execute();
  }
  return person.id;
}

export interface SignedIn {
  /** Headers for a GET. */
  read: Record<string, string>;
  /** Headers for a change: the session cookie and the CSRF token. */
  write: Record<string, string>;
  csrfToken: string;
}

export async function signInAs(db: TestDatabase, personId: number): Promise<SignedIn> {
  const { token, csrfToken } = await createSession(db, personId, 1);
  const cookie = `${SESSION_COOKIE}=${token}`;
  return { read: { cookie }, write: { cookie, 'x-csrf-token': csrfToken }, csrfToken };
}

export type FormFields = Record<string, string | string[]>;

/**
 * Requests as a signed-in person through `app.inject`. `pages` and `api` are prefixes for the
 * paths given, such as '/places/essex' and '/api/v1/places/essex'. `app` may be a function, so the
 * helpers can be made where a test's `before` has not yet started the app.
 */
export function requests(
  app: FastifyInstance | (() => FastifyInstance),
  prefixes: { pages?: string; api?: string } = {},
) {
  const inject = (options: InjectOptions) => (typeof app === 'function' ? app() : app).inject(options);
  const pages = prefixes.pages ?? '';
  const apiPrefix = prefixes.api ?? '';
  const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, who: SignedIn, payload?: object) =>
    inject({
      method,
      url: `${apiPrefix}${url}`,
      headers: method === 'GET' ? who.read : who.write,
      ...(payload ? { payload } : {}),
    });
  return {
    /** GET a page with the person's session cookie. */
    page: (url: string, who: SignedIn) => inject({ method: 'GET', url: `${pages}${url}`, headers: who.read }),
    /** POST a page's form with its hidden CSRF field (sent as JSON, which the forms accept too). */
    form: (url: string, who: SignedIn, fields: FormFields = {}) =>
      inject({
        method: 'POST',
        url: `${pages}${url}`,
        headers: who.read,
        payload: { _csrf: who.csrfToken, ...fields },
      }),
    /** POST a page's form as a browser does: URL-encoded, a field given once per value. */
    browserForm: (url: string, who: SignedIn, fields: FormFields = {}) => {
      const params = new URLSearchParams({ _csrf: who.csrfToken });
      for (const [name, value] of Object.entries(fields))
        for (const one of [value].flat()) params.append(name, one);
      return inject({
        method: 'POST',
        url: `${pages}${url}`,
        headers: { ...who.read, 'content-type': 'application/x-www-form-urlencoded' },
        payload: params.toString(),
      });
    },
    /**
     * POST a form with a file as a browser does (multipart/form-data): the text `fields` (by default
     * just the CSRF field), then the file, sent as text/csv.
     */
    fileForm: (
      url: string,
      who: SignedIn,
      file: { name: string; bytes: Buffer | string; field?: string },
      fields: Record<string, string> = { _csrf: who.csrfToken },
    ) => {
      const boundary = '----placebudgetTestBoundary7MA4YWxkTrZu0gW';
      const payload = Buffer.concat([
        ...Object.entries(fields).map(([name, value]) =>
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
        ),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'file'}"; filename="${file.name}"\r\n` +
            'Content-Type: text/csv\r\n\r\n',
        ),
        Buffer.from(file.bytes),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return inject({
        method: 'POST',
        url: `${pages}${url}`,
        headers: { ...who.read, 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload,
      });
    },
    /** The JSON API: a read sends the session cookie, a change the CSRF header too. */
    api,
    get: (url: string, who: SignedIn) => api('GET', url, who),
    post: (url: string, who: SignedIn, payload: object) => api('POST', url, who, payload),
  };
}

/** An account for a test's chart: no partner and no service unless given. */
export type TestAccount = Pick<NewAccount, 'code' | 'name' | 'kind'> & Partial<NewAccount>;

/** A partner's contribution account, such as C-POLICE, 'Police contribution'. */
export const contributionAccount = (code: string, name: string, partnerId: number): TestAccount => ({
  code,
  name,
  kind: 'contribution',
  partner_id: partnerId,
});

/**
 * Opens `accounts` in a place's ledger, one at a time in the order given, then posts the `opening`
 * transactions (the money paid in before a test starts), all as the CLI would: no person.
 */
export async function makeLedger(
  db: TestDatabase,
  placeId: number,
  accounts: TestAccount[],
  opening: BalancedTransaction[] = [],
) {
  const system = { personId: null };
  await inPlace(db, placeId, async (tx) => {
    for (const account of accounts)
      await createAccount(tx, placeId, { partner_id: null, service: null, ...account }, system);
    if (opening.length) await postTransactions(tx, placeId, opening, { actor: system });
  });
}

/**
 * A neighbourhood whose ledger pot holds `potPence`, paid in by its council: the money a
 * participatory budget may spend.
 */
export async function makeFundedNeighbourhood(
  db: TestDatabase,
  slug: string,
  council: string,
  potPence: number,
) {
  const placeId = await makePlace(db, slug, 'neighbourhood');
  const councilId = await makePartner(db, placeId, council);
  const postings = [
    { account: 'POT', amount_pence: potPence },
    { account: 'C-COUNCIL', amount_pence: -potPence },
  ];
  await makeLedger(
    db,
    placeId,
    [
      { code: 'POT', name: 'Pooled budget', kind: 'pot' },
      contributionAccount('C-COUNCIL', 'Council contribution', councilId),
    ],
    [balancedTransaction({ key: 'fund', date: '2026-01-02', memo: '', postings })],
  );
  return placeId;
}

/**
 * Posts the sign-in form as a browser does: it first opens the page, which sets the pre-session
 * cookie and puts its token in the form (login CSRF, src/auth/plugin.ts), and sends both back.
 */
export async function postSignInForm(
  app: FastifyInstance,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const page = await app.inject({ method: 'GET', url: '/sign-in' });
  const presession = page.cookies.find((c) => c.name === 'pb_presession')!.value;
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
  const cookie = [headers.cookie, `pb_presession=${presession}`].filter(Boolean).join('; ');
  return app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { ...headers, cookie },
    payload: { ...fields, _csrf: token },
  });
}
