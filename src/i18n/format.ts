/**
 * Dates and numbers as a person reads them: their locale (en_US -> en-US) and their time zone, through
 * Intl. Formatters are cached per locale and zone (building one costs about 0.1 ms).
 */
import { isTimeZone } from '../users/user.model';

export interface Formatters {
  dateTime(d: Date | null | undefined): string;
  date(d: Date | null | undefined): string;
  number(n: number): string;
  readonly locale: string;
  readonly timeZone: string;
}

/** A BCP 47 tag for a Salesforce key (en_US -> en-US); unknown or malformed keys give the fallback. */
export function bcp47(key: string | null | undefined, fallback: string): string {
  const tag = (key ?? '').replace('_', '-');
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? fallback;
  } catch {
    return fallback;
  }
}

const cache = new Map<string, Formatters>();

export function formatters(
  localeKey: string | null | undefined,
  timeZone: string | null | undefined,
  fallbackLocale: string,
): Formatters {
  const locale = bcp47(localeKey, fallbackLocale);
  const zone = timeZone && isTimeZone(timeZone) ? timeZone : 'UTC';
  const id = `${locale}|${zone}`;
  let f = cache.get(id);
  if (!f) {
    const dt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone });
    const d = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: zone });
    const n = new Intl.NumberFormat(locale);
    f = {
      dateTime: (x) => (x ? dt.format(x) : ''),
      date: (x) => (x ? d.format(x) : ''),
      number: (x) => n.format(x),
      locale,
      timeZone: zone,
    };
    if (cache.size < 500) cache.set(id, f);
  }
  return f;
}

/** Unit formatters per language and unit: building one costs far more than using it (a bulk job
 * mails thousands of invitations, each naming its link's lifetime). */
const unitFormats = new Map<string, Intl.NumberFormat>();
function unitFormat(language: string, unit: 'minute' | 'hour' | 'day'): Intl.NumberFormat {
  const id = `${language}|${unit}`;
  let f = unitFormats.get(id);
  if (!f) {
    f = new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long' });
    if (unitFormats.size < 500) unitFormats.set(id, f);
  }
  return f;
}

/** A link's lifetime in words ("60 minutes", "48 hours", "3 days"; "60 分" in Japanese). */
export function describeDuration(ms: number, language: string): string {
  const unit = (u: 'minute' | 'hour' | 'day', n: number) => unitFormat(language, u).format(n);
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return unit('minute', minutes);
  const hours = Math.round(minutes / 60);
  return hours >= 48 && hours % 24 === 0 ? unit('day', hours / 24) : unit('hour', hours);
}
