/**
 * Puts the page's language into res.locals: `t` (the catalogue, src/i18n), `lang` (for <html lang>) and
 * `fmt` (dates and numbers in the reader's locale and time zone). Every request starts with the
 * visitor's browser language (Accept-Language); the admin area stays English; a site's pages then use
 * the signed-in user's language, or the site's default (see localiseForSite).
 */
import type { Request, Response, RequestHandler } from 'express';
import {
  DEFAULT_LANGUAGE,
  formatters,
  pickLanguage,
  translator,
  type Formatters,
  type Language,
  type Translate,
} from '../i18n';

declare global {
  namespace Express {
    interface Locals {
      t: Translate;
      lang: Language;
      fmt: Formatters;
    }
  }
}

function apply(res: Response, language: Language, localeKey?: string | null, timeZone?: string | null): void {
  res.locals.t = translator(language);
  res.locals.lang = language;
  res.locals.fmt = formatters(localeKey, timeZone, language);
  res.set('Content-Language', language);
}

export function localise(): RequestHandler {
  return (req, res, next) => {
    // Machines (the API, SCIM) get English messages and no language headers.
    if (/^\/(?:api|scim)(?:\/|$)/.test(req.path)) return next();
    const admin = req.path === '/admin' || req.path.startsWith('/admin/');
    if (!admin) res.vary('Accept-Language');
    apply(res, admin ? DEFAULT_LANGUAGE : pickLanguage({ acceptLanguage: req.get('accept-language') }));
    next();
  };
}

/** On a site: the signed-in user's language, locale and time zone; a visitor's browser; else the site's default. */
export function localiseForSite(req: Request, res: Response, siteDefault: string | null | undefined): void {
  const user = req.siteUser;
  const language = pickLanguage({
    userKey: user ? user.languageLocaleKey : undefined,
    acceptLanguage: req.get('accept-language'),
    siteDefault,
  });
  apply(res, language, user?.localeSidKey, user?.timeZoneSidKey);
}
