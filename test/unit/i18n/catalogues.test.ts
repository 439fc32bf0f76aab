/**
 * The guest side's catalogues (locales/<language>.json) agree: every message exists in every language,
 * no language has a message the others lack, each has the plural forms its language needs, every key a
 * site view or mail uses exists, and every English mail template has its translation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalogue, translator } from '../../../src/i18n/catalogue';
import { SUPPORTED_LANGUAGES } from '../../../src/i18n/languages';
import { describeDuration } from '../../../src/i18n/format';

const ROOT = path.resolve(__dirname, '../../..');
const PLURAL = /_(zero|one|two|few|many|other)$/;
const baseKeys = (cat: Record<string, string>) => new Set(Object.keys(cat).map((k) => k.replace(PLURAL, '')));
const placeholders = (msg: string) => [...msg.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

const catalogues = Object.fromEntries(SUPPORTED_LANGUAGES.map((l) => [l, loadCatalogue(l)]));

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe.each(SUPPORTED_LANGUAGES.filter((l) => l !== 'en'))('the %s catalogue', (lang) => {
  it('has every English message and no other', () => {
    const en = [...baseKeys(catalogues.en)].sort();
    const other = [...baseKeys(catalogues[lang])].sort();
    expect(en.filter((k) => !other.includes(k))).toEqual([]);
    expect(other.filter((k) => !en.includes(k))).toEqual([]);
  });

  it('uses the same placeholders as English in each message', () => {
    for (const key of baseKeys(catalogues.en)) {
      const enMsg = catalogues.en[key] ?? catalogues.en[`${key}_other`];
      const msg = catalogues[lang][key] ?? catalogues[lang][`${key}_other`];
      expect([key, placeholders(msg)]).toEqual([key, placeholders(enMsg)]);
    }
  });
});

it.each(SUPPORTED_LANGUAGES)('gives every plural message of %s each form the language needs', (lang) => {
  const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
  const plural = [
    ...new Set(
      Object.keys(catalogues.en)
        .filter((k) => PLURAL.test(k))
        .map((k) => k.replace(PLURAL, '')),
    ),
  ];
  expect(plural.length).toBeGreaterThan(0);
  for (const key of plural)
    for (const form of needed)
      expect([lang, key, form, catalogues[lang][`${key}_${form}`] !== undefined]).toEqual([lang, key, form, true]);
});

it('has every key that a site view, a shared partial, the error page or a mail uses', () => {
  const views = [
    ...filesUnder(path.join(ROOT, 'views/site')),
    ...filesUnder(path.join(ROOT, 'views/partials')),
    ...filesUnder(path.join(ROOT, 'views/mail')),
    path.join(ROOT, 'views/error.ejs'),
  ];
  const used = new Set(
    views.flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/\bt(?:\.strong)?\('([\w.]+)'/g)].map((m) => m[1])),
  );
  expect(used.size).toBeGreaterThan(50);
  const known = baseKeys(catalogues.en);
  expect([...used].filter((k) => !known.has(k))).toEqual([]);
});

it('has a Japanese version of every English mail template', () => {
  const en = fs.readdirSync(path.join(ROOT, 'views/mail/en')).sort();
  expect(en.length).toBeGreaterThan(0);
  expect(fs.readdirSync(path.join(ROOT, 'views/mail/ja')).sort()).toEqual(en);
});

it('fills values, chooses plural forms, escapes HTML and refuses an unknown key', () => {
  const en = translator('en');
  const ja = translator('ja');
  expect(en('form.problems', { count: 1 })).toBe('1 problem:');
  expect(en('form.problems', { count: 3 })).toBe('3 problems:');
  expect(ja('form.problems', { count: 1 })).toBe('1 件の問題があります：');
  expect(en.strong('checkEmail.created', { email: '<a@b.c>' })).toContain('<strong>&#60;a@b.c&#62;</strong>');
  expect(() => en('no.such.key')).toThrow(/no\.such\.key/);
});

it('writes link lifetimes in the language of the mail', () => {
  expect(describeDuration(3 * 86_400_000, 'en')).toBe('3 days');
  expect(describeDuration(3_600_000, 'en')).toBe('60 minutes');
  expect(describeDuration(48 * 3_600_000 + 3_600_000, 'ja')).toBe('49 時間');
});
