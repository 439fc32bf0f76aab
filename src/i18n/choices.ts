/**
 * What the account page and the admin user page offer for locale, language and time zone, and the
 * server-side check that a submitted value is one of them. A value the user already has stays
 * acceptable even when it is not offered (one set by the API, SCIM or a bulk import), so saving a
 * name never fails on a setting the person did not touch.
 */
import { ValidationError, type FieldErrors } from '../shared/errors';
import { bcp47 } from './format';
import { LANGUAGE_KEYS, type Language } from './languages';
import { MSG } from '../shared/messages';

/** Salesforce locale keys offered (the formats of dates and numbers). */
export const LOCALE_KEYS = [
  'ar_AE',
  'cs_CZ',
  'da_DK',
  'de_AT',
  'de_CH',
  'de_DE',
  'el_GR',
  'en_AU',
  'en_CA',
  'en_GB',
  'en_IE',
  'en_IN',
  'en_NZ',
  'en_US',
  'en_ZA',
  'es_ES',
  'es_MX',
  'es_US',
  'fi_FI',
  'fr_BE',
  'fr_CA',
  'fr_CH',
  'fr_FR',
  'he_IL',
  'hi_IN',
  'hu_HU',
  'id_ID',
  'it_CH',
  'it_IT',
  'ja_JP',
  'ko_KR',
  'ms_MY',
  'nl_BE',
  'nl_NL',
  'no_NO',
  'pl_PL',
  'pt_BR',
  'pt_PT',
  'ro_RO',
  'ru_RU',
  'sv_SE',
  'th_TH',
  'tr_TR',
  'vi_VN',
  'zh_CN',
  'zh_HK',
  'zh_TW',
] as const;

/** Every IANA zone the runtime knows, GMT (the registration default without a browser zone) and UTC. */
export const TIME_ZONES: readonly string[] = [
  'GMT',
  'UTC',
  ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'GMT' && z !== 'UTC'),
];
const TIME_ZONE_SET = new Set(TIME_ZONES);

export interface Choice {
  value: string;
  label: string;
}

function displayName(language: Language, key: string): string {
  try {
    return new Intl.DisplayNames([language], { type: 'language' }).of(bcp47(key, 'en')) ?? key;
  } catch {
    return key;
  }
}

const localeLists = new Map<Language, Choice[]>();

/** Locales labelled in the page's language ("British English", "イギリス英語"), sorted by label; built once per language. */
export function localeChoices(language: Language): Choice[] {
  let list = localeLists.get(language);
  if (!list) {
    const collator = new Intl.Collator(language);
    list = LOCALE_KEYS.map((k) => ({ value: k, label: `${displayName(language, k)} (${k})` })).sort((a, b) =>
      collator.compare(a.label, b.label),
    );
    localeLists.set(language, list);
  }
  return list;
}

/** Languages the portal speaks, each named in its own language so a person can find theirs. */
export function languageChoices(): Choice[] {
  return Object.entries(LANGUAGE_KEYS).map(([key, lang]) => ({ value: key, label: displayName(lang, lang) }));
}

const zoneList: Choice[] = TIME_ZONES.map((z) => ({ value: z, label: z.replace(/_/g, ' ') }));

export function timeZoneChoices(): Choice[] {
  return zoneList;
}

export interface LocaleSettings {
  localeSidKey: string;
  languageLocaleKey: string;
  timeZoneSidKey: string;
}

/** Refuses a locale, language or time zone that is neither offered nor the one the user already has. */
export function assertLocaleSettings(next: LocaleSettings, current: Partial<LocaleSettings>): void {
  const fields: FieldErrors = {};
  const allowed = (value: string, offered: boolean, was: string | undefined) => offered || value === was;
  if (!allowed(next.localeSidKey, (LOCALE_KEYS as readonly string[]).includes(next.localeSidKey), current.localeSidKey))
    fields.localeSidKey = 'Choose a locale from the list (like en_US).';
  if (!allowed(next.languageLocaleKey, next.languageLocaleKey in LANGUAGE_KEYS, current.languageLocaleKey))
    fields.languageLocaleKey = 'Choose a language from the list.';
  if (!allowed(next.timeZoneSidKey, TIME_ZONE_SET.has(next.timeZoneSidKey), current.timeZoneSidKey))
    fields.timeZoneSidKey = 'Choose a time zone from the list (an IANA time zone like Europe/Paris).';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
}
