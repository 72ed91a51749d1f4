import { randomUUID } from 'node:crypto';
import type { Database } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { importSpend, type SpendImportRequest, type SpendImportResult } from './store.ts';

/** An import the wizard started: the page shows its progress until it lands (or fails whole). */
export interface ImportJob {
  id: string;
  placeId: number;
  fileName: string;
  line: number;
  lines: number;
  result?: SpendImportResult;
  error?: { message: string; fields?: Record<string, string> };
}

/** How long a finished job's result stays readable: long enough to come back to the page. */
const KEEP_MS = 60 * 60 * 1000;
const jobs = new Map<string, ImportJob>();

/**
 * Runs an import in the background of this process, so the page can show how far it has got. The
 * import is still one transaction: a job that fails has imported nothing. Jobs live in memory, as
 * the server is one process; a restart loses only the progress, never half an import.
 */
export function startImport(
  db: Database,
  placeId: number,
  request: Omit<SpendImportRequest, 'onProgress'>,
  personId: number,
  after: (result: SpendImportResult) => Promise<void>,
) {
  const job: ImportJob = { id: randomUUID(), placeId, fileName: request.fileName, line: 0, lines: 0 };
  jobs.set(job.id, job);
  const done = importSpend(
    db,
    placeId,
    {
      ...request,
      onProgress: (line, facts) => {
        job.line = line;
        job.lines = facts.lines;
      },
    },
    personId,
  )
    .then(async (result) => {
      await after(result);
      job.result = result;
    })
    .catch((err: unknown) => {
      job.error =
        err instanceof AppError
          ? { message: err.message, ...(err.fields ? { fields: err.fields } : {}) }
          : { message: 'The import failed, so nothing was imported. Try again.' };
    })
    .finally(() => setTimeout(() => jobs.delete(job.id), KEEP_MS).unref());
  return { job, done };
}

/** A job of this place; another place's job id finds nothing. */
export function findJob(placeId: number, id: string): ImportJob | undefined {
  const job = jobs.get(id);
  return job?.placeId === placeId ? job : undefined;
}
