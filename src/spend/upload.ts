import type { FastifyInstance } from 'fastify';
import { acceptFileForms, UploadedFile } from '../core/uploads.ts';

/** The largest spend file taken over HTTP; bigger files go through the CLI, which streams from disk. */
export const UPLOAD_LIMIT = 64 * 1024 * 1024;

/** Lets the API routes of this scope take a spend file as the raw request body. */
export function acceptCsvBodies(app: FastifyInstance) {
  app.addContentTypeParser(
    ['text/csv', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
    (_request, body, done) => {
      done(null, new UploadedFile('', body as Buffer));
    },
  );
}

/** Lets the import wizard's form send a spend file (multipart/form-data), kept as bytes for encoding detection. */
export function acceptSpendForms(app: FastifyInstance) {
  return acceptFileForms(app, {
    fileSize: UPLOAD_LIMIT,
    tooLarge: 'The file is larger than 64 MB. Import it with the command line: placebudget spend import',
    keep: (bytes, fileName) => new UploadedFile(fileName, bytes),
  });
}
