/** Pure rules: alias and nickname derivation, locale parsing, the password policy and argon2 parameters. */
import argon2 from 'argon2';
import { deriveAlias, deriveNickname, normaliseUsername } from '../../../src/users/users';
import { localeFromAcceptLanguage } from '../../../src/shared/locale';
import {
  ARGON2_PARAMS,
  hashPassword,
  needsRehash,
  passwordProblem,
  verifyAgainstDummy,
  verifyPassword,
} from '../../../src/signin/passwords';

describe('derived user fields', () => {
  it.each([
    ['Ada', 'Lovelace', 'alovelac'],
    ['Zoë', "O'Brien-Smith", 'zobriens'],
    ['', 'X', 'x'],
    ['李', '王', 'user'],
  ])('alias of %s %s is %s (at most 8 characters)', (first, last, alias) => {
    expect(deriveAlias(first, last)).toBe(alias);
    expect(deriveAlias(first, last).length).toBeLessThanOrEqual(8);
  });

  it('takes the nickname from the email local part, cleaned', () => {
    expect(deriveNickname('Ada.Lovelace+portal@example.com')).toBe('Ada.Lovelaceportal');
    expect(deriveNickname('!!!@example.com')).toBe('member');
  });

  it('normalises usernames: trimmed and lower-cased', () => {
    expect(normaliseUsername('  Ada@Example.COM ')).toBe('ada@example.com');
  });
});

describe('locale from Accept-Language', () => {
  it.each([
    ['en-US,en;q=0.9', 'en_US'],
    ['fr', 'fr'],
    ['de;q=0.5, pt-BR;q=0.9', 'pt_BR'],
    ['*', 'en_US'],
    ['', 'en_US'],
    [undefined, 'en_US'],
    ['x'.repeat(600), 'en_US'],
    ['zh-Hant-TW', 'zh'],
  ])('%s -> %s', (header, locale) => {
    expect(localeFromAcceptLanguage(header)).toBe(locale);
  });
});

describe('password policy', () => {
  it.each([
    ['short', /at least 12 characters/],
    ['password12345', /too common/],
    ['qwertyuiopasdf', /too common/],
    ['adalovelace1815', /built from your name or email/],
    ['x'.repeat(257), /at most 256/],
  ])('refuses %s', (password, message) => {
    expect(passwordProblem(password, ['Ada', 'Lovelace', 'ada.lovelace@example.com'])).toMatch(message);
  });

  it.each(['correct horse battery staple', 'violet-harbor-tractor-91', 'Tr0ub4dor&3 plus more'])(
    'accepts %s (no composition rules)',
    (password) => {
      expect(passwordProblem(password, ['Ada', 'Lovelace', 'ada@example.com'])).toBeNull();
    },
  );
});

describe('argon2id hashing', () => {
  it('uses argon2id at or above OWASP parameters', async () => {
    expect(ARGON2_PARAMS.memoryCost).toBeGreaterThanOrEqual(19456);
    expect(ARGON2_PARAMS.timeCost).toBeGreaterThanOrEqual(2);
    const hash = await hashPassword('violet-harbor-tractor-91');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(await verifyPassword(hash, 'violet-harbor-tractor-91')).toBe(true);
    expect(await verifyPassword(hash, 'wrong')).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it('flags weaker hashes for rehash and never accepts a malformed one', async () => {
    const weak = await argon2.hash('x', { type: argon2.argon2id, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false);
    await expect(verifyAgainstDummy('anything')).resolves.toBe(false);
  });
});
