import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../audit/public.ts';
import { inSystem } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { hashPassword, validateNewPassword } from './password.ts';
import { acceptInvitation, createSession, findInvitation } from './store.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import {
  clearSessionCookie,
  requirePerson,
  hasPreSessionToken,
  issuePreSessionToken,
  setSessionCookie,
} from './plugin.ts';
import { changeOwnPassword, signIn, signOut, validateSignIn } from './routes.ts';

/** A fixed base: where `next` leads is decided without the request's Host header. */
const BASE = new URL('http://placebudget.invalid/');

/** A path that stays on this site however a browser reads it (browsers drop tabs and newlines). */
function staysHere(path: string): boolean {
  if (!path.startsWith('/') || /^\/[/\\]/.test(path) || [...path].some((c) => c < ' ' || c === '\u007f'))
    return false;
  try {
    const url = new URL(path, BASE);
    return url.origin === BASE.origin && !url.pathname.startsWith('//');
  } catch {
    return false;
  }
}

/** Stays on this site as it is and once percent-decoded. */
function staysHereDecoded(path: string): boolean {
  try {
    return staysHere(path) && staysHere(decodeURIComponent(path));
  } catch {
    return false;
  }
}

/**
 * Only paths on this site: an open redirect would let a phishing link borrow our sign-in page.
 * The value must stay on this site as sent and once decoded, parsed against a fixed base; what is
 * returned is the path the URL parser made of it, checked the same way again (`/.//evil` parses
 * to `//evil`). Anything else gives `/`.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2000 || !staysHereDecoded(next)) return '/';
  const url = new URL(next, BASE);
  const path = url.pathname + url.search + url.hash;
  return staysHereDecoded(path) && !/[\s\\]/.test(path) ? path : '/';
}

export async function authPages(app: FastifyInstance) {
  app.get<{ Querystring: { next?: string } }>(
    '/sign-in',
    { schema: { hide: true } },
    async (request, reply) => {
      if (request.auth) return reply.redirect(safeNext(request.query.next));
      return reply.page('auth/views/sign-in.njk', {
        title: 'Sign in',
        next: safeNext(request.query.next),
        values: {},
        preSessionToken: issuePreSessionToken(request, reply),
      });
    },
  );

  app.post<{ Body: { email?: string; password?: string; next?: string; _csrf?: string } }>(
    '/sign-in',
    // No session yet: the form's own pre-session token (a signed double submit) stands in for it.
    { config: { csrf: false }, schema: { hide: true } },
    async (request, reply) => {
      const next = safeNext(request.body?.next);
      try {
        if (!hasPreSessionToken(request, request.body?._csrf)) {
          throw new Invalid('This form has expired', {
            email: 'The sign-in form had expired. Enter your email address and password again',
          });
        }
        const { email, password } = validateSignIn(request.body ?? {});
        const session = await signIn(app, request.ip, email, password);
        setSessionCookie(reply, session.token, app.deps.config.sessionHours);
        return reply.redirect(next, 303);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return reply.page(
          'auth/views/sign-in.njk',
          {
            title: 'Sign in',
            next,
            values: { email: typeof request.body?.email === 'string' ? request.body.email : '' },
            errors: errorList(err.fields, ['email', 'password']),
            fieldErrors: fieldMessages(err.fields),
            preSessionToken: issuePreSessionToken(request, reply),
          },
          400,
        );
      }
    },
  );

  app.get<{ Params: { token: string } }>(
    '/invitations/:token',
    { schema: { hide: true } },
    async (request, reply) => {
      const invitation = await findInvitation(app.deps.db, request.params.token);
      if (!invitation)
        return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
      // Someone with an account was given a role: the link only sends them to sign in as usual.
      if (invitation.hasPassword)
        return reply.page('auth/views/invitation-signed-up.njk', { title: 'Sign in to continue' });
      return reply.page('auth/views/invitation.njk', {
        title: 'Set your password',
        invitation,
        token: request.params.token,
      });
    },
  );

  app.post<{ Params: { token: string }; Body: { password?: string; confirm?: string } }>(
    '/invitations/:token',
    // No session exists yet; the one-time token is the credential, and tries are rate-limited.
    { config: { csrf: false, rateLimit: { max: 10, timeWindow: '1 minute' } }, schema: { hide: true } },
    async (request, reply) => {
      const { token } = request.params;
      const invitation = await findInvitation(app.deps.db, token);
      if (!invitation)
        return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
      if (invitation.hasPassword)
        return reply.page('auth/views/invitation-signed-up.njk', { title: 'Sign in to continue' });
      const password = request.body?.password ?? '';
      const problem =
        validateNewPassword(password, { email: invitation.email, name: invitation.name }) ??
        (password !== request.body?.confirm ? 'The passwords do not match' : null);
      if (problem) {
        const fields = { password: problem };
        return reply.page(
          'auth/views/invitation.njk',
          {
            title: 'Set your password',
            invitation,
            token,
            errors: errorList(fields, ['password']),
            fieldErrors: fieldMessages(fields),
          },
          400,
        );
      }
      const personId = await acceptInvitation(
        app.deps.db,
        token,
        await hashPassword(password, app.passwordCost),
      );
      if (personId === undefined)
        return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
      const session = await createSession(app.deps.db, personId, app.deps.config.sessionHours);
      await inSystem(app.deps.db, (tx) =>
        appendAudit(tx, {
          person_id: personId,
          place_id: null,
          action: 'auth.password_set',
          subject: `person:${personId}`,
        }),
      );
      setSessionCookie(reply, session.token, app.deps.config.sessionHours);
      return reply.redirect('/', 303);
    },
  );

  app.get('/account/password', { schema: { hide: true } }, async (request, reply) => {
    requirePerson(request);
    return reply.page('auth/views/password.njk', { title: 'Change your password', values: {} });
  });

  app.post<{ Body: { current?: string; password?: string; confirm?: string } }>(
    '/account/password',
    { schema: { hide: true } },
    async (request, reply) => {
      requirePerson(request);
      const body = request.body ?? {};
      try {
        if (typeof body.password === 'string' && body.password !== body.confirm) {
          throw new Invalid('The passwords do not match', { password: 'The passwords do not match' });
        }
        await changeOwnPassword(app, request, body.current, body.password);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return reply.page(
          'auth/views/password.njk',
          {
            title: 'Change your password',
            errors: errorList(err.fields, ['current', 'password']),
            fieldErrors: fieldMessages(err.fields),
          },
          400,
        );
      }
      return reply.page('auth/views/password-changed.njk', { title: 'Your password has been changed' });
    },
  );

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.auth) await signOut(app, request.auth.sessionId, request.auth.person);
    clearSessionCookie(reply);
    return reply.redirect('/sign-in', 303);
  });
}
