/**
 * Queueing mail: the message is rendered and written to the database, and that is all the request that
 * caused it waits for; the delivery worker (worker.ts) sends it. A down SMTP server therefore neither
 * slows nor fails a request, and loses no mail.
 */
import { EventEmitter } from 'node:events';
import type { Types } from 'mongoose';
import { MailMessageModel } from '../data/models';
import { renderMail, type MailTemplate } from './templates';

/** Tells a worker in this process that mail is waiting, so it need not wait for its next poll. */
export const mailQueued = new EventEmitter();
mailQueued.setMaxListeners(50);

export interface MailRequest {
  to: string;
  template: MailTemplate;
  locals: Record<string, unknown>;
  user?: Types.ObjectId | null;
  language?: string | null;
}

export async function queueMail(req: MailRequest, now: Date = new Date()): Promise<Types.ObjectId> {
  const rendered = await renderMail(req.template, { appName: 'Identity Portal', ...req.locals }, req.language);
  const doc = await MailMessageModel.create({ to: req.to, template: req.template, user: req.user ?? null, nextAttemptAt: now, ...rendered });
  mailQueued.emit('queued');
  return doc._id;
}
