/** Mail in tests: deliver what is queued to the outbox (as a portal without SMTP_URL does), read links. */
import pino from 'pino';
import { MailMessageModel } from '../../src/data/models';
import { deliverDueMail } from '../../src/mail/worker';
import { outboxTransport } from '../../src/mail/transport';

const silent = pino({ level: 'silent' });

export async function deliverToOutbox(): Promise<number> {
  return (
    await deliverDueMail({
      transport: outboxTransport(silent, { isProduction: false }),
      from: 'Portal <no-reply@portal.test>',
    })
  ).sent;
}

/** Every message to `to`, oldest first. */
export async function mailTo(to: string) {
  return MailMessageModel.find({ to: to.toLowerCase() }).sort({ createdAt: 1, _id: 1 }).lean();
}

/** The first link of the newest message to `to` whose subject matches, as a path (/s/portal/reset?token=...). */
export async function linkIn(to: string, subject: RegExp): Promise<string> {
  const messages = (await mailTo(to)).filter((m) => subject.test(m.subject));
  const last = messages[messages.length - 1];
  if (!last) throw new Error(`no mail to ${to} matching ${subject}`);
  const m = /https?:\/\/[^\s]+/.exec(last.text ?? '');
  if (!m) throw new Error('no link in the mail');
  const url = new URL(m[0]);
  return url.pathname + url.search;
}

export function tokenOf(link: string): string {
  return new URL(link, 'http://x').searchParams.get('token') ?? '';
}
