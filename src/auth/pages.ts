import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../audit/public.ts';
import { inSystem } from '../core/db.ts';
import { Invalid } from '../core/errors.ts';
import { hashPassword, validateNewPassword } from './password.ts';
import { acceptInvitation, createSession, findInvitation } from './store.ts';
import { errorList, fieldMessages } from '../core/web.ts';
import { clearSessionCookie, setSessionCookie } from './plugin.ts';
import { signIn, signInRateLimit, signOut, validateSignIn } from './routes.ts';

/** Only paths on this site: an open redirect would let a phishing link borrow our sign-in page. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export async function authPages(app: FastifyInstance) {
  app.get<{ Querystring: { next?: string } }>('/sign-in', { schema: { hide: true } }, async (request, reply) => {
    if (request.auth) return reply.redirect(safeNext(request.query.next));
    return reply.page('auth/views/sign-in.njk', { title: 'Sign in', next: safeNext(request.query.next), values: {} });
  });

  app.post<{ Body: { email?: string; password?: string; next?: string } }>(
    '/sign-in',
    { config: { csrf: false, rateLimit: signInRateLimit }, schema: { hide: true } },
    async (request, reply) => {
      const next = safeNext(request.body?.next);
      try {
        const { email, password } = validateSignIn(request.body ?? {});
        const session = await signIn(app, email, password);
        setSessionCookie(reply, session.token, app.deps.config.sessionHours);
        return reply.redirect(next, 303);
      } catch (err) {
        if (!(err instanceof Invalid)) throw err;
        return reply.page(
          'auth/views/sign-in.njk',
          {
            title: 'Sign in',
            next,
            values: { email: request.body?.email ?? '' },
            errors: errorList(err.fields, ['email', 'password']),
            fieldErrors: fieldMessages(err.fields),
          },
          400,
        );
      }
    },
  );

  app.get<{ Params: { token: string } }>('/invitations/:token', { schema: { hide: true } }, async (request, reply) => {
    const invitation = await findInvitation(app.deps.db, request.params.token);
    if (!invitation) return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
    return reply.page('auth/views/invitation.njk', { title: 'Set your password', invitation, token: request.params.token });
  });

  app.post<{ Params: { token: string }; Body: { password?: string; confirm?: string } }>(
    '/invitations/:token',
    // No session exists yet; the one-time token is the credential, and tries are rate-limited.
    { config: { csrf: false, rateLimit: { max: 10, timeWindow: '1 minute' } }, schema: { hide: true } },
    async (request, reply) => {
      const { token } = request.params;
      const invitation = await findInvitation(app.deps.db, token);
      if (!invitation) return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
      const password = request.body?.password ?? '';
      const problem = validateNewPassword(password) ?? (password !== request.body?.confirm ? 'The passwords do not match' : null);
      if (problem) {
        const fields = { password: problem };
        return reply.page(
          'auth/views/invitation.njk',
          { title: 'Set your password', invitation, token, errors: errorList(fields, ['password']), fieldErrors: fieldMessages(fields) },
          400,
        );
      }
      const personId = await acceptInvitation(app.deps.db, token, await hashPassword(password));
      if (personId === undefined) return reply.page('auth/views/invitation-expired.njk', { title: 'This link has expired' }, 404);
      const session = await createSession(app.deps.db, personId, app.deps.config.sessionHours);
      await inSystem(app.deps.db, (tx) =>
        appendAudit(tx, { person_id: personId, place_id: null, action: 'auth.password_set', subject: `person:${personId}` }),
      );
      setSessionCookie(reply, session.token, app.deps.config.sessionHours);
      return reply.redirect('/', 303);
    },
  );

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.auth) await signOut(app, request.auth.sessionId, request.auth.person);
    clearSessionCookie(reply);
    return reply.redirect('/sign-in', 303);
  });
}
