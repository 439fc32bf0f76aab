/**
 * A bulk action's per-row report, read in row order a page at a time (never built whole in memory):
 * Row, UserId, Username, Status (succeeded, failed, skipped, pending), Outcome. The API pages it as JSON; the
 * CSV (admin page and API alike) streams it. People open the CSV in a spreadsheet, so it is
 * spreadsheet-safe like the ingest results: a cell starting with = + - @ tab or CR gets a '.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { trusted } from 'mongoose';
import { BulkActionRowModel, UserModel, type BulkActionJobDoc } from '../data/models';
import { neutraliseCell } from '../shared/spreadsheet-safe';

export interface BulkResultRow {
  row: number;
  userId: string;
  username: string | null;
  status: 'succeeded' | 'failed' | 'skipped' | 'pending';
  outcome: string | null;
}

export const MAX_RESULT_PAGE = 1000;

/** The rows after row `after`, at most `limit`; `nextAfter` is null on the last page. */
export async function bulkResultPage(
  job: BulkActionJobDoc,
  after = 0,
  limit = MAX_RESULT_PAGE,
): Promise<{ rows: BulkResultRow[]; nextAfter: number | null }> {
  const size = Math.min(Math.max(limit, 1), MAX_RESULT_PAGE);
  const rows = await BulkActionRowModel.find({ job: job._id, row: trusted({ $gt: after }) })
    .sort({ row: 1 })
    .limit(size)
    .lean();
  const names = new Map(
    (
      await UserModel.find({ _id: trusted({ $in: rows.map((r) => r.userId) }) })
        .select('username')
        .lean()
    ).map((u) => [String(u._id), u.username]),
  );
  // A row the job has not counted yet is pending, whatever an interrupted attempt wrote.
  const out = rows.map((r): BulkResultRow => {
    const counted = r.row <= job.processedThrough;
    return {
      row: r.row,
      userId: String(r.userId),
      username: names.get(String(r.userId)) ?? null,
      status: counted ? (r.status as BulkResultRow['status']) : 'pending',
      outcome: counted ? (r.outcome ?? null) : null,
    };
  });
  return { rows: out, nextAfter: rows.length === size ? rows[rows.length - 1].row : null };
}

const line = (values: unknown[]) => stringify([values.map(neutraliseCell)], { record_delimiter: 'unix' });

export function bulkResultsCsv(job: BulkActionJobDoc): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield line(['Row', 'UserId', 'Username', 'Status', 'Outcome']);
    for (let after: number | null = 0; after !== null; ) {
      const page = await bulkResultPage(job, after);
      for (const r of page.rows) yield line([r.row, r.userId, r.username ?? '', r.status, r.outcome ?? '']);
      after = page.nextAfter;
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
