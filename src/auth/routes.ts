import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { inSystem } from '../core/db.ts';
import { closedObject } from '../core/json-schema.ts';
import { clearSessionCookie, requirePerson, setSessionCookie } from './plugin.ts';
import {
  changePassword,
  checkCredentials,
  checkPasswordOf,
  createSession,
  revokeSession,
  type SessionPerson,
} from './store.ts';
import { hashPassword, validateNewPassword } from './password.ts';
import { normaliseEmail } from './throttle.ts';

export function validateSignIn(body: { email?: unknown; password?: unknown }): {
  email: string;
  password: string;
} {
  const fields: FieldErrors = {};
  const email = typeof body.email === 'string' ? normaliseEmail(body.email) : '';
  const password = typeof body.password === 'string' ? body.password : '';
  if (!email) fields.email = 'Enter your email address';
  if (!password) fields.password = 'Enter your password';
  if (Object.keys(fields).length) throw new Invalid('Enter your email address and password', fields);
  return { email, password };
}

/** Too many tries: answered 429 with Retry-After, on the form and the API alike. */
export class TooManyAttempts extends Error {
  readonly statusCode = 429;
  readonly code = 'rate_limited';
  constructor(readonly retryAfterSeconds: number) {
    super('Too many attempts. Wait a minute and try again');
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks a password against the one limiter every sign-in path shares (src/auth/throttle.ts),
 * waiting when the account is under attack, and audits a failure by reference: the person's id
 * when the email is an account, else a hash of the email (what was typed is never stored).
 */
export async function proveIdentity(
  app: FastifyInstance,
  ip: string,
  email: string,
  password: string,
): Promise<SessionPerson | null> {
  const account = normaliseEmail(email);
  const decision = app.signInThrottle.attempt(ip, account);
  if (!decision.allowed) throw new TooManyAttempts(decision.retryAfterSeconds);
  if (decision.delayMs > 0) await pause(decision.delayMs);
  const { person, accountId } = await checkCredentials(app.deps.db, account, password, app.passwordCost);
  if (person) {
    app.signInThrottle.succeeded(ip, account);
    return person;
  }
  app.signInThrottle.failed(ip, account);
  await inSystem(app.deps.db, (tx) =>
    appendAudit(tx, {
      person_id: null,
      place_id: null,
      action: 'auth.sign_in_failed',
      subject:
        accountId === null
          ? `email-sha256:${createHash('sha256').update(account).digest('hex').slice(0, 16)}`
          : `person:${accountId}`,
    }),
  );
  return null;
}

/** Signs in and records it; a wrong email or password gets one message that reveals neither. */
export async function signIn(app: FastifyInstance, ip: string, email: string, password: string) {
  const { db, config } = app.deps;
  const person = await proveIdentity(app, ip, email, password);
  if (!person) {
    throw new Invalid('Enter a correct email address and password', {
      email: 'Email address or password is not correct',
    });
  }
  const session = await createSession(db, person.id, config.sessionHours);
  await inSystem(db, (tx) =>
    appendAudit(tx, {
      person_id: person.id,
      place_id: null,
      action: 'auth.sign_in',
      subject: `person:${person.id}`,
    }),
  );
  return { person, ...session };
}

/**
 * Changes the signed-in person's own password: the current one is needed (tried through the same
 * limiter as sign-in), the new one must pass the password rules, and every other session ends.
 */
export async function changeOwnPassword(
  app: FastifyInstance,
  request: FastifyRequest,
  current: unknown,
  next: unknown,
): Promise<void> {
  const person = requirePerson(request);
  const fields: FieldErrors = {};
  if (typeof current !== 'string' || !current) fields.current = 'Enter your current password';
  const password = typeof next === 'string' ? next : '';
  const problem = password
    ? validateNewPassword(password, { email: person.email, name: person.name })
    : 'Enter a new password';
  if (problem) fields.password = problem;
  else if (password === current) fields.password = 'Choose a new password, not your current one';
  if (Object.keys(fields).length) throw new Invalid('There is a problem with the password', fields);
  const account = normaliseEmail(person.email);
  const decision = app.signInThrottle.attempt(request.ip, account);
  if (!decision.allowed) throw new TooManyAttempts(decision.retryAfterSeconds);
  if (decision.delayMs > 0) await pause(decision.delayMs);
  if (!(await checkPasswordOf(app.deps.db, person.id, current as string, app.passwordCost))) {
    app.signInThrottle.failed(request.ip, account);
    await inSystem(app.deps.db, (tx) =>
      appendAudit(tx, {
        person_id: person.id,
        place_id: null,
        action: 'auth.password_change_failed',
        subject: `person:${person.id}`,
      }),
    );
    throw new Invalid('There is a problem with the password', {
      current: 'Your current password is not correct',
    });
  }
  app.signInThrottle.succeeded(request.ip, account);
  await changePassword(
    app.deps.db,
    person.id,
    request.auth!.sessionId,
    await hashPassword(password, app.passwordCost),
  );
  await inSystem(app.deps.db, (tx) =>
    appendAudit(tx, {
      person_id: person.id,
      place_id: null,
      action: 'auth.password_changed',
      subject: `person:${person.id}`,
    }),
  );
}

export async function signOut(app: FastifyInstance, sessionId: string, person: SessionPerson) {
  await revokeSession(app.deps.db, sessionId);
  await inSystem(app.deps.db, (tx) =>
    appendAudit(tx, {
      person_id: person.id,
      place_id: null,
      action: 'auth.sign_out',
      subject: `person:${person.id}`,
    }),
  );
}

const personSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, email: { type: 'string' }, name: { type: 'string' } },
  required: ['id', 'email', 'name'],
} as const;

const sessionSchema = {
  type: 'object',
  properties: { person: personSchema, csrf_token: { type: 'string' } },
  required: ['person', 'csrf_token'],
} as const;

export async function authRoutes(app: FastifyInstance) {
  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/session',
    {
      // No session yet, so no session CSRF token: the body must be JSON, which another site cannot
      // send without a CORS preflight this server never grants (login CSRF).
      config: { csrf: false },
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets the session cookie and returns the CSRF token to send as X-CSRF-Token',
        body: closedObject({
          email: { type: 'string', maxLength: 320 },
          password: { type: 'string', maxLength: 1024 },
        }),
        response: { 201: sessionSchema },
      },
    },
    async (request, reply) => {
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        throw new Invalid('Send the sign-in as JSON', { body: 'must be application/json' });
      }
      const { email, password } = validateSignIn(request.body);
      const session = await signIn(app, request.ip, email, password);
      setSessionCookie(reply, session.token, app.deps.config.sessionHours);
      return reply.code(201).send({ person: session.person, csrf_token: session.csrfToken });
    },
  );

  app.get(
    '/api/v1/session',
    { schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: sessionSchema } } },
    async (request) => {
      const person = requirePerson(request);
      return { person, csrf_token: request.auth!.csrfToken };
    },
  );

  app.put<{ Body: { current_password: string; new_password: string } }>(
    '/api/v1/account/password',
    {
      schema: {
        tags: ['auth'],
        summary: 'Change your own password; needs the current one, and ends every other session of yours',
        body: closedObject({
          current_password: { type: 'string', maxLength: 1024 },
          new_password: { type: 'string', maxLength: 1024 },
        }),
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await changeOwnPassword(app, request, request.body.current_password, request.body.new_password);
      return reply.code(204).send();
    },
  );

  app.delete(
    '/api/v1/session',
    { schema: { tags: ['auth'], summary: 'Sign out', response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      const person = requirePerson(request);
      await signOut(app, request.auth!.sessionId, person);
      clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );
}
