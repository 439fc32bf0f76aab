/**
 * The result files of a job, streamed row by row in row order (never built whole in memory):
 * successfulResults: sf__Id, sf__Created, then the original columns;
 * failedResults: sf__Id, sf__Error, then the original columns;
 * unprocessedrecords: the original columns of rows not processed (aborted or failed jobs).
 * The original values are the row's raw CSV text, so they come back exactly as uploaded; the fields
 * added in front are written by csv-stringify.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { IngestJobRowModel, type IngestJobDoc } from '../data/models';

export type ResultKind = 'successfulResults' | 'failedResults' | 'unprocessedrecords';

const PREFIX: Record<ResultKind, string[]> = { successfulResults: ['sf__Id', 'sf__Created'], failedResults: ['sf__Id', 'sf__Error'], unprocessedrecords: [] };

const line = (values: unknown[]) => stringify([values], { record_delimiter: 'unix' }).replace(/\n$/, '');

export function resultsCsv(job: IngestJobDoc, kind: ResultKind): Readable {
  const columns = job.columns ?? [];
  const prefix = PREFIX[kind];
  async function* lines(): AsyncGenerator<string> {
    yield `${line([...prefix, ...columns])}\n`;
    // A row's result counts once the job's counters include it (row <= processedThrough), so the files
    // always agree with numberRecordsProcessed and numberRecordsFailed; rows above it are unprocessed.
    const cursor = IngestJobRowModel.find({ job: job._id }).sort({ row: 1 }).select({ row: 1, raw: 1, userId: 1, status: 1, error: 1 }).lean().cursor({ batchSize: 1000 });
    for await (const r of cursor) {
      const counted = r.row <= job.processedThrough;
      if (kind === 'unprocessedrecords') {
        if (!counted) yield `${r.raw}\n`;
      } else if (counted && (r.status === 'failed') === (kind === 'failedResults')) {
        yield kind === 'successfulResults' ? `${line([r.userId.toHexString(), 'true'])},${r.raw}\n` : `${line(['', r.error ?? ''])},${r.raw}\n`;
      }
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
