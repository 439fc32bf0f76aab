/**
 * Streams an uploaded CSV into the job's rows: the request body goes through csv-parse and is stored
 * ROWS_PER_WRITE records at a time, so a 100k-row upload never sits whole in memory. Each row keeps its
 * raw CSV text (quotes, commas, new lines and UTF-8 exactly as sent) and the id its user will get.
 * One upload per job (Bulk API 2.0): claimed by a conditional update; if the upload fails (bad CSV, too
 * large, the client went away) its rows are deleted and the job can take another upload.
 */
import { Transform, type Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { Types } from 'mongoose';
import { IngestJobModel, IngestJobRowModel, type IngestJobDoc } from '../data/models';
import { assertUploadable } from './ingest-jobs';
import { BadRequestError, ConflictError, PayloadTooLargeError, ValidationError, isDomainError } from '../shared/errors';
import { checkHeader } from './ingest-columns';

const ROWS_PER_WRITE = 1000;

interface Parsed {
  record: string[];
  raw: string;
}

/**
 * Counts bytes as they pass; past `maxBytes` it fails the parse. It does not destroy the request
 * (that would close the socket before the 413 is written): .pipe() just stops reading, and Node
 * discards the rest of the body once the response is sent.
 */
function limitBytes(body: Readable, maxBytes: number, parser: Transform): Transform {
  let seen = 0;
  // A CSV is UTF-8 text: a NUL byte or a broken UTF-8 sequence means a binary file (a zip, an image)
  // or a body in another encoding, which would otherwise surface as a baffling quote error.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const notText = () =>
    new BadRequestError(
      'The upload is not UTF-8 CSV text (it looks like a binary file or another encoding). Send the CSV file itself, encoded as UTF-8, as the body.',
      'not_csv_text',
    );
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) return done(new PayloadTooLargeError(`The upload is larger than ${maxBytes} bytes.`));
      if (chunk.includes(0)) return done(notText());
      try {
        utf8.decode(chunk, { stream: true });
      } catch {
        return done(notText());
      }
      done(null, chunk);
    },
    flush(done) {
      try {
        utf8.decode();
      } catch {
        return done(notText());
      }
      done();
    },
  });
  counter.on('error', (err) => parser.destroy(err));
  body.on('error', (err) => parser.destroy(err));
  body.on('aborted', () => parser.destroy(new Error('The client ended the upload early.')));
  // A body that failed before it reached here (a request aborted while the job was being made) emits
  // nothing more: without this the parse would wait for it forever.
  if (body.errored || body.readableAborted || (body.destroyed && !body.readableEnded)) {
    parser.destroy(body.errored ?? new Error('The client ended the upload early.'));
    return parser;
  }
  body.pipe(counter).pipe(parser);
  return parser;
}

export async function uploadCsv(
  job: IngestJobDoc,
  body: Readable,
  opts: { maxBytes: number },
): Promise<{ rows: number }> {
  assertUploadable(job);
  const uploadId = new Types.ObjectId();
  const claimed = await IngestJobModel.updateOne(
    { _id: job._id, state: 'Open', uploadState: 'none' },
    { $set: { uploadState: 'uploading', uploadId } },
  );
  if (claimed.modifiedCount !== 1) {
    throw new ConflictError(
      'This job already has its data: a job takes one upload. Close it, or create another job for more rows.',
      {},
      'already_uploaded',
    );
  }
  let rowNumber = 0;
  try {
    const parser = limitBytes(
      body,
      opts.maxBytes,
      parse({ bom: true, raw: true, skip_empty_lines: true, max_record_size: 1024 * 1024 }),
    );
    let columns: string[] | null = null;
    let pending: Record<string, unknown>[] = [];
    const flush = async () => {
      if (!pending.length) return;
      const rows = pending;
      pending = [];
      await IngestJobRowModel.insertMany(rows, { lean: true });
    };
    for await (const { record, raw } of parser as AsyncIterable<Parsed>) {
      if (!columns) {
        columns = checkHeader(record.map((h) => h.trim()));
        continue;
      }
      rowNumber++;
      // The raw text may end with the record's line ending (all or part of it); that is not data.
      pending.push({
        job: job._id,
        upload: uploadId,
        row: rowNumber,
        raw: raw.replace(/(?:\r\n|\n|\r)$/, ''),
        userId: new Types.ObjectId(),
        status: 'pending',
        error: null,
      });
      if (pending.length >= ROWS_PER_WRITE) await flush();
    }
    if (!columns)
      throw new ValidationError('The CSV is empty: send a header row and one row per user.', { header: 'Missing.' });
    // A header alone is no data: stored, it would let the job be closed and end complete with 0 rows.
    if (!rowNumber)
      throw new ValidationError('The CSV has a header but no rows: add one row per user.', { csv: 'No rows.' });
    await flush();
    const done = await IngestJobModel.updateOne(
      { _id: job._id, state: 'Open', uploadId },
      { $set: { uploadState: 'uploaded', columns, numberRecordsUploaded: rowNumber, lastUploadError: null } },
    );
    if (done.modifiedCount !== 1)
      throw new ConflictError('The job was aborted during the upload.', {}, 'invalid_state');
    return { rows: rowNumber };
  } catch (err) {
    const problem = csvProblem(err);
    await IngestJobRowModel.deleteMany({ job: job._id, upload: uploadId });
    await IngestJobModel.updateOne(
      { _id: job._id, uploadId },
      { $set: { uploadState: 'none', uploadId: null, lastUploadError: refusalText(problem) } },
    );
    throw problem;
  }
}

/** The refusal in one line for the job's record: the message and, for a form error, its fields. */
export function refusalText(problem: unknown): string {
  if (!(problem instanceof Error)) return 'The upload failed.';
  // Stream errors (the request aborted, a multipart body cut short) carry Node's or the parser's words.
  if (!isDomainError(problem))
    return 'The upload ended before the whole file arrived (the connection was cut or the file was truncated); nothing was imported. Upload the file again.';
  const fields = problem instanceof ValidationError ? Object.values(problem.fields ?? {}).join(' ') : '';
  return `${problem.message}${fields ? ` ${fields}` : ''}`.slice(0, 500);
}

/**
 * csv-parse's errors (unclosed quote, wrong column count) become 400s naming the line. Its message
 * quotes the offending value, which may be anything: only the first part of it is kept.
 */
function csvProblem(err: unknown): unknown {
  if (err instanceof CsvError) {
    const reason = err.message.split(', value is')[0].slice(0, 200);
    const multipart = /Content-Disposition: form-data/i.test(err.message);
    return new ValidationError('The CSV could not be read.', {
      csv: multipart
        ? 'The body is a multipart form: send the CSV file itself as the body, with Content-Type: text/csv.'
        : reason,
    });
  }
  return err;
}
