/**
 * Refusals in the reader's language (src/i18n/refusals.ts): every MSG entry and every refusal sentence
 * a site page can show has its key under `refusal.` in English (the exact text thrown) and in Japanese;
 * a key is found back from its English with its values, and said in Japanese with numbers formatted
 * for Japanese; English and unknown text come back exactly as thrown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalogue, translator } from '../../../src/i18n/catalogue';
import { localiseFields, localiseRefusal, refusalKeyOf } from '../../../src/i18n/refusals';
import { MSG } from '../../../src/shared/messages';
import { passwordProblem, warmPasswordPolicy } from '../../../src/signin/passwords';

const ROOT = path.resolve(__dirname, '../../..');
const en = loadCatalogue('en');
const ja = loadCatalogue('ja');
const JA = translator('ja');

/** Source files whose refusals a person can meet on a site page (the admin area stays English). */
const SITE_SOURCES = [
  'src/registration/registration.ts',
  'src/signin/login-middleware.ts',
  'src/signin/two-factor.ts',
  'src/signin/two-factor-pages.ts',
  'src/signin/passwords.ts',
  'src/account/account.ts',
  'src/account/email-change.ts',
  'src/account/verification.ts',
  'src/account/tokens.ts',
  'src/account/recovery.ts',
  'src/account/sessions.ts',
  'src/users/email-owner.ts',
  'src/users/users.ts',
  'src/users/user.model.ts',
  'src/i18n/choices.ts',
  'src/shared/errors.ts',
  'src/shared/messages.ts',
];

/** Sentences said in these files: quoted text that starts with a capital and ends a sentence. */
function sentencesIn(file: string): string[] {
  const code = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^\s*(\/\/|\*|\/\*).*$/gm, '');
  return [...code.matchAll(/'((?:[^'\\\n]|\\.)*)'|"([^"\n]*)"/g)]
    .map((m) => (m[1] ?? m[2]).replace(/\\'/g, "'"))
    .filter((s) => /^[A-Z][^`]* [^`]*[.!?]$/.test(s));
}

/**
 * Sentences of those files that are not refusals a site shows: admin-only ones (what an administrator
 * is told about another user) and the parts a refusal is built from (each part has its key).
 */
const NOT_SITE_REFUSALS = new Set([
  'This user has not set up two-factor sign-in.',
  'This user is inactive; activate them first.',
  'Use site or admin.',
  'Another user already has this externalId.',
  'Internal users never have a contact: leave the contact out, or choose an external profile.',
  'Internal users have no contact.',
  'A contact is required for this profile.',
]);

describe('every MSG entry', () => {
  const entries = Object.entries(MSG).map(([name, v]) => [name, typeof v === 'function' ? v(1024) : v] as const);

  it.each(entries)('%s has its key in English (the exact text) and in Japanese', (name, text) => {
    expect(refusalKeyOf(text)?.key).toBe(`refusal.${name}`);
    expect(ja[`refusal.${name}`]).toEqual(expect.any(String));
    expect(localiseRefusal(JA, text)).not.toBe(text);
  });
});

it.each(SITE_SOURCES)('every refusal sentence of %s has a key in English and in Japanese', (file) => {
  const sentences = sentencesIn(file).filter((s) => !NOT_SITE_REFUSALS.has(s));
  const missing = sentences.filter((s) => {
    // The first part of a link refusal is followed by the next step (src/account/tokens.ts): keyed as a whole.
    const found = refusalKeyOf(s) ?? refusalKeyOf(`${s} Sign in and ask for a new verification link.`);
    return !found || (ja[found.key] === undefined && ja[`${found.key}_other`] === undefined);
  });
  expect(missing).toEqual([]);
});

it('finds the sources it checks sentences in (the scan itself works)', () => {
  expect(sentencesIn('src/account/email-change.ts')).toContain('This is already your email address.');
  expect(SITE_SOURCES.flatMap(sentencesIn).length).toBeGreaterThan(50);
});

it('keeps English exactly as thrown, numbers included', () => {
  const EN = translator('en');
  expect(localiseRefusal(EN, MSG.atMostCharacters(1024))).toBe('Use at most 1024 characters.');
  expect(localiseRefusal(EN, 'Something no catalogue has.')).toBe('Something no catalogue has.');
});

it('says a sentence with a value in Japanese, the number formatted for Japanese', () => {
  expect(refusalKeyOf(MSG.atMostCharacters(1024))).toEqual({ key: 'refusal.atMostCharacters', vars: { n: '1024' } });
  expect(localiseRefusal(JA, MSG.atMostCharacters(1024))).toBe('1,024 文字以内で入力してください。');
});

it('chooses the plural form from the number, and says the next step inside a link refusal too', () => {
  expect(refusalKeyOf('Too many failed sign-in attempts. Try again in 1 minute, or reset your password.')?.key).toBe(
    'refusal.tooManySignIns',
  );
  expect(
    localiseRefusal(JA, 'Too many failed sign-in attempts. Try again in 15 minutes, or reset your password.'),
  ).toBe('ログインの失敗が多すぎます。15 分後にもう一度お試しいただくか、パスワードを再設定してください。');
  expect(localiseRefusal(JA, 'This link has expired. Ask for a new password reset link from the log in page.')).toBe(
    'このリンクは有効期限が切れています。ログインページから新しいパスワード再設定リンクを依頼してください。',
  );
});

it('says the Login As refusal of every step only the person may take, the step named in Japanese', () => {
  const steps = [
    ...fs
      .readFileSync(path.join(ROOT, 'src/account/account.ts'), 'utf8')
      .matchAll(/assertOwnerPresent\([^,]+, '([^']+)'\)/g),
  ]
    .concat([
      ...fs
        .readFileSync(path.join(ROOT, 'src/account/email-change.ts'), 'utf8')
        .matchAll(/assertOwnerPresent\([^,]+, '([^']+)'\)/g),
    ])
    .concat([
      ...fs
        .readFileSync(path.join(ROOT, 'src/signin/two-factor.ts'), 'utf8')
        .matchAll(/assertOwnerPresent\([^,]+, '([^']+)'\)/g),
    ])
    .map((m) => m[1]);
  expect(steps.length).toBeGreaterThanOrEqual(3);
  for (const step of new Set(steps)) {
    const said = localiseRefusal(
      JA,
      `${step} is for the user themselves, not during Login As. End Login As; the user can do it after signing in.`,
    );
    expect([step, /[A-Za-z]{3,}/.test(said.replace(/Login As/g, ''))]).toEqual([step, false]);
  }
});

it('leaves text it has no key for as it is (an already translated message, a name)', () => {
  expect(localiseRefusal(JA, 'このアドレスには何もありません。')).toBe('このアドレスには何もありません。');
  expect(localiseFields(JA, { email: MSG.enterValidEmail, x: 'Unknown.' })).toEqual({
    email: ja['refusal.enterValidEmail'],
    x: 'Unknown.',
  });
});

describe('the password policy', () => {
  beforeAll(() => warmPasswordPolicy());

  it.each([
    ['too short', 'short'],
    ['too common', 'password1234'],
    ['built from the name', 'alice.smith2024'],
  ])('says "%s" in Japanese', (_what, password) => {
    const problem = passwordProblem(password, ['Alice', 'Smith', 'alice.smith@example.com']);
    expect(problem).not.toBeNull();
    const said = localiseRefusal(JA, problem!);
    expect(said).not.toBe(problem);
    expect(said).toMatch(/[ぁ-んァ-ン一-龯]/);
  });
});

it('has no refusal key in English that is not also in Japanese', () => {
  const base = (k: string) => k.replace(/_(one|other)$/, '');
  const enKeys = new Set(
    Object.keys(en)
      .filter((k) => k.startsWith('refusal.'))
      .map(base),
  );
  const jaKeys = new Set(
    Object.keys(ja)
      .filter((k) => k.startsWith('refusal.'))
      .map(base),
  );
  expect([...enKeys].filter((k) => !jaKeys.has(k))).toEqual([]);
  expect(enKeys.size).toBeGreaterThan(80);
});
