import type { FastifyInstance, FastifyRequest } from 'fastify';
import { inPlace, READ_STATEMENT_TIMEOUT_MS, type Tx } from '../core/db.ts';
import { Forbidden, NotFound } from '../core/errors.ts';
import { allows, type Permission } from '../auth/domain.ts';
import { requirePerson } from '../auth/plugin.ts';
import type { SessionPerson } from '../auth/public.ts';
import type { Role } from '../auth/domain.ts';
import type { PlaceKind } from './domain.ts';
import { membershipBySlug } from './membership.ts';

/** The place a request is about, and what the signed-in person may do there. */
export interface PlaceContext {
  id: number;
  slug: string;
  name: string;
  kind: PlaceKind;
  roles: Role[];
  /** The partners the person represents (partner reps, key workers). */
  partnerIds: number[];
  person: SessionPerson;
}

declare module 'fastify' {
  interface FastifyRequest {
    place: PlaceContext | null;
  }
}

/**
 * Resolves `:slug` for every route under a place. A place the person is not a member of is
 * answered exactly like one that does not exist: 404, with nothing about it.
 */
async function resolvePlace(app: FastifyInstance, request: FastifyRequest): Promise<PlaceContext> {
  const person = requirePerson(request);
  const slug = (request.params as { slug?: string }).slug ?? '';
  const membership = await membershipBySlug(app.deps.db, person.id, slug);
  if (!membership) throw new NotFound('Place not found');
  return { ...membership, person };
}

/**
 * Registers routes under `/places/:slug` (pages) or `/api/v1/places/:slug` (API): each handler
 * finds `request.place` filled in and checked. The plugin's options (what src/app.ts passes in
 * from src/wiring/) reach `routes` as its second argument.
 */
export function placeScoped<Options extends object = Record<never, never>>(
  prefix: '/places/:slug' | '/api/v1/places/:slug',
  routes: (app: FastifyInstance, options: Options) => void,
) {
  return async (parent: FastifyInstance, options: Options) => {
    await parent.register(
      async (app) => {
        // Before body validation, so another place's URL is a 404 whatever the body says.
        app.addHook('preValidation', async (request) => {
          request.place = await resolvePlace(app, request);
        });
        routes(app, options);
      },
      { prefix },
    );
  };
}

export function placeOf(request: FastifyRequest): PlaceContext {
  if (!request.place) throw new NotFound('Place not found');
  return request.place;
}

/** The place of the request, after checking the person's role allows `permission` there. */
export function need(request: FastifyRequest, permission: Permission): PlaceContext {
  const place = placeOf(request);
  if (!allows(place.roles, permission)) throw new Forbidden();
  return place;
}

/** Runs work in the request's place, behind row-level security for that place. */
export function inRequestPlace<T>(
  request: FastifyRequest,
  place: PlaceContext,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  // Reads (GET) are bounded in time on PostgreSQL; writes such as large imports are not.
  const options =
    request.method === 'GET' || request.method === 'HEAD'
      ? { statementTimeoutMs: READ_STATEMENT_TIMEOUT_MS }
      : {};
  return inPlace(request.server.deps.db, place.id, work, options);
}
