/**
 * Message catalogues of the guest side (the sites, their error pages and mails): locales/<language>.json,
 * read once when this module loads. Keys are nested in the files and used dotted (`login.title`).
 * `{{name}}` is replaced by a value; a key with `_one` / `_other` (Intl.PluralRules) variants is
 * chosen by `count`. A key missing from a language falls back to English, and a key missing from
 * English throws: a typo must fail the test that renders the page, not show a key to a person.
 * The admin console stays English and does not use these catalogues.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, type Language } from './languages';

const LOCALES = path.resolve(
  __dirname,
  __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../locales' : '../../locales',
);

export type Vars = Record<string, string | number>;
export interface Translate {
  (key: string, vars?: Vars): string;
  /** The message as HTML: text escaped, each value escaped and wrapped in <strong> (for names and addresses). */
  strong(key: string, vars: Vars): string;
  readonly language: Language;
}

/** Flattens {"a": {"b": "x"}} into {"a.b": "x"}. */
export function flatten(tree: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out[key] = v;
    else if (v && typeof v === 'object') flatten(v, key, out);
    else throw new Error(`Catalogue entry ${key} is neither text nor a group`);
  }
  return out;
}

export function loadCatalogue(language: Language): Record<string, string> {
  return flatten(JSON.parse(fs.readFileSync(path.join(LOCALES, `${language}.json`), 'utf8')));
}

const catalogues = new Map<Language, Record<string, string>>(SUPPORTED_LANGUAGES.map((l) => [l, loadCatalogue(l)]));
const pluralRules = new Map(SUPPORTED_LANGUAGES.map((l) => [l, new Intl.PluralRules(l)]));

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function lookup(language: Language, key: string, count: number | undefined): string {
  const variants =
    count === undefined ? [key] : [`${key}_${pluralRules.get(language)!.select(count)}`, `${key}_other`, key];
  for (const lang of [language, DEFAULT_LANGUAGE]) {
    const cat = catalogues.get(lang)!;
    for (const k of variants) if (cat[k] !== undefined) return cat[k];
  }
  throw new Error(`No message "${key}" in the catalogue`);
}

function fill(message: string, vars: Vars | undefined, wrap: (v: string) => string = (v) => v): string {
  return message.replace(/\{\{(\w+)\}\}/g, (whole, name: string) =>
    vars && vars[name] !== undefined ? wrap(String(vars[name])) : whole,
  );
}

const translators = new Map<Language, Translate>();

/** The translator of a language (one per language, shared). */
export function translator(language: Language): Translate {
  let t = translators.get(language);
  if (!t) {
    const count = (vars?: Vars) => (typeof vars?.count === 'number' ? vars.count : undefined);
    const fn = (key: string, vars?: Vars) => fill(lookup(language, key, count(vars)), vars);
    t = Object.assign(fn, {
      strong: (key: string, vars: Vars) =>
        fill(escapeHtml(lookup(language, key, count(vars))), vars, (v) => `<strong>${escapeHtml(v)}</strong>`),
      language,
    });
    translators.set(language, t);
  }
  return t;
}
