/**
 * One file from a multipart/form-data form, streamed by busboy (never buffered whole, never on disk).
 * The text fields before the file become req.body, so the CSRF check (the form puts _csrf first) and the
 * form's own fields are read before a byte of the file is; the file's stream is left in
 * res.locals.upload for the handler to pipe where it goes. A field sent twice becomes a list, which the
 * form reader refuses (422) like a repeated urlencoded field. The file is cut one byte past `maxBytes`,
 * so the reader's own limit sees it is too large (413). The request flows through pipeline(): a request
 * aborted or a body cut short destroys the file's stream with an error, so its reader fails instead of
 * taking a truncated file for a whole one.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RequestHandler } from 'express';
import busboy from 'busboy';
import { BadRequestError } from '../shared/errors';

export interface UploadedFile {
  stream: Readable;
  filename: string;
  mimeType: string;
}

export function multipartFile(opts: { field: string; maxBytes: number }): RequestHandler {
  return (req, res, next) => {
    // Anything else has no file: the handler refuses it (after its own checks, the permission first).
    if (req.method !== 'POST' || !req.is('multipart/form-data')) return next();
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 10, parts: 11, fieldSize: 8 * 1024, fileSize: opts.maxBytes + 1 },
      });
    } catch {
      return next(new BadRequestError('The form could not be read: its multipart boundary is missing.'));
    }
    const body: Record<string, string | string[]> = {};
    let handed = false;
    const handOn = (err?: unknown) => {
      if (handed) return;
      handed = true;
      req.body = body;
      next(err);
    };
    parser.on('field', (name, value) => {
      const had = body[name];
      body[name] = had === undefined ? value : ([] as string[]).concat(had, value);
    });
    parser.on('file', (name, stream, info) => {
      if (name !== opts.field || handed) {
        stream.resume(); // another file input: read past it
        return;
      }
      // Until its reader takes it, an error (the request aborted) is kept on the stream (stream.errored),
      // which the reader checks first, instead of being thrown with no one listening.
      stream.on('error', () => undefined);
      res.locals.upload = { stream, filename: info.filename ?? '', mimeType: info.mimeType } satisfies UploadedFile;
      // Whatever becomes of the request (a refusal before the handler reads the file), the rest of the
      // body is read and dropped, so the connection is not left waiting.
      res.on('close', () => stream.resume());
      handOn();
    });
    parser.on('close', () => handOn());
    pipeline(req, parser).catch((err: unknown) => {
      // Before the file: the form itself was unreadable. After it: the file's stream carries the error.
      handOn(new BadRequestError(`The form could not be read: ${err instanceof Error ? err.message : 'bad body'}.`));
    });
  };
}
