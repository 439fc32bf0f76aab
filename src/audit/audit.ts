/** Writes audit events: every admin action and every registration, with actor, target and change. */
import type { Types } from 'mongoose';
import { AuditEventModel } from '../data/models';
import type { RequestContext } from '../access';

export interface AuditEntry {
  action: string;
  /** When it happened; now unless the event is written late (a bulk batch's retry after a crash). */
  at?: Date;
  target?: { type: string; id?: Types.ObjectId | null; label?: string } | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

function auditEvent(ctx: RequestContext, entry: AuditEntry) {
  return {
    at: entry.at ?? new Date(),
    action: entry.action,
    actor: ctx.actor ? { id: ctx.actor.id, username: ctx.actor.username } : null,
    onBehalfOf: ctx.onBehalfOf ? { id: ctx.onBehalfOf.id, username: ctx.onBehalfOf.username } : null,
    target: entry.target ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
    ip: ctx.ip ?? null,
    via: ctx.via,
  };
}

export async function recordAudit(ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await AuditEventModel.create(auditEvent(ctx, entry));
}

/** Many events in one insert (a bulk import batch). */
export async function recordAudits(ctx: RequestContext, entries: AuditEntry[]): Promise<void> {
  if (entries.length)
    await AuditEventModel.insertMany(
      entries.map((e) => auditEvent(ctx, e)),
      { lean: true },
    );
}
