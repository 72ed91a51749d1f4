import path from 'node:path';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { Config } from './config.ts';
import type { Database } from './db.ts';
import { AppError, httpStatusOf, type FieldErrors } from './errors.ts';
import { createTemplates, GOVUK_DIR, renderPage, SRC_DIR } from './web.ts';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

export interface RouteEntry {
  method: string;
  url: string;
  /** The JSON schema of the body, for the tests that throw bad input at every route. */
  bodySchema?: object;
  /** The JSON schema of the URL parameters, so the access tests can fill them in validly. */
  paramsSchema?: object;
}

export interface AppDeps {
  db: Database;
  config: Config;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** Every route as registered, for the access tests that must cover each one. */
    routeTable: RouteEntry[];
  }
  interface FastifyContextConfig {
    /** Set false on the few forms that run before a session exists (sign in). */
    csrf?: boolean;
  }
}

/** 1 MiB is far above any form or JSON body; imports have their own, larger limit. */
const BODY_LIMIT = 1024 * 1024;

export const isApiRequest = (request: FastifyRequest) => request.url.startsWith('/api/');

/**
 * The HTTP shell every capability plugs into: security headers, cookies, forms, static assets,
 * OpenAPI, and one error mapping so no stack trace ever reaches a client.
 */
export async function createHttpShell(
  deps: AppDeps,
  logger: FastifyServerOptions['logger'],
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRedactedUrls(logger),
    bodyLimit: BODY_LIMIT,
    // Off unless the deployment names its proxy (PLACEBUDGET_TRUST_PROXY): a client could
    // otherwise claim any address in X-Forwarded-For and slip past the sign-in limits.
    // A hop count is supported at run time (proxy-addr) though the type leaves it out.
    trustProxy: deps.config.trustProxy as boolean | string,
  });
  useStrictBodies(app);
  app.decorate('deps', deps);
  app.decorate('routeTable', [] as RouteEntry[]);
  app.addHook('onRoute', (route) => {
    const { body, params } = (route.schema ?? {}) as { body?: object; params?: object };
    for (const method of [route.method].flat()) {
      app.routeTable.push({
        method,
        url: route.url,
        ...(body ? { bodySchema: body } : {}),
        ...(params ? { paramsSchema: params } : {}),
      });
    }
  });

  await app.register(helmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // helmet adds this response's nonce to both; 'self' lets the stylesheet and modules load.
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        // ECharts' SVG puts font settings in style attributes; no inline <style> or script is allowed.
        styleSrcAttr: ["'unsafe-inline'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Plain http://localhost must keep working; deployments behind TLS get HSTS instead.
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(rateLimit, { global: false });

  await app.register(fastifyStatic, {
    root: path.join(GOVUK_DIR, 'dist/govuk/assets'),
    prefix: '/assets/',
    maxAge: '1d',
  });
  await app.register(fastifyStatic, {
    root: path.join(GOVUK_DIR, 'dist/govuk'),
    prefix: '/govuk/',
    allowedPath: (pathName) => /^\/govuk-frontend\.min\.(css|js)(\.map)?$/.test(pathName),
    decorateReply: false,
    maxAge: '1d',
  });
  await app.register(fastifyStatic, {
    root: path.join(SRC_DIR, 'core/public'),
    prefix: '/static/',
    decorateReply: false,
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'placebudget API',
        version: '1',
        description: 'Community Budgets: places, partners, the programme board, and the pooled budget.',
      },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'pb_session' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });

  const templates = createTemplates();
  app.decorateReply('page', function (this: FastifyReply, template: string, context = {}, status = 200) {
    return renderPage(templates, this, template, context, status);
  });

  app.setErrorHandler((err, request, reply) => sendError(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendError(new AppError('not_found', 'Page not found'), request, reply),
  );

  app.addHook('preHandler', async (request) => rejectUnstorableText(request.body));

  app.get('/healthz', { schema: { hide: true } }, async () => {
    await deps.db.kysely.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    return { status: 'ok', engine: deps.db.engine };
  });
  return app;
}

/**
 * One-time links are credentials: an invitation token in the request log would let anyone who
 * reads the logs set a pending person's password. The token never reaches a log line.
 */
export function redactUrl(url: string): string {
  return url.replace(/^(\/invitations\/)[^/?#]+/, '$1[redacted]');
}

function withRedactedUrls(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return logger;
  const options = typeof logger === 'object' ? logger : {};
  return {
    ...options,
    serializers: {
      ...(options as { serializers?: object }).serializers,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  };
}

/**
 * URL parts arrive as text, so params and query strings are coerced ("12" → 12); bodies are
 * JSON and must already have the right types, so a number sent as a name is an error.
 */
function useStrictBodies(app: FastifyInstance) {
  const options = { allErrors: true, removeAdditional: false, useDefaults: true } as const;
  const strict = addFormats(new Ajv({ ...options, coerceTypes: false }));
  const coercing = addFormats(new Ajv({ ...options, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}

/**
 * PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate would be stored as U+FFFD: both
 * would change what the person sent, so they are refused before any handler sees them.
 */
export function rejectUnstorableText(body: unknown) {
  const fields: FieldErrors = {};
  const walk = (value: unknown, path: string, depth: number) => {
    if (depth > 32) return;
    if (typeof value === 'string') {
      if (value.includes('\u0000') || !value.isWellFormed()) {
        fields[path || 'body'] =
          'contains a character that cannot be stored (a NUL or a broken Unicode character)';
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) walk(item, path ? `${path}.${key}` : key, depth + 1);
    }
  };
  walk(body, '', 0);
  if (Object.keys(fields).length)
    throw new AppError('invalid', 'The text sent contains characters that cannot be stored', fields);
}

interface ErrorBody {
  error: string;
  message: string;
  fields?: FieldErrors;
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof AppError) {
    return {
      status: httpStatusOf[err.code],
      body: { error: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) },
    };
  }
  const e = err as {
    validation?: ValidationIssue[];
    validationContext?: string;
    statusCode?: number;
    code?: string;
    message?: string;
  };
  if (e.validation) {
    return {
      status: 400,
      body: {
        error: 'invalid',
        message: 'Check the request',
        fields: validationFields(e.validation, e.validationContext),
      },
    };
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const messages: Record<number, string> = {
      413: 'The request is too large',
      415: 'Send the request as JSON or a form',
      429: 'Too many attempts. Wait a minute and try again',
    };
    return {
      status: e.statusCode,
      body: {
        error: e.code ?? 'bad_request',
        message: messages[e.statusCode] ?? 'The request could not be read',
      },
    };
  }
  if (concurrentClash(err)) {
    return {
      status: 409,
      body: {
        error: 'conflict',
        message: 'Someone else changed this at the same moment, so nothing was saved. Try again',
      },
    };
  }
  if ((err as { code?: string }).code === '57014') {
    // statement_timeout cancelled a read that ran too long (READ_STATEMENT_TIMEOUT_MS).
    return {
      status: 503,
      body: { error: 'unavailable', message: 'This took too long and was stopped. Try again later' },
    };
  }
  if (lostDatabase(err)) {
    return {
      status: 503,
      body: { error: 'unavailable', message: 'The database is unavailable. Try again in a moment' },
    };
  }
  return { status: 500, body: { error: 'internal', message: 'Something went wrong. Try again later' } };
}

/**
 * Two requests raced for the same row (a unique key, a serialisation failure or a deadlock): the
 * losing transaction rolled back whole, so the client is told to try again, not that it failed.
 */
function concurrentClash(err: unknown): boolean {
  return ['23505', '40001', '40P01'].includes((err as { code?: string }).code ?? '');
}

/** PostgreSQL shut down, restarted or dropped the connection: the request can simply be tried again. */
function lostDatabase(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /^(57P0[1-3]|08\d{3})$/.test(e.code ?? '') ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(e.code ?? '') ||
    /Connection terminated|not queryable|terminating connection/i.test(e.message ?? '')
  );
}

interface ValidationIssue {
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns JSON-schema errors into one message per field, named the way the client sent it. */
function validationFields(issues: ValidationIssue[], context = 'body'): FieldErrors {
  const fields: FieldErrors = {};
  for (const issue of issues) {
    const missing = issue.params.missingProperty as string | undefined;
    const extra = issue.params.additionalProperty as string | undefined;
    const name = [context, ...issue.instancePath.split('/').filter(Boolean), missing ?? extra ?? '']
      .filter(Boolean)
      .join('.');
    fields[name] ??= missing
      ? 'is required'
      : extra
        ? 'is not a known field'
        : (issue.message ?? 'is not valid');
  }
  return fields;
}

function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  const { status, body } = toErrorBody(err);
  if (status >= 500) request.log.error({ err }, 'request failed');
  if (status === 503) reply.header('retry-after', '5');
  const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  if (isApiRequest(request) || !request.method.match(/^(GET|HEAD|POST)$/)) {
    return reply.code(status).type('application/json').send(body);
  }
  if (status === 401) return reply.redirect(`/sign-in?next=${encodeURIComponent(request.url)}`);
  const template = status === 404 ? 'core/views/not-found.njk' : 'core/views/error.njk';
  // A member of the place is told what was missing in it; anyone else learns nothing about the place.
  const detail = status === 404 && request.place ? body.message : undefined;
  return reply.page(template, { status, message: body.message, detail }, status);
}
