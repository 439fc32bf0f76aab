/**
 * Locale and language from the browser: the first supported tag of Accept-Language, as Salesforce-style
 * keys (en-US -> en_US, fr -> fr). Unknown or malformed headers fall back to en_US.
 */
export const DEFAULT_LOCALE = 'en_US';

export function localeFromAcceptLanguage(header: string | undefined): string {
  if (!header || header.length > 500) return DEFAULT_LOCALE;
  const tags = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([0-9.]+)$/.exec(p.trim())).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1 };
    })
    .filter((t) => t.tag && t.tag !== '*' && t.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of tags) {
    const m = /^([a-zA-Z]{2,3})(?:-([a-zA-Z]{2}))?(?:-.*)?$/.exec(tag);
    if (m) return m[2] ? `${m[1].toLowerCase()}_${m[2].toUpperCase()}` : m[1].toLowerCase();
  }
  return DEFAULT_LOCALE;
}
