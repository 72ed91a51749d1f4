import type { FastifyInstance } from 'fastify';
import { Invalid, type FieldErrors } from '../core/errors.ts';
import { appendAudit } from '../audit/public.ts';
import { inSystem } from '../core/db.ts';
import { clearSessionCookie, requirePerson, setSessionCookie } from './plugin.ts';
import { checkCredentials, createSession, revokeSession, type SessionPerson } from './store.ts';

/** Ten tries a minute for one email from one address: enough for typos, too few for guessing. */
export const signInRateLimit = {
  max: 10,
  timeWindow: '1 minute',
  hook: 'preHandler' as const,
  keyGenerator: (request: { ip: string; body?: unknown }) =>
    `${request.ip}|${String((request.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
};

export function validateSignIn(body: { email?: unknown; password?: unknown }): { email: string; password: string } {
  const fields: FieldErrors = {};
  const email = typeof body.email === 'string' ? body.email.trim() : '';
  const password = typeof body.password === 'string' ? body.password : '';
  if (!email) fields.email = 'Enter your email address';
  if (!password) fields.password = 'Enter your password';
  if (Object.keys(fields).length) throw new Invalid('Enter your email address and password', fields);
  return { email, password };
}

/** Signs in and records it; a wrong email or password gets one message that reveals neither. */
export async function signIn(app: FastifyInstance, email: string, password: string) {
  const { db, config } = app.deps;
  const person = await checkCredentials(db, email, password);
  if (!person) {
    throw new Invalid('Enter a correct email address and password', { email: 'Email address or password is not correct' });
  }
  const session = await createSession(db, person.id, config.sessionHours);
  await inSystem(db, (tx) =>
    appendAudit(tx, { person_id: person.id, place_id: null, action: 'auth.sign_in', subject: `person:${person.id}` }),
  );
  return { person, ...session };
}

export async function signOut(app: FastifyInstance, sessionId: string, person: SessionPerson) {
  await revokeSession(app.deps.db, sessionId);
  await inSystem(app.deps.db, (tx) =>
    appendAudit(tx, { person_id: person.id, place_id: null, action: 'auth.sign_out', subject: `person:${person.id}` }),
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
      config: { csrf: false, rateLimit: signInRateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets the session cookie and returns the CSRF token to send as X-CSRF-Token',
        body: {
          type: 'object',
          properties: { email: { type: 'string', maxLength: 320 }, password: { type: 'string', maxLength: 1024 } },
          required: ['email', 'password'],
          additionalProperties: false,
        },
        response: { 201: sessionSchema },
      },
    },
    async (request, reply) => {
      const { email, password } = validateSignIn(request.body);
      const session = await signIn(app, email, password);
      setSessionCookie(reply, session.token, app.deps.config.sessionHours);
      return reply.code(201).send({ person: session.person, csrf_token: session.csrfToken });
    },
  );

  app.get('/api/v1/session', { schema: { tags: ['auth'], summary: 'Who is signed in', response: { 200: sessionSchema } } }, async (request) => {
    const person = requirePerson(request);
    return { person, csrf_token: request.auth!.csrfToken };
  });

  app.delete('/api/v1/session', { schema: { tags: ['auth'], summary: 'Sign out', response: { 204: { type: 'null' } } } }, async (request, reply) => {
    const person = requirePerson(request);
    await signOut(app, request.auth!.sessionId, person);
    clearSessionCookie(reply);
    return reply.code(204).send();
  });
}
