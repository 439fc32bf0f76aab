/**
 * A bulk action's per-row report as CSV, streamed in row order (never built whole in memory):
 * Row, UserId, Username, Status (succeeded, failed, pending), Outcome. People open it in a spreadsheet,
 * so it is spreadsheet-safe like the ingest results: a cell starting with = + - @ tab or CR gets a '.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { trusted } from 'mongoose';
import { BulkActionRowModel, UserModel, type BulkActionJobDoc } from '../data/models';
import { neutraliseCell } from '../shared/spreadsheet-safe';

const line = (values: unknown[]) => stringify([values.map(neutraliseCell)], { record_delimiter: 'unix' });

export function bulkResultsCsv(job: BulkActionJobDoc): Readable {
  async function* lines(): AsyncGenerator<string> {
    yield line(['Row', 'UserId', 'Username', 'Status', 'Outcome']);
    for (let through = 0; ; ) {
      const rows = await BulkActionRowModel.find({ job: job._id, row: trusted({ $gt: through }) })
        .sort({ row: 1 })
        .limit(1000)
        .lean();
      if (!rows.length) return;
      const names = new Map(
        (
          await UserModel.find({ _id: trusted({ $in: rows.map((r) => r.userId) }) })
            .select('username')
            .lean()
        ).map((u) => [String(u._id), u.username]),
      );
      // A row the job has not counted yet is pending, whatever an interrupted attempt wrote.
      for (const r of rows) {
        const counted = r.row <= job.processedThrough;
        yield line([
          r.row,
          String(r.userId),
          names.get(String(r.userId)) ?? '',
          counted ? r.status : 'pending',
          counted ? (r.outcome ?? '') : '',
        ]);
      }
      through = rows[rows.length - 1].row;
    }
  }
  return Readable.from(lines(), { objectMode: false });
}
