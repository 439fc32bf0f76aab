/**
 * Refusals in the reader's language. The domain (rules, the password policy, zod and mongoose field
 * checks, the MSG catalogue, the throttles) words its refusals in English: that text is the contract of
 * the API, SCIM and the bulk importer, byte for byte. Each of those sentences has a key under `refusal.`
 * in locales/en.json whose English is exactly the text thrown, `{{name}}` standing for a value (a number
 * of characters, of minutes); the error writer of the pages turns a refusal back into its key and values
 * and says it with the page's catalogue. A sentence with no key stays English (a test lists the ones a
 * site can show and fails on any without one, see test/unit/i18n/refusals.test.ts).
 */
import { loadCatalogue, type Translate, type Vars } from './catalogue';
import { DEFAULT_LANGUAGE } from './languages';

const PREFIX = 'refusal.';
const PLURAL = /_(zero|one|two|few|many|other)$/;

export interface RefusalKey {
  key: string;
  vars: Record<string, string>;
}

interface Pattern {
  key: string;
  names: string[];
  re: RegExp;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exact sentences by text; sentences with values as anchored patterns (longest first: the most specific wins). */
function index(english: Record<string, string>): { exact: Map<string, string>; patterns: Pattern[] } {
  const exact = new Map<string, string>();
  const patterns: Pattern[] = [];
  for (const [full, text] of Object.entries(english)) {
    if (!full.startsWith(PREFIX)) continue;
    const key = full.replace(PLURAL, '');
    const names = [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]);
    if (!names.length) {
      exact.set(text, key);
      continue;
    }
    const body = text
      .split(/\{\{\w+\}\}/)
      .map(escapeRe)
      .join('(.+?)');
    patterns.push({ key, names, re: new RegExp(`^${body}$`, 's') });
  }
  patterns.sort((a, b) => b.re.source.length - a.re.source.length);
  return { exact, patterns };
}

const { exact, patterns } = index(loadCatalogue(DEFAULT_LANGUAGE));

/** The key and values of an English refusal, or null when the catalogue has no key for it. */
export function refusalKeyOf(english: string): RefusalKey | null {
  const key = exact.get(english);
  if (key) return { key, vars: {} };
  for (const p of patterns) {
    const m = p.re.exec(english);
    if (m) return { key: p.key, vars: Object.fromEntries(p.names.map((n, i) => [n, m[i + 1]])) };
  }
  return null;
}

/**
 * A refusal in the translator's language. English stays exactly as thrown (no reformatting); another
 * language gets its catalogue's sentence, each whole number in it formatted for that language (1,024 /
 * 1.024) and `n` choosing the plural form. Anything without a key comes back unchanged.
 */
export function localiseRefusal(
  t: Pick<Translate, 'language'> & ((key: string, vars?: Vars) => string),
  english: string,
): string {
  if (t.language === DEFAULT_LANGUAGE) return english;
  const found = refusalKeyOf(english);
  if (!found) return english;
  const numbers = new Intl.NumberFormat(t.language);
  const vars: Vars = {};
  for (const [name, value] of Object.entries(found.vars)) {
    // A value that is itself a refusal (what to do next, after "This link has expired.") is said too.
    if (!/^\d+$/.test(value)) {
      vars[name] = localiseRefusal(t, value);
      continue;
    }
    vars[name] = numbers.format(Number(value));
    if (name === 'n') vars.count = Number(value);
  }
  return t(found.key, vars);
}

/** Every field message of a refusal in the translator's language. */
export function localiseFields(
  t: Parameters<typeof localiseRefusal>[0],
  fields: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([name, message]) => [name, localiseRefusal(t, message)]));
}
