import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { startExport } from '../auth/public.ts';
import { Invalid } from '../core/errors.ts';
import { closedObject, id, placeParams, slugParam } from '../core/json-schema.ts';
import { UploadedFile } from '../core/uploads.ts';
import { assertPartnersOfPlace } from '../places/public.ts';
import { inRequestPlace, need, placeScoped, type PlaceContext } from '../places/scope.ts';
import {
  addRule,
  listRules,
  reconcileWithLedger,
  removeRule,
  spendByServiceByPartnerByMonth,
  unclassifiedSpend,
} from './classification.ts';
import { RULE_FIELDS } from './domain.ts';
import { COLUMN_ROLES, type ColumnRole } from './parse.ts';
import { bytesSource, importSpend, listExclusions, listImports, listProfiles, saveProfile } from './store.ts';
import { transparencyCsvChunks } from './transparency.ts';
import { acceptCsvBodies } from './upload.ts';

const withId = placeParams('id');
const tags = ['services'];
const columnNames = { type: 'string', minLength: 1, maxLength: 200 } as const;
/** Column choices by role (`?amount=Net%20Amount`), overriding detection and any profile. */
const mappingQuery = closedObject(
  {
    file_name: { type: 'string', maxLength: 300 },
    profile: { type: 'string', maxLength: 100 },
    partner_id: id,
    rejects: { type: 'string', enum: ['record', 'refuse'] },
    ...Object.fromEntries(COLUMN_ROLES.map((role) => [role, columnNames])),
  },
  [],
);

type MappingQuery = {
  file_name?: string;
  profile?: string;
  partner_id?: number;
  rejects?: 'record' | 'refuse';
} & Partial<Record<ColumnRole, string>>;

/** The column choices a query or form makes, by role; empty choices are left to detection. */
export function chosenColumns(source: Record<string, unknown>): Partial<Record<ColumnRole, string>> {
  return Object.fromEntries(
    COLUMN_ROLES.flatMap((role) =>
      typeof source[role] === 'string' && (source[role] as string).trim()
        ? [[role, (source[role] as string).trim()]]
        : [],
    ),
  );
}

function uploadedCsv(request: FastifyRequest): UploadedFile {
  if (!(request.body instanceof UploadedFile) || request.body.bytes.length === 0)
    throw new Invalid('Send the spend file as the request body, with Content-Type: text/csv', {
      file: 'Send a CSV file',
    });
  return request.body;
}

async function importFromRequest(
  request: FastifyRequest<{ Querystring: MappingQuery }>,
  place: PlaceContext,
  dryRun: boolean,
) {
  const file = uploadedCsv(request);
  const q = request.query;
  const result = await importSpend(
    request.server.deps.db,
    place.id,
    {
      fileName: q.file_name ?? 'upload.csv',
      open: bytesSource(file.bytes),
      ...(q.profile ? { profileName: q.profile } : {}),
      ...(q.partner_id ? { partnerId: q.partner_id } : {}),
      columns: chosenColumns(q),
      dryRun,
      rejects: q.rejects ?? 'record',
    },
    place.person.id,
  );
  return {
    import_id: result.importId,
    already_imported: result.alreadyImported,
    added: result.added,
    rows: result.rows,
    rejected: result.rejected,
    total_pence: result.totalPence,
    excluded: result.excluded,
    encoding: result.facts.encoding,
    sha256: result.facts.sha256,
    header_line: result.layout.headerLine,
    headers: result.layout.headers,
    columns: Object.fromEntries(
      Object.entries(result.layout.columns).map(([role, index]) => [role, result.layout.headers[index]]),
    ),
  };
}

/** The spend API: classification rules, spend file imports and mappings, and what the imported spend shows. */
export async function spendRoutes(app: FastifyInstance) {
  await app.register(
    placeScoped('/api/v1/places/:slug', (scoped) => {
      acceptCsvBodies(scoped);
      registerRuleRoutes(scoped);
      registerImportRoutes(scoped);
      registerReportRoutes(scoped);
    }),
  );
}

/** The rules that assign spend lines to services. */
function registerRuleRoutes(scoped: FastifyInstance) {
  scoped.get(
    '/classification-rules',
    {
      schema: {
        tags,
        summary: 'Rules that assign spend lines to services, first match by priority',
        params: slugParam,
      },
    },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => listRules(tx, place.id));
    },
  );

  scoped.post<{ Body: { field: string; value: string; service_id: number; priority?: number } }>(
    '/classification-rules',
    {
      schema: {
        tags,
        summary:
          'Add a rule: spend whose field equals the value (trimmed, any case) belongs to the service (admin, analyst)',
        params: slugParam,
        body: closedObject(
          {
            field: { type: 'string', enum: RULE_FIELDS },
            value: { type: 'string', maxLength: 300 },
            service_id: id,
            priority: { type: 'integer', minimum: 1, maximum: 1000 },
          },
          ['field', 'value', 'service_id'],
        ),
      },
    },
    async (request, reply) => {
      const place = need(request, 'services.manage');
      const { field, value, service_id, priority } = request.body;
      const ruleId = await inRequestPlace(request, place, (tx) =>
        addRule(
          tx,
          place.id,
          { field, value, serviceId: service_id, ...(priority ? { priority } : {}) },
          place.person.id,
        ),
      );
      return reply.code(201).send({ id: ruleId });
    },
  );

  scoped.delete<{ Params: { id: number } }>(
    '/classification-rules/:id',
    { schema: { tags, summary: 'Remove a rule (admin, analyst)', params: withId } },
    async (request, reply) => {
      const place = need(request, 'services.manage');
      await inRequestPlace(request, place, (tx) =>
        removeRule(tx, place.id, request.params.id, place.person.id),
      );
      return reply.code(204).send();
    },
  );
}

/** Spend files: imports, their exclusions, previews and the saved column mappings. */
function registerImportRoutes(scoped: FastifyInstance) {
  scoped.get(
    '/spend/imports',
    { schema: { tags, summary: 'Spend files imported, newest first', params: slugParam } },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => listImports(tx, place.id));
    },
  );

  scoped.get<{ Params: { id: number } }>(
    '/spend/imports/:id/exclusions',
    {
      schema: { tags, summary: 'Lines an import left out, with line number and reason', params: withId },
    },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => listExclusions(tx, place.id, request.params.id));
    },
  );

  const importBody = {
    description: 'The spend file as published (any encoding), Content-Type: text/csv',
  };
  scoped.post<{ Querystring: MappingQuery }>(
    '/spend/preview',
    {
      schema: {
        tags,
        summary:
          'Read a spend file without importing it: the encoding, header line and columns found, rows, total and lines left out',
        params: slugParam,
        querystring: mappingQuery,
        ...importBody,
      },
    },
    async (request) => importFromRequest(request, need(request, 'spend.import'), true),
  );

  scoped.post<{ Querystring: MappingQuery }>(
    '/spend/imports',
    {
      schema: {
        tags,
        summary:
          'Import a spend file in one transaction; the same file twice adds nothing. rejects=refuse imports nothing if a line cannot be read (finance, admin)',
        params: slugParam,
        querystring: mappingQuery,
        ...importBody,
      },
    },
    async (request, reply) => {
      const result = await importFromRequest(request, need(request, 'spend.import'), false);
      return reply.code(result.already_imported ? 200 : 201).send(result);
    },
  );

  scoped.get(
    '/spend/profiles',
    { schema: { tags, summary: 'Saved column mappings, one per publisher', params: slugParam } },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => listProfiles(tx, place.id));
    },
  );

  scoped.put<{
    Params: { name: string };
    Body: { partner_id?: number | null; columns: Partial<Record<ColumnRole, string>> };
  }>(
    '/spend/profiles/:name',
    {
      schema: {
        tags,
        summary:
          'Save or correct a publisher’s column mapping: which header holds which role (finance, admin)',
        params: {
          type: 'object',
          properties: {
            slug: { type: 'string' },
            name: { type: 'string', minLength: 1, maxLength: 100 },
          },
          required: ['slug', 'name'],
        },
        body: closedObject(
          {
            partner_id: { ...id, type: ['integer', 'null'] },
            columns: closedObject(Object.fromEntries(COLUMN_ROLES.map((role) => [role, columnNames])), []),
          },
          ['columns'],
        ),
      },
    },
    async (request) => {
      const place = need(request, 'spend.import');
      return inRequestPlace(request, place, async (tx) => {
        const partnerId = request.body.partner_id ?? null;
        if (partnerId !== null)
          await assertPartnersOfPlace(tx, place.id, [partnerId], 'There is a problem with the profile', {
            partner_id: 'Select a partner of this place',
          });
        await saveProfile(
          tx,
          place.id,
          { name: request.params.name, partnerId, columns: request.body.columns },
          place.person.id,
        );
        return (await listProfiles(tx, place.id)).find((p) => p.name === request.params.name.trim());
      });
    },
  );
}

/** What the imported spend shows: by service, unclassified, against the ledger, and as the Transparency Code's CSV. */
function registerReportRoutes(scoped: FastifyInstance) {
  scoped.get(
    '/spend/by-service',
    {
      schema: {
        tags,
        summary: 'Spend by service by partner by month (a null service is unclassified)',
        params: slugParam,
      },
    },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => spendByServiceByPartnerByMonth(tx, place.id));
    },
  );

  scoped.get(
    '/spend/unclassified',
    {
      schema: {
        tags,
        summary: 'Spend no rule assigns to a service, by expense area and type, largest first',
        params: slugParam,
      },
    },
    async (request) => {
      const place = need(request, 'services.read');
      return inRequestPlace(request, place, (tx) => unclassifiedSpend(tx, place.id));
    },
  );

  scoped.get(
    '/spend/reconciliation',
    {
      schema: {
        tags,
        summary:
          'Classified spend by service by month against the ledger’s actual spend on the same services, with the differences',
        params: slugParam,
      },
    },
    async (request) => {
      const place = need(request, 'ledger.read');
      return inRequestPlace(request, place, (tx) => reconcileWithLedger(tx, place.id));
    },
  );

  scoped.get(
    '/spend/transparency.csv',
    {
      schema: {
        tags,
        summary: 'Imported spend in the Local Government Transparency Code CSV layout',
        params: slugParam,
      },
    },
    async (request, reply) => {
      const place = need(request, 'services.read');
      startExport(request, reply);
      const pages = transparencyCsvChunks((work) => inRequestPlace(request, place, work), place.id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${place.slug}-spend-over-500.csv"`)
        .send(Readable.from(pages, { highWaterMark: 1 }));
    },
  );
}
