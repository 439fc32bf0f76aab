/**
 * Times as people read them: "3 hours ago", with the exact local time in the person's own time zone
 * (their timeZoneSidKey) for a title or a mail. Intl only; an unknown zone falls back to UTC rather than
 * failing a page. `locale` is a parameter so localised pages can pass theirs.
 */
export interface When {
  iso: string;
  relative: string;
  exact: string;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number, number][] = [
  // unit, seconds in it, used while the distance is below this many seconds
  ['second', 1, 45],
  ['minute', 60, 45 * 60],
  ['hour', 3600, 22 * 3600],
  ['day', 86_400, 26 * 86_400],
  ['month', 30 * 86_400, 320 * 86_400],
  ['year', 365 * 86_400, Infinity],
];

export function zoneOrUtc(timeZone: string | null | undefined): string {
  if (!timeZone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return timeZone;
  } catch {
    return 'UTC';
  }
}

/** "3 hours ago", "in 2 days", "now". */
export function relativeTime(at: Date, now: Date = new Date(), locale = 'en'): string {
  const seconds = (at.getTime() - now.getTime()) / 1000;
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (Math.abs(seconds) < 10) return rtf.format(0, 'second');
  const [unit, size] = UNITS.find(([, , below]) => Math.abs(seconds) < below)!;
  return rtf.format(Math.round(seconds / size), unit);
}

/** "5 Dec 2026, 18:04 CET" in `timeZone`. */
export function exactTime(at: Date, timeZone: string | null | undefined, locale = 'en-GB'): string {
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: zoneOrUtc(timeZone),
    timeZoneName: 'short',
  }).format(at);
}

/**
 * `language` is the page's (res.locals.lang): "3 hours ago" / "3 時間前". English keeps en-GB for the
 * exact time ("5 Dec 2026, 18:04 CET"), the wording the English pages had before they were localised.
 */
export function describeWhen(
  at: Date,
  timeZone: string | null | undefined,
  now: Date = new Date(),
  language = 'en',
): When {
  return {
    iso: at.toISOString(),
    relative: relativeTime(at, now, language),
    exact: exactTime(at, timeZone, language === 'en' ? 'en-GB' : language),
  };
}
