/**
 * The mail outbox: what the portal "sent" while no SMTP server is configured, newest first, with the
 * text and its links. It holds live reset and invitation links, so it has a permission of its own
 * (View Mail Outbox), granted to the System Administrator profile only.
 */
import { trusted } from 'mongoose';
import { MailMessageModel } from '../data/models';
import type { Actor } from './actor';
import { assertPermission } from './permissions';

export async function listOutbox(actor: Actor, opts: { to?: string; limit?: number } = {}) {
  assertPermission(actor, 'viewOutbox');
  const filter: Record<string, unknown> = { deliveredVia: 'outbox' };
  if (opts.to) filter.to = opts.to.trim().toLowerCase().slice(0, 254);
  return MailMessageModel.find(filter).sort({ createdAt: -1, _id: -1 }).limit(Math.min(Math.max(opts.limit ?? 100, 1), 500)).lean();
}

/** Delivery problems, for the same page: messages waiting for a retry or given up. */
export async function undeliveredMail(actor: Actor, limit = 50) {
  assertPermission(actor, 'viewOutbox');
  return MailMessageModel.find({ lastError: trusted({ $ne: null }), state: trusted({ $in: ['queued', 'failed'] }) }).sort({ createdAt: -1 }).limit(limit).select('-text -html').lean();
}
