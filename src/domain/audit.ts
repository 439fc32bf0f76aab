/** Writes audit events: every admin action and every registration, with actor, target and change. */
import type { Types } from 'mongoose';
import { AuditEventModel } from '../data/models';
import type { RequestContext } from './actor';

export interface AuditEntry {
  action: string;
  target?: { type: string; id?: Types.ObjectId | null; label?: string } | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

export async function recordAudit(ctx: RequestContext, entry: AuditEntry): Promise<void> {
  await AuditEventModel.create({
    at: new Date(),
    action: entry.action,
    actor: ctx.actor ? { id: ctx.actor.id, username: ctx.actor.username } : null,
    target: entry.target ?? null,
    before: entry.before ?? null,
    after: entry.after ?? null,
    ip: ctx.ip ?? null,
    via: ctx.via,
  });
}
