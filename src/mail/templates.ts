/**
 * Mail templates: views/mail/<language>/<name>.text.ejs and .html.ejs. The text template starts with a
 * "Subject: ..." line and a blank line; the rest is the plain-text part. A user's language picks the
 * folder (fr_FR -> fr) when the product has it; English otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';

const VIEWS = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../views/mail' : '../../views/mail',
);

export type MailTemplate =
  | 'password-reset'
  | 'invitation'
  | 'verify-email'
  | 'email-change-confirm'
  | 'email-changed-notice'
  | 'registration-attempt'
  | 'security-notice'
  | 'identity-link'
  | 'seat-warning';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Whether the product has mail in a language, looked up once per language (not per message). */
const hasFolder = new Map<string, boolean>();
function languageFolder(language: string | null | undefined): string {
  const lang = (language ?? 'en').slice(0, 2).toLowerCase();
  if (!/^[a-z]{2}$/.test(lang)) return 'en';
  let has = hasFolder.get(lang);
  if (has === undefined) hasFolder.set(lang, (has = fs.existsSync(path.join(VIEWS, lang))));
  return has ? lang : 'en';
}

export async function renderMail(
  name: MailTemplate,
  locals: Record<string, unknown>,
  language?: string | null,
): Promise<RenderedMail> {
  const dir = path.join(VIEWS, languageFolder(language));
  const [textSource, html] = await Promise.all([
    ejs.renderFile(path.join(dir, `${name}.text.ejs`), locals, { async: false, cache: true }),
    ejs.renderFile(path.join(dir, `${name}.html.ejs`), locals, { async: false, cache: true }),
  ]);
  const m = /^Subject: (.+)\r?\n\r?\n([\s\S]*)$/.exec(textSource);
  if (!m) throw new Error(`Mail template ${name}.text.ejs must start with "Subject: ..." and a blank line`);
  return { subject: m[1].trim(), text: m[2], html };
}
