/**
 * Queueing mail: the message is rendered and written to the database, and that is all the request that
 * caused it waits for; the delivery worker (worker.ts) sends it. A down SMTP server therefore neither
 * slows nor fails a request, and loses no mail.
 *
 * This is the only way mail enters the queue: one message or many (bulk invitations), always through
 * the model's schema so its defaults (state `queued`, no attempts) are set (src/data/lean-docs.ts). A
 * document written around them (a bare lean insertMany) has no state, and the worker, which claims
 * `queued` messages only, never sends it.
 */
import { EventEmitter } from 'node:events';
import type { Types } from 'mongoose';
import { MailMessageModel, type SiteRecord } from '../data/models';
import { siteBySlug } from '../sites';
import { describeDuration, languageOfKey, translator, type Language } from '../i18n';
import { renderMail, type MailTemplate } from './templates';
import { documentsToInsert } from '../data/lean-docs';

/** Tells a worker in this process that mail is waiting, so it need not wait for its next poll. */
export const mailQueued = new EventEmitter();
mailQueued.setMaxListeners(50);

export interface MailRequest {
  to: string;
  template: MailTemplate;
  locals: Record<string, unknown>;
  user?: Types.ObjectId | null;
  /** The user's language key (ja_JP); one the portal does not speak gives the site's default language. */
  language?: string | null;
  /** The site the mail comes from: its name, colours, default language and sender (none: the portal's). */
  siteSlug?: string | null;
}

/** The header name, colour, language and sender of a mail from this site (or from the portal itself). */
function brandOf(site: SiteRecord | null, languageKey: string | null | undefined) {
  const language: Language = languageOfKey(languageKey) ?? (site?.defaultLanguage as Language | undefined) ?? 'en';
  const b = site?.branding;
  return {
    language,
    locals: {
      appName: site?.name ?? 'Identity Portal',
      brandColor: b?.primaryColor ?? '#3b4cca',
      t: translator(language),
      lang: language,
    },
    // A site's mails carry its name even without a sender of its own (the address is then MAIL_FROM's).
    fromName: site ? b?.senderName || site.name : null,
    fromAddress: b?.senderAddress ?? null,
  };
}

export async function queueMail(req: MailRequest, now: Date = new Date()): Promise<Types.ObjectId> {
  return (await queueMails([req], now))[0];
}

/** Renders and queues several messages in one insert; returns their ids in order. */
export async function queueMails(reqs: MailRequest[], now: Date = new Date()): Promise<Types.ObjectId[]> {
  if (!reqs.length) return [];
  const docs = [];
  for (const req of reqs) {
    const brand = brandOf(req.siteSlug ? await siteBySlug(req.siteSlug) : null, req.language);
    const expiresIn =
      typeof req.locals.expiresInMs === 'number'
        ? { expiresIn: describeDuration(req.locals.expiresInMs, brand.language) }
        : {};
    const rendered = await renderMail(req.template, { ...brand.locals, ...req.locals, ...expiresIn }, brand.language);
    docs.push({
      to: req.to,
      template: req.template,
      user: req.user ?? null,
      nextAttemptAt: now,
      fromName: brand.fromName,
      fromAddress: brand.fromAddress,
      ...rendered,
    });
  }
  // The schema's defaults and validation apply to every message (documentsToInsert: the model's own
  // setters, defaults and validators, without a mongoose document per message).
  const inserted = await MailMessageModel.insertMany(await documentsToInsert(MailMessageModel as never, docs), {
    lean: true,
  });
  mailQueued.emit('queued');
  return inserted.map((d) => d._id as Types.ObjectId);
}
