/** The guest side's languages: catalogues, how a language is picked, and per-locale formatting. */
export { translator, type Translate, type Vars } from './catalogue';
export {
  DEFAULT_LANGUAGE,
  LANGUAGE_KEYS,
  SUPPORTED_LANGUAGES,
  isLanguage,
  languageOfKey,
  offeredLanguageKey,
  languageFromAcceptLanguage,
  pickLanguage,
  type Language,
} from './languages';
export { formatters, bcp47, describeDuration, type Formatters } from './format';
export {
  LOCALE_KEYS,
  TIME_ZONES,
  localeChoices,
  languageChoices,
  timeZoneChoices,
  assertLocaleSettings,
} from './choices';
export { localiseRefusal, localiseFields, refusalKeyOf, type RefusalKey } from './refusals';
