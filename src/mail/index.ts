/** Mail: templates, the queue in the database, the transports and the delivery worker. */
import type { Logger } from 'pino';
import type { MailSettings } from '../config';
import { outboxTransport, smtpTransport, type MailTransport } from './transport';

export { queueMail, type MailRequest } from './queue';
export { deliverDueMail, startMailWorker, backoffMs } from './worker';
export type { MailTransport } from './transport';

export function transportFor(settings: MailSettings, logger: Logger, isProduction: boolean): MailTransport {
  return settings.smtpUrl
    ? smtpTransport(settings.smtpUrl)
    : outboxTransport(logger.child({ component: 'mail' }), { isProduction });
}

// What other features use from here (their only way in).
export { queueMails } from './queue';
export type { MailTemplate } from './templates';
