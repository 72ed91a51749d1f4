import type { FastifyInstance } from 'fastify';
import { Invalid } from '../core/errors.ts';

/** The largest spend file taken over HTTP; bigger files go through the CLI, which streams from disk. */
export const UPLOAD_LIMIT = 64 * 1024 * 1024;

/**
 * A file sent with a request. The bytes sit behind a private field so that code walking the body
 * (the check for unstorable text) sees only the name, not millions of byte indexes.
 */
export class UploadedFile {
  readonly #bytes: Uint8Array;
  constructor(
    readonly name: string,
    bytes: Uint8Array,
  ) {
    this.#bytes = bytes;
  }
  get bytes(): Uint8Array {
    return this.#bytes;
  }
}

/** A form posted as multipart/form-data: its text fields, and its files by field name. */
export interface MultipartBody {
  fields: Record<string, string>;
  files: Record<string, UploadedFile>;
  _csrf?: string;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * Reads a multipart/form-data body (RFC 7578) already held in memory: enough for a form with a
 * file input and a few text fields, which is all the import wizard sends.
 */
export function parseMultipart(body: Buffer, contentType: string): MultipartBody {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary)
    throw new Invalid('The upload is not a form', { file: 'Choose a file and send the form again' });
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const result: MultipartBody = { fields: {}, files: {} };
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const partStart = start + delimiter.length;
    if (body[partStart] === 0x2d && body[partStart + 1] === 0x2d) break; // the closing "--boundary--"
    const end = body.indexOf(delimiter, partStart);
    if (end < 0) break;
    const part = body.subarray(partStart + 2, end - 2); // after the CRLF, before the CRLF that precedes the next delimiter
    const split = part.indexOf(CRLF2);
    if (split >= 0) {
      const headers = part.subarray(0, split).toString('utf8');
      const content = part.subarray(split + 4);
      const name = /\bname="([^"]*)"/i.exec(headers)?.[1];
      const fileName = /\bfilename="([^"]*)"/i.exec(headers)?.[1];
      if (name !== undefined && fileName !== undefined)
        result.files[name] = new UploadedFile(fileName.split(/[\\/]/).pop() ?? '', content);
      else if (name !== undefined) result.fields[name] = content.toString('utf8');
    }
    start = end;
  }
  if (result.fields._csrf !== undefined) result._csrf = result.fields._csrf;
  return result;
}

/** Lets routes in this scope take a spend file: raw CSV for the API, multipart for the wizard's form. */
export function acceptUploads(app: FastifyInstance) {
  app.addContentTypeParser(
    ['text/csv', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
    (_request, body, done) => {
      done(null, new UploadedFile('', body as Buffer));
    },
  );
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
    (request, body, done) => {
      try {
        done(null, parseMultipart(body as Buffer, request.headers['content-type'] ?? ''));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}
