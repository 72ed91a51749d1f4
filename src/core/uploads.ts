import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { Invalid } from './errors.ts';

interface FileForms {
  /** The largest file taken, in bytes. */
  fileSize: number;
  /** What the person is told when their file is larger. */
  tooLarge: string;
  /** The value the handler (and the CSRF check, which walks the body) sees for the file. */
  keep(bytes: Buffer, fileName: string): unknown;
}

/**
 * Lets the forms of this scope send one file with a few text fields as multipart/form-data. The
 * body becomes a plain object of the text fields and the file as `keep` makes it, so `_csrf`
 * arrives like any other form field.
 */
export function acceptFileForms(scope: FastifyInstance, { fileSize, tooLarge, keep }: FileForms) {
  return scope.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize, files: 1, fields: 10 },
    // Not thrown mid-file: the parser skips the rest of the file, so the browser finishes sending before the answer.
    throwFileSizeLimit: false,
    async onFile(part) {
      const bytes = await part.toBuffer();
      if (part.file.truncated) throw new Invalid(tooLarge, { file: tooLarge });
      (part as unknown as { value: unknown }).value = keep(bytes, part.filename);
    },
  });
}

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
