import type { FastifyInstance } from 'fastify';
import { Invalid } from '../core/errors.ts';
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

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.auth) await signOut(app, request.auth.sessionId, request.auth.person);
    clearSessionCookie(reply);
    return reply.redirect('/sign-in', 303);
  });
}
