/**
 * Where mail goes: an SMTP server (SMTP_URL, through nodemailer), or, without one, the outbox in the
 * database, listed at /admin/outbox. The outbox "delivery" only logs the message: at info level, with
 * its links outside production and without them (they carry tokens) in production.
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  template: string;
}

export interface MailTransport {
  kind: 'smtp' | 'outbox';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function smtpTransport(smtpUrl: string, opts: { connectionTimeoutMs?: number } = {}): MailTransport {
  const timeout = opts.connectionTimeoutMs ?? 15_000;
  const transporter = nodemailer.createTransport(smtpUrl, {
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
  } as never);
  return {
    kind: 'smtp',
    async send(mail) {
      await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
    },
    close: () => transporter.close(),
  };
}

const LINK = /https?:\/\/\S+/g;

export function outboxTransport(logger: Logger, opts: { isProduction: boolean }): MailTransport {
  return {
    kind: 'outbox',
    async send(mail) {
      const links = opts.isProduction ? undefined : (mail.text.match(LINK) ?? []);
      logger.info(
        { to: mail.to, subject: mail.subject, template: mail.template, ...(links ? { links } : {}) },
        'Mail placed in the outbox (no SMTP_URL)',
      );
    },
    close: () => {},
  };
}
