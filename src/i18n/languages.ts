/**
 * The languages the guest side speaks, and how a request or a user picks one. Users store Salesforce
 * keys (`en_US`, `ja`, `ja_JP`); the catalogue is chosen by the language part. A language the product
 * does not have falls back to the site's default language (English unless the site says otherwise).
 */
export const SUPPORTED_LANGUAGES = ['en', 'ja'] as const;
export type Language = (typeof SUPPORTED_LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'en';

/** The language keys offered on the account and admin user pages (registration stores ja_JP from a Japanese browser). */
export const LANGUAGE_KEYS: Record<string, Language> = { en_US: 'en', ja_JP: 'ja' };

/**
 * The offered key a stored one stands for (en_GB -> en_US, ja -> ja_JP), so the list shows the person's
 * language selected; a language the portal does not speak stays as it is (shown as its own option).
 */
export function offeredLanguageKey(key: string): string {
  if (key in LANGUAGE_KEYS) return key;
  const lang = languageOfKey(key);
  return (lang && Object.keys(LANGUAGE_KEYS).find((k) => LANGUAGE_KEYS[k] === lang)) || key;
}

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (SUPPORTED_LANGUAGES as readonly string[]).includes(value);
}

/** The catalogue language of a stored key (ja_JP -> ja), or null when the product does not speak it. */
export function languageOfKey(key: string | null | undefined): Language | null {
  const lang = (key ?? '').slice(0, 2).toLowerCase();
  return isLanguage(lang) ? lang : null;
}

/** The first language of Accept-Language (by q) that the product speaks, or null. */
export function languageFromAcceptLanguage(header: string | undefined): Language | null {
  if (!header || header.length > 500) return null;
  const tags = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([0-9.]+)$/.exec(p.trim())).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1 };
    })
    .filter((t) => t.tag && t.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of tags) {
    const lang = languageOfKey(tag);
    if (lang) return lang;
  }
  return null;
}

/**
 * The language of a page: the signed-in user's own (when the product speaks it), else the visitor's
 * browser (anonymous visitors only: a signed-in user chose theirs), else the site's default.
 */
export function pickLanguage(opts: {
  userKey?: string | null;
  acceptLanguage?: string;
  siteDefault?: string | null;
}): Language {
  const siteDefault = isLanguage(opts.siteDefault) ? opts.siteDefault : DEFAULT_LANGUAGE;
  if (opts.userKey !== undefined && opts.userKey !== null) return languageOfKey(opts.userKey) ?? siteDefault;
  return languageFromAcceptLanguage(opts.acceptLanguage) ?? siteDefault;
}
