/**
 * The mail outbox: what the portal "sent" while no SMTP server is configured, newest first, with the
 * text. It has a permission of its own (View Mail Outbox, System Administrator only), and yet it never
 * shows a live link: anyone who may read it could otherwise ask for the root administrator's reset
 * (the forgot-password form is open to all) and use the link. The token of every link is masked here,
 * in the domain, so no page or API built on it can show one, and the HTML part is never returned.
 * In production the outbox is closed unless MAIL_OUTBOX_IN_PRODUCTION says otherwise.
 */
import { trusted } from 'mongoose';
import { MailMessageModel } from '../data/models';
import type { Actor } from '../access';
import { ForbiddenError } from '../shared/errors';
import { assertPermission } from '../access';

export interface OutboxAccess {
  /** False in production unless MAIL_OUTBOX_IN_PRODUCTION is on. */
  open: boolean;
}

/** Keeps the first 4 characters of each link's token ("token=AbCd…"), enough to tell two mails apart. */
export function maskTokens(text: string): string {
  return text.replace(
    /([?&]token=)([^\s&#"'<>]*)/g,
    (_m, key: string, value: string) => `${key}${value.length > 8 ? value.slice(0, 4) : ''}…`,
  );
}

function assertOutboxOpen(actor: Actor, access: OutboxAccess): void {
  assertPermission(actor, 'viewOutbox');
  if (!access.open)
    throw new ForbiddenError(
      'The mail outbox is off in production. Set SMTP_URL to send mail, or MAIL_OUTBOX_IN_PRODUCTION=true to open it.',
    );
}

export async function listOutbox(actor: Actor, access: OutboxAccess, opts: { to?: string; limit?: number } = {}) {
  assertOutboxOpen(actor, access);
  const filter: Record<string, unknown> = { deliveredVia: 'outbox' };
  if (opts.to) filter.to = opts.to.trim().toLowerCase().slice(0, 254);
  const messages = await MailMessageModel.find(filter)
    .sort({ createdAt: -1, _id: -1 })
    .limit(Math.min(Math.max(opts.limit ?? 100, 1), 500))
    .select('-html')
    .lean();
  return messages.map((m) => ({ ...m, text: maskTokens(m.text ?? '') }));
}

/** Delivery problems, for the same page: messages waiting for a retry or given up. */
export async function undeliveredMail(actor: Actor, access: OutboxAccess, limit = 50) {
  assertOutboxOpen(actor, access);
  return MailMessageModel.find({ lastError: trusted({ $ne: null }), state: trusted({ $in: ['queued', 'failed'] }) })
    .sort({ createdAt: -1 })
    .limit(limit)
    .select('-text -html')
    .lean();
}
