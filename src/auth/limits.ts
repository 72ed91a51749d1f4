import type { FastifyReply, FastifyRequest } from 'fastify';
import { TooManyRequests } from '../core/errors.ts';
import { requirePerson } from './plugin.ts';

/**
 * Per-person limits on the reads that cost the server most (review 2026-12, H5): the network
 * roll-up and benchmarks, which compute every place, and the exports, which read a place's data
 * whole. Each person has a small budget a minute per kind, and at most one export at a time. The
 * counts live in this process (one server; behind several, each allows its own budget).
 */
export const LIMITS = {
  /** The roll-up, benchmarks and network pages: each computes the figures of every place. */
  network: { perMinute: 10, what: 'network figures' },
  /** CSV, JSON and spreadsheet downloads of a place's data. */
  export: { perMinute: 10, what: 'exports' },
} as const;
export type LimitKind = keyof typeof LIMITS;

const WINDOW_MS = 60_000;

interface State {
  /** person id → request times in the last minute, per kind. */
  recent: Map<string, number[]>;
  /** person ids with an export still being sent. */
  exporting: Set<number>;
}
const states = new WeakMap<object, State>();

function stateOf(request: FastifyRequest): State {
  // Keyed by the app's one deps object: each plugin sees its own `request.server`, and the pages
  // and the API must share one budget.
  const app = request.server.deps;
  let state = states.get(app);
  if (!state) states.set(app, (state = { recent: new Map(), exporting: new Set() }));
  return state;
}

/** Counts one expensive read of `kind` for the signed-in person; 429 past the budget. */
export function spendBudget(request: FastifyRequest, kind: LimitKind, now = Date.now()) {
  const person = requirePerson(request);
  const { recent } = stateOf(request);
  const key = `${kind}:${person.id}`;
  const times = (recent.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
  const { perMinute, what } = LIMITS[kind];
  if (times.length >= perMinute) {
    recent.set(key, times);
    const wait = Math.ceil((WINDOW_MS - (now - times[0]!)) / 1000);
    throw new TooManyRequests(
      `You have asked for ${what} ${perMinute} times in the last minute, the most allowed. Try again in ${wait} seconds`,
    );
  }
  times.push(now);
  recent.set(key, times);
  if (recent.size > 10_000)
    for (const [k, v] of recent) if (v.every((t) => now - t >= WINDOW_MS)) recent.delete(k);
}

/**
 * An export: counts against the person's export budget and holds their one export slot until the
 * response has been sent (or the client went away). A second export at the same time is a 429.
 */
export function startExport(request: FastifyRequest, reply: FastifyReply) {
  const person = requirePerson(request);
  const { exporting } = stateOf(request);
  if (exporting.has(person.id)) {
    throw new TooManyRequests(
      'You already have a download in progress. Wait for it to finish, then try again',
    );
  }
  spendBudget(request, 'export');
  exporting.add(person.id);
  const release = () => exporting.delete(person.id);
  reply.raw.once('close', release);
  reply.raw.once('finish', release);
}
