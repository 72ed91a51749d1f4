import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Unauthenticated } from '../core/errors.ts';
import { SESSION_COOKIE } from './domain.ts';
import { findSession, type ActiveSession, type SessionPerson } from './store.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: ActiveSession | null;
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Loads the session from its cookie on every request, and checks the CSRF token on every change. */
export function registerSessions(app: FastifyInstance) {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const token = request.cookies[SESSION_COOKIE];
    request.auth = token ? await findSession(app.deps.db, token) : null;
  });
  // Nothing a signed-in person is shown (family records, statements, their own pages), and no
  // export or CSV download for anyone, may be kept by a browser or a shared cache. Assets keep
  // the cache header they set themselves.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control') && (request.auth || isDownload(reply))) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('preHandler', async (request) => {
    if (!UNSAFE_METHODS.has(request.method) || !request.auth) return;
    if (request.routeOptions.config.csrf === false) return;
    const sent = request.headers['x-csrf-token'] ?? (request.body as { _csrf?: unknown } | undefined)?._csrf;
    if (typeof sent !== 'string' || !sameToken(sent, request.auth.csrfToken)) {
      throw new AppError('forbidden', 'This form has expired. Go back, refresh the page and try again');
    }
  });
}

/** An export: a file to save (an attachment) or any CSV, whoever asks for it. */
function isDownload(reply: FastifyReply): boolean {
  const disposition = String(reply.getHeader('content-disposition') ?? '');
  const type = String(reply.getHeader('content-type') ?? '');
  return /attachment/i.test(disposition) || /^text\/csv/i.test(type);
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function requirePerson(request: FastifyRequest): SessionPerson {
  if (!request.auth) throw new Unauthenticated();
  return request.auth.person;
}

export function setSessionCookie(reply: FastifyReply, token: string, hours: number) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: reply.server.deps.config.secureCookies,
    maxAge: hours * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply) {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
