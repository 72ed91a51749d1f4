import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import type { FastifyReply } from 'fastify';
import type { ChartFigure } from './chart.ts';
import type { FieldErrors } from './errors.ts';
import { formatPounds, formatPoundsShort } from './money.ts';
import { financialYearLabel } from './dates.ts';

export const SRC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const GOVUK_DIR = path.dirname(createRequire(import.meta.url).resolve('govuk-frontend/package.json'));

/**
 * Templates are named from src/, e.g. `places/views/overview.njk`, so each capability keeps its
 * pages beside its code and names never collide; GOV.UK macros come from the package itself.
 */
export function createTemplates(): nunjucks.Environment {
  const env = nunjucks.configure([SRC_DIR, path.join(GOVUK_DIR, 'dist')], {
    autoescape: true,
    throwOnUndefined: false,
    noCache: process.env.NODE_ENV === 'development',
  });
  env.addFilter('pounds', (pence: number) => formatPounds(pence));
  env.addFilter('poundsShort', (pence: number) => formatPoundsShort(pence));
  env.addFilter('chartTable', chartTable);
  env.addFilter('financialYear', (startYear: number) => financialYearLabel(Number(startYear)));
  env.addFilter('date', (value: Date | string) => formatDate(value));
  env.addFilter('dateTime', (value: Date) =>
    value.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/London' }),
  );
  return env;
}

/** A chart's numbers as a GOV.UK table, first column labels, the rest right-aligned figures. */
function chartTable(figure: ChartFigure) {
  const cell = (text: string, i: number) => (i === 0 ? { text } : { text, format: 'numeric' });
  return {
    caption: `Data for: ${figure.caption}`,
    captionClasses: 'govuk-table__caption--s',
    classes: 'pb-numeric',
    head: figure.table.head.map(cell),
    rows: figure.table.rows.map((row) => row.map(cell)),
  };
}

export function formatDate(value: Date | string): string {
  const date = typeof value === 'string' ? new Date(`${value}T12:00:00Z`) : value;
  return date.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'Europe/London',
  });
}

/** The GOV.UK error summary wants a list in the order of the form's fields. */
export function errorList(
  fields: FieldErrors | undefined,
  order: string[],
): { text: string; href: string }[] {
  if (!fields) return [];
  const known = order.filter((name) => fields[name]);
  const rest = Object.keys(fields).filter((name) => !order.includes(name));
  return [...known, ...rest].map((name) => ({ text: fields[name]!, href: `#${name}` }));
}

/** Per-field messages in the shape GOV.UK macros take: `errorMessage: errors.name`. */
export function fieldMessages(fields: FieldErrors | undefined): Record<string, { text: string }> {
  return Object.fromEntries(Object.entries(fields ?? {}).map(([name, text]) => [name, { text }]));
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page with the layout's context (person, CSRF token, CSP nonce) filled in. */
    page(template: string, context?: Record<string, unknown>, status?: number): FastifyReply;
  }
}

export function renderPage(
  templates: nunjucks.Environment,
  reply: FastifyReply,
  template: string,
  context: Record<string, unknown>,
  status: number,
): FastifyReply {
  const request = reply.request;
  const html = templates.render(template, {
    ...context,
    person: request.auth?.person ?? null,
    csrfToken: request.auth?.csrfToken ?? '',
    cspNonce: (reply as unknown as { cspNonce?: { script: string } }).cspNonce?.script ?? '',
    currentPath: request.url,
  });
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}
