import type { FastifyInstance } from 'fastify';
import { Invalid, type AppError } from '../core/errors.ts';
import { rejectUnstorableText } from '../core/http.ts';
import { acceptFileForms, UploadedFile } from '../core/uploads.ts';

/** The largest Open Referral UK file taken over HTTP, by the API and the upload page. */
export const ORUK_LIMIT = 16 * 1024 * 1024;

/** Lets the ORUK upload page's form send its JSON file (multipart/form-data), kept as bytes. */
export function acceptOrukForms(app: FastifyInstance) {
  return acceptFileForms(app, {
    fileSize: ORUK_LIMIT,
    tooLarge: 'The file is larger than 16 MB. Import it with the command line: placebudget services import',
    keep: (bytes, fileName) => new UploadedFile(fileName, bytes),
  });
}

/**
 * An Open Referral UK file as the document importOruk takes: UTF-8 JSON (a byte order mark
 * allowed), with only text PostgreSQL can store. Anything else is Invalid, saying where and why.
 */
export function readOrukFile(bytes: Uint8Array, fileName: string): unknown {
  const name = fileName || 'The file';
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    refuse(`${name} is not readable JSON: it is not UTF-8 text`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    const reason = (err as Error).message;
    const at = /\s*in JSON at position (\d+).*$/.exec(reason);
    if (!at) refuse(`${name} is not readable JSON: ${reason}`);
    const before = text.slice(0, Number(at[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    refuse(`${name} is not readable JSON: line ${line}, column ${column}: ${reason.slice(0, at.index)}`);
  }
  try {
    rejectUnstorableText(document);
  } catch (err) {
    const where = Object.keys((err as AppError).fields ?? {})[0] ?? '';
    refuse(
      `${name} contains a character that cannot be stored (a NUL or a broken Unicode character)${where ? ` at ${where}` : ''}`,
    );
  }
  return document;
}

function refuse(message: string): never {
  throw new Invalid(message, { file: message });
}
