import { createHash, randomBytes } from 'node:crypto';
import type { Database, Tx } from '../core/db.ts';
import { dummyHash, verifyPassword, type PasswordCost } from './password.ts';
import { normaliseEmail } from './throttle.ts';

export interface SessionPerson {
  id: number;
  email: string;
  name: string;
}

export interface ActiveSession {
  person: SessionPerson;
  csrfToken: string;
  sessionId: string;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Checks a password, also saying which account the email names (null when none), so a failure can
 * be audited by reference. The email is normalised exactly as the sign-in limiter keys it. `cost`
 * is what the app makes hashes at, so an unknown email costs what a wrong password does.
 */
export async function checkCredentials(
  db: Database,
  email: string,
  password: string,
  cost?: PasswordCost,
): Promise<{ person: SessionPerson | null; accountId: number | null }> {
  const person = await db.kysely
    .selectFrom('people')
    .select(['id', 'email', 'name', 'password_hash'])
    .where('email', '=', normaliseEmail(email))
    .executeTakeFirst();
  const ok = await verifyPassword(password, person?.password_hash ?? dummyHash(cost));
  return {
    person: ok && person ? { id: person.id, email: person.email, name: person.name } : null,
    accountId: person?.id ?? null,
  };
}

/** Checks the current password of a signed-in person (changing a password needs it). */
export async function checkPasswordOf(
  db: Database,
  personId: number,
  password: string,
  cost?: PasswordCost,
): Promise<boolean> {
  const row = await db.kysely
    .selectFrom('people')
    .select('password_hash')
    .where('id', '=', personId)
    .executeTakeFirst();
  return verifyPassword(password, row?.password_hash ?? dummyHash(cost));
}

/** Sets a new password and ends every other session of the person, in one transaction. */
export async function changePassword(
  db: Database,
  personId: number,
  keepSessionId: string,
  passwordHash: string,
): Promise<void> {
  await db.kysely.transaction().execute(async (tx) => {
    await tx.updateTable('people').set({ password_hash: passwordHash }).where('id', '=', personId).execute();
    await tx
      .updateTable('sessions')
      .set({ revoked_at: new Date() })
      .where('person_id', '=', personId)
      .where('id', '<>', keepSessionId)
      .where('revoked_at', 'is', null)
      .execute();
  });
}

/** A new session with a new token every time: a token from before sign-in is never reused. */
export async function createSession(
  db: Database,
  personId: number,
  hours: number,
): Promise<{ token: string; csrfToken: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  await db.kysely
    .insertInto('sessions')
    .values({
      id: hashToken(token),
      person_id: personId,
      csrf_token: csrfToken,
      expires_at: new Date(Date.now() + hours * 3_600_000),
    })
    .execute();
  return { token, csrfToken };
}

export async function findSession(db: Database, token: string): Promise<ActiveSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await db.kysely
    .selectFrom('sessions')
    .innerJoin('people', 'people.id', 'sessions.person_id')
    .select(['sessions.id as sessionId', 'sessions.csrf_token', 'people.id', 'people.email', 'people.name'])
    .where('sessions.id', '=', hashToken(token))
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', new Date())
    // A person with no role left anywhere has nothing to be signed in for: the session stops working.
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('memberships')
          .select('memberships.person_id')
          .whereRef('memberships.person_id', '=', 'people.id'),
      ),
    )
    .executeTakeFirst();
  if (!row) return null;
  return {
    person: { id: row.id, email: row.email, name: row.name },
    csrfToken: row.csrf_token,
    sessionId: row.sessionId,
  };
}

export async function revokeSession(db: Database, sessionId: string): Promise<void> {
  await db.kysely
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('id', '=', sessionId)
    .execute();
}

/** Signs a person out everywhere, e.g. after a password change or when they leave. */
export async function revokeAllSessions(db: Database, personId: number): Promise<void> {
  await db.kysely
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('person_id', '=', personId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Once a person's last role anywhere is taken away, every session of theirs ends. */
export async function endSessionsIfNoRoles(db: Database, personId: number): Promise<void> {
  await db.kysely
    .updateTable('sessions')
    .set({ revoked_at: new Date() })
    .where('person_id', '=', personId)
    .where('revoked_at', 'is', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('memberships')
            .select('memberships.person_id')
            .where('memberships.person_id', '=', personId),
        ),
      ),
    )
    .execute();
}

const INVITATION_DAYS = 7;

/** A one-time link for a person to set their password; the raw token is returned once, never stored. */
export async function createInvitation(tx: Tx, personId: number, createdBy: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await tx
    .insertInto('invitations')
    .values({
      id: hashToken(token),
      person_id: personId,
      created_by: createdBy,
      expires_at: new Date(Date.now() + INVITATION_DAYS * 86_400_000),
    })
    .execute();
  return token;
}

export async function findInvitation(
  db: Database,
  token: string,
): Promise<{ id: string; personId: number; email: string; name: string; hasPassword: boolean } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await db.kysely
    .selectFrom('invitations')
    .innerJoin('people', 'people.id', 'invitations.person_id')
    .select([
      'invitations.id',
      'people.id as personId',
      'people.email',
      'people.name',
      'people.password_hash',
    ])
    .where('invitations.id', '=', hashToken(token))
    .where('invitations.used_at', 'is', null)
    .where('invitations.expires_at', '>', new Date())
    .executeTakeFirst();
  if (!row) return undefined;
  const { password_hash, ...rest } = row;
  return { ...rest, hasPassword: password_hash !== null };
}

/** Sets the password and spends the invitation in one transaction; other sessions end. */
export async function acceptInvitation(
  db: Database,
  token: string,
  passwordHash: string,
): Promise<number | undefined> {
  return db.kysely.transaction().execute(async (tx) => {
    const spent = await tx
      .updateTable('invitations')
      .set({ used_at: new Date() })
      .where('id', '=', hashToken(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .returning('person_id')
      .executeTakeFirst();
    if (!spent) return undefined;
    // An invitation sets a first password only: an account that has one is never taken over by a link.
    const set = await tx
      .updateTable('people')
      .set({ password_hash: passwordHash })
      .where('id', '=', spent.person_id)
      .where('password_hash', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!set) return undefined;
    await tx
      .updateTable('sessions')
      .set({ revoked_at: new Date() })
      .where('person_id', '=', spent.person_id)
      .where('revoked_at', 'is', null)
      .execute();
    return spent.person_id;
  });
}
