import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, Unauthenticated } from '../core/errors.ts';
import { SESSION_COOKIE } from './domain.ts';
import { findSession, type ActiveSession, type SessionPerson } from './store.ts';

import { PASSWORD_COST, type PasswordCost } from './password.ts';
import { SignInThrottle, type ThrottleOptions } from './throttle.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: ActiveSession | null;
  }
  interface FastifyInstance {
    /** The one sign-in limiter shared by the form, the API and password changes. */
    signInThrottle: SignInThrottle;
    /** What new passwords are hashed at, and what an unknown account's check costs. */
    passwordCost: PasswordCost;
    /** Signs the pre-session cookie of the sign-in form (login CSRF); random per process. */
    preSessionKey: Buffer;
  }
}

/**
 * Without a session a request may only be small (the sign-in, invitation and code-voting forms):
 * a large body is refused from its Content-Length before a byte of it is read or parsed.
 */
export const UNAUTHENTICATED_BODY_LIMIT = 64 * 1024;

class TooLargeWithoutSession extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
  ) {
    super('The request is too large');
  }
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Loads the session from its cookie on every request, and checks the CSRF token on every change. */
export function registerSessions(
  app: FastifyInstance,
  {
    throttle = {},
    passwordCost = PASSWORD_COST,
  }: { throttle?: Partial<ThrottleOptions>; passwordCost?: PasswordCost } = {},
) {
  app.decorateRequest('auth', null);
  app.decorate('signInThrottle', new SignInThrottle(throttle));
  app.decorate('passwordCost', passwordCost);
  app.decorate('preSessionKey', randomBytes(32));
  app.addHook('onRequest', async (request) => {
    const token = request.cookies[SESSION_COOKIE];
    request.auth = token ? await findSession(app.deps.db, token) : null;
    if (!request.auth && UNSAFE_METHODS.has(request.method)) {
      const length = request.headers['content-length'];
      if (length === undefined && request.headers['transfer-encoding'])
        throw new TooLargeWithoutSession(411, 'length_required');
      if (Number(length) > UNAUTHENTICATED_BODY_LIMIT) throw new TooLargeWithoutSession(413, 'too_large');
    }
  });
  // Nothing a signed-in person is shown (family records, statements, their own pages), and no
  // export or CSV download for anyone, may be kept by a browser or a shared cache. Assets keep
  // the cache header they set themselves.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!reply.hasHeader('cache-control') && (request.auth || isDownload(reply)))
      reply.header('cache-control', 'no-store');
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

/** The cookie behind the sign-in form's token: random, HttpOnly, for this browser only. */
export const PRE_SESSION_COOKIE = 'pb_presession';

const preSessionToken = (key: Buffer, nonce: string) =>
  createHmac('sha256', key).update(`sign-in|${nonce}`).digest('base64url');

/**
 * Login CSRF: another site could post its own credentials to the sign-in form and leave the
 * visitor working in the attacker's account. The form carries a token that is an HMAC of a random
 * cookie (a signed double submit); another site can neither read the cookie nor forge the HMAC.
 * Returns the token for the form, setting the cookie when the browser has none.
 */
export function issuePreSessionToken(request: FastifyRequest, reply: FastifyReply): string {
  let nonce = request.cookies[PRE_SESSION_COOKIE];
  if (!nonce || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) {
    nonce = randomBytes(32).toString('base64url');
    reply.setCookie(PRE_SESSION_COOKIE, nonce, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: reply.server.deps.config.secureCookies,
      maxAge: 2 * 3600,
    });
  }
  return preSessionToken(request.server.preSessionKey, nonce);
}

export function hasPreSessionToken(request: FastifyRequest, sent: unknown): boolean {
  const nonce = request.cookies[PRE_SESSION_COOKIE];
  if (typeof sent !== 'string' || !nonce) return false;
  return sameToken(sent, preSessionToken(request.server.preSessionKey, nonce));
}
