/**
 * The result files of a job, streamed row by row in row order (never built whole in memory):
 * successfulResults: sf__Id, sf__Created, then the original columns;
 * failedResults: sf__Id, sf__Error, then the original columns;
 * unprocessedrecords: the original columns of rows not processed (aborted or failed jobs).
 * The original values are the row's raw CSV text, so they come back exactly as uploaded (the default,
 * as Bulk API 2.0 clients reconcile by them); the fields added in front are written by csv-stringify.
 * With `spreadsheetSafe`, every cell that a spreadsheet would run as a formula gets a ' prefix instead,
 * for files people open in Excel or Sheets.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { neutraliseCell } from '../shared/spreadsheet-safe';
import { IngestJobRowModel, type IngestJobDoc } from '../data/models';

export type ResultKind = 'successfulResults' | 'failedResults' | 'unprocessedrecords';

const PREFIX: Record<ResultKind, string[]> = {
  successfulResults: ['sf__Id', 'sf__Created'],
  failedResults: ['sf__Id', 'sf__Error'],
  unprocessedrecords: [],
};

const line = (values: unknown[]) => stringify([values], { record_delimiter: 'unix' }).replace(/\n$/, '');

/** The raw row as it was uploaded, or re-written with its formula cells neutralised. */
const rowText = (raw: string, safe: boolean) =>
  safe ? line((parse(raw, { relax_column_count: true }) as string[][])[0]?.map(neutraliseCell) ?? []) : raw;

export function resultsCsv(job: IngestJobDoc, kind: ResultKind, opts: { spreadsheetSafe?: boolean } = {}): Readable {
  const safe = opts.spreadsheetSafe === true;
  const cells = (values: unknown[]) => line(safe ? values.map(neutraliseCell) : values);
  const columns = job.columns ?? [];
  const prefix = PREFIX[kind];
  async function* lines(): AsyncGenerator<string> {
    yield `${cells([...prefix, ...columns])}\n`;
    // A row's result counts once the job's counters include it (row <= processedThrough), so the files
    // always agree with numberRecordsProcessed and numberRecordsFailed; rows above it are unprocessed.
    const cursor = IngestJobRowModel.find({ job: job._id })
      .sort({ row: 1 })
      .select({ row: 1, raw: 1, userId: 1, status: 1, error: 1 })
      .lean()
      .cursor({ batchSize: 1000 });
    for await (const r of cursor) {
      const counted = r.row <= job.processedThrough;
      if (kind === 'unprocessedrecords') {
        if (!counted) yield `${rowText(r.raw, safe)}\n`;
      } else if (counted && (r.status === 'failed') === (kind === 'failedResults')) {
        const front = kind === 'successfulResults' ? [r.userId.toHexString(), 'true'] : ['', r.error ?? ''];
        yield `${cells(front)},${rowText(r.raw, safe)}\n`;
      }
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
