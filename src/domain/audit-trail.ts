/**
 * Reading the audit trail: filters, newest first, and a CSV export that neutralises formula injection
 * (a cell starting with = + - @ tab or CR would be run by spreadsheet programs, so it gets a ' prefix).
 */
import { trusted, Types } from 'mongoose';
import { stringify } from 'csv-stringify';
import type { Readable } from 'node:stream';
import { AuditEventModel } from '../data/models';
import type { Actor } from './actor';
import { assertPermission } from './permissions';

export interface AuditFilters { action?: string; actor?: string; targetId?: string; from?: Date; to?: Date }

export function auditFilter(f: AuditFilters): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.action) q.action = f.action;
  if (f.actor) q['actor.username'] = f.actor.trim().toLowerCase();
  if (f.targetId && /^[0-9a-f]{24}$/i.test(f.targetId)) q['target.id'] = new Types.ObjectId(f.targetId);
  if (f.from || f.to) q.at = trusted({ ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lte: f.to } : {}) });
  return q;
}

export async function listAuditEvents(actor: Actor, f: AuditFilters, limit = 100) {
  assertPermission(actor, 'viewAuditTrail');
  return AuditEventModel.find(auditFilter(f)).sort({ at: -1, _id: -1 }).limit(Math.min(limit, 500)).lean();
}

export function neutraliseCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** Streams every matching event as CSV, newest first, without holding them all in memory. */
export function auditCsv(actor: Actor, f: AuditFilters): Readable {
  assertPermission(actor, 'viewAuditTrail');
  const csv = stringify({ header: true, columns: ['time', 'action', 'actor', 'target', 'targetId', 'before', 'after', 'ip', 'via'] });
  (async () => {
    try {
      for await (const e of AuditEventModel.find(auditFilter(f)).sort({ at: -1, _id: -1 }).lean().cursor()) {
        const row = [e.at.toISOString(), e.action, e.actor?.username, e.target?.label, e.target?.id, e.before, e.after, e.ip, e.via].map(neutraliseCell);
        if (!csv.write(row)) await new Promise((r) => csv.once('drain', r));
      }
      csv.end();
    } catch (err) {
      csv.destroy(err as Error);
    }
  })();
  return csv;
}
