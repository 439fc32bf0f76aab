/**
 * Reading the audit trail: filters, newest first, and a CSV export that neutralises formula injection
 * (see spreadsheet-safe.ts). The actor filter is a case-insensitive substring of the actor's username
 * ("lovel" finds ada.lovelace@example.com); the typed text is escaped, so it matches literally. Such a
 * search can't use an index, so a page of results is bounded in time (ACTOR_SEARCH_MAX_MS): past it the
 * person is asked to narrow the search with dates or an action instead of waiting on a full scan.
 */
import { trusted, Types } from 'mongoose';
import { stringify } from 'csv-stringify';
import { Readable, type Transform } from 'node:stream';
import { AuditEventModel } from '../data/models';
import type { Actor } from '../access';
import { assertPermission } from '../access';
import { BadRequestError, ValidationError } from '../shared/errors';
import { neutraliseCell } from '../shared/spreadsheet-safe';
import { toObjectId } from '../shared/ids';

export interface AuditFilters {
  action?: string;
  actor?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  olderThan?: { at: Date; id: Types.ObjectId };
}

/** The "Older" link's cursor: the time and id of the last event shown ("2026-11-23T18:57:00.000Z_<id>"); undefined when malformed. */
export function parseAuditCursor(value: string): AuditFilters['olderThan'] {
  const m = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z)_([^_]+)$/.exec(value);
  const id = m && toObjectId(m[2]);
  if (!m || !id || Number.isNaN(new Date(m[1]).getTime())) return undefined;
  return { at: new Date(m[1]), id };
}

/** How long one page of the audit trail may take to find, in milliseconds (MongoDB's maxTimeMS). */
export const ACTOR_SEARCH_MAX_MS = 5000;

/** The typed text as a regular expression that matches it literally ("a.b" matches "a.b", not "axb"). */
export function literalPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function auditFilter(f: AuditFilters): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (f.action) q.action = f.action;
  const actor = f.actor?.trim();
  if (actor) q['actor.username'] = trusted({ $regex: literalPattern(actor.slice(0, 100)), $options: 'i' });
  const targetId = toObjectId(f.targetId);
  if (targetId) q['target.id'] = targetId;
  if (f.from || f.to) q.at = trusted({ ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lte: f.to } : {}) });
  if (f.olderThan)
    q.$or = [{ at: trusted({ $lt: f.olderThan.at }) }, { at: f.olderThan.at, _id: trusted({ $lt: f.olderThan.id }) }];
  return q;
}

/**
 * One page of events, newest first. Bounded by `maxTimeMS`: a search that would take longer is refused
 * (422, on the actor field when that is what made it slow) with what to do instead.
 */
export async function listAuditEvents(actor: Actor, f: AuditFilters, limit = 100, opts: { maxTimeMS?: number } = {}) {
  assertPermission(actor, 'viewAuditTrail');
  const maxTimeMS = opts.maxTimeMS ?? ACTOR_SEARCH_MAX_MS;
  try {
    return await AuditEventModel.find(auditFilter(f))
      .sort({ at: -1, _id: -1 })
      .limit(Math.min(limit, 500))
      .maxTimeMS(maxTimeMS)
      .lean();
  } catch (err) {
    if ((err as { code?: number }).code !== 50) throw err;
    const seconds = `${Math.max(1, Math.round(maxTimeMS / 1000))} second${maxTimeMS > 1500 ? 's' : ''}`;
    throw new ValidationError(
      `The search took longer than ${seconds} and was stopped. Narrow it with From and To dates or an action, or type more of the username.`,
      f.actor?.trim() ? { actor: 'Narrow this search with dates or an action, or type more of the username.' } : {},
    );
  }
}

/**
 * Every matching event as CSV, newest first, without holding them all in memory: the stages for the
 * caller to join with pipeline(), so a failure anywhere ends that response and nothing else.
 */
export function auditCsv(actor: Actor, f: AuditFilters): { rows: Readable; csv: Transform } {
  assertPermission(actor, 'viewAuditTrail');
  async function* rows() {
    for await (const e of AuditEventModel.find(auditFilter(f)).sort({ at: -1, _id: -1 }).lean().cursor()) {
      yield [
        e.at.toISOString(),
        e.action,
        e.actor?.username,
        e.onBehalfOf?.username,
        e.target?.label,
        e.target?.id,
        e.before,
        e.after,
        e.ip,
        e.via,
      ].map(neutraliseCell);
    }
  }
  return {
    rows: Readable.from(rows()),
    csv: stringify({
      header: true,
      columns: ['time', 'action', 'actor', 'onBehalfOf', 'target', 'targetId', 'before', 'after', 'ip', 'via'],
    }),
  };
}

/** A calendar date as YYYY-MM-DD (UTC), or a 400 that says how to write it; '' means no date. */
export function parseDay(value: string, name: string): Date | undefined {
  if (!value) return undefined;
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : null;
  // The round trip refuses 2024-13-01 and 2024-02-30, which Date would roll over or reject.
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) {
    throw new BadRequestError(
      `"${value.slice(0, 40)}" is not a date: write the ${name} date as YYYY-MM-DD.`,
      'invalid_date',
    );
  }
  return d;
}
