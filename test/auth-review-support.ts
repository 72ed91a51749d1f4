/** Helpers shared by the review 2026-12 tests (src/auth/review-*.test.ts). */
import type { FastifyInstance } from 'fastify';
import type { TestDatabase } from './db.ts';
import { hashPassword } from '../src/auth/password.ts';

export const PASSWORD = 'a long enough password';

/** One scrypt hash for every account here: on a busy machine each hash costs seconds. */
let passwordHash: Promise<string> | undefined;
export async function withPassword(db: TestDatabase, personId: number) {
  passwordHash ??= hashPassword(PASSWORD);
  await db.kysely
    .updateTable('people')
    .set({ password_hash: await passwordHash })
    .where('id', '=', personId)
    .execute();
}

export const apiSignIn = (
  app: FastifyInstance,
  email: string,
  password: string,
  remoteAddress = '127.0.0.1',
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/session',
    remoteAddress,
    headers,
    payload: { email, password },
  });

/** Everything but the sign-in limiter's timings is the product's own; the waits are shortened. */
export function quickThrottle(
  app: FastifyInstance,
  options: Partial<FastifyInstance['signInThrottle']['options']> = {},
) {
  app.signInThrottle.options = { ...app.signInThrottle.options, baseDelayMs: 1, maxDelayMs: 5, ...options };
}
