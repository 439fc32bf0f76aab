/**
 * Queueing mail: the message is rendered and written to the database, and that is all the request that
 * caused it waits for; the delivery worker (worker.ts) sends it. A down SMTP server therefore neither
 * slows nor fails a request, and loses no mail.
 *
 * This is the only way mail enters the queue: one message or many (bulk invitations), always through
 * the model so its defaults (state `queued`, no attempts) are set. A document written around them
 * (a lean insertMany) has no state, and the worker, which claims `queued` messages only, never sends it.
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
  return (await queueMails([req], now))[0];
}

/** Renders and queues several messages in one insert; returns their ids in order. */
export async function queueMails(reqs: MailRequest[], now: Date = new Date()): Promise<Types.ObjectId[]> {
  if (!reqs.length) return [];
  const docs = [];
  for (const req of reqs) {
    const rendered = await renderMail(req.template, { appName: 'Identity Portal', ...req.locals }, req.language);
    docs.push({ to: req.to, template: req.template, user: req.user ?? null, nextAttemptAt: now, ...rendered });
  }
  // Not lean: the schema's defaults and validation apply to every message.
  const inserted = await MailMessageModel.insertMany(docs);
  mailQueued.emit('queued');
  return inserted.map((d) => d._id);
}
