/**
 * The compact word lists answer exactly as zxcvbn's own objects do, so the password policy is unchanged:
 * every word of a real dictionary is found with its rank, near misses are not, and whole estimates of a
 * corpus of passwords (with user inputs) equal the stock estimator's.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import { compactDictionaries, compactRankedDictionary } from '../../../src/signin/compact-dictionaries';

const build = () =>
  new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
    l33tMaxSubstitutions: 4,
  });

const rankedOf = (words: readonly (string | number)[]) =>
  Object.fromEntries(words.map((w, i) => [String(w).toLowerCase(), i + 1])) as Record<string, number>;

describe('compactRankedDictionary', () => {
  const ranked = rankedOf(en.dictionary['lastnames-en']);
  const compact = compactRankedDictionary(ranked);

  it('finds every word of an 88k-word list with its rank', () => {
    const words = Object.keys(ranked);
    expect(words.length).toBeGreaterThan(50_000);
    const wrong = words.filter((w) => compact[w] !== ranked[w] || !(w in compact));
    expect(wrong).toEqual([]);
  });

  it('answers undefined for prefixes, extensions, other cases and strings not in the list', () => {
    const probes = ['', 'smit', 'smithx', 'SMITH', 'zzzzzzzzzz', 'ßmith', 'パスワード', 'a'.repeat(300)];
    for (const p of probes) expect([p, compact[p]]).toEqual([p, ranked[p]]);
    expect(compact.smith).toBe(ranked.smith);
    expect('smit' in compact).toBe('smit' in ranked);
    expect('smithqq' in compact).toBe(false);
  });

  it('refuses to list its words rather than answer an empty list', () => {
    expect(() => Object.keys(compact)).toThrow(/cannot list its words/);
  });
});

describe('compactDictionaries on the estimator', () => {
  const stock = build();
  const compacted = build();
  compactDictionaries(compacted);
  const corpus = [
    'violet-harbor-tractor-91',
    'password123',
    'Tr0ub4dour&3',
    'correcthorsebatterystaple',
    'p4ssw0rd!',
    'l3tm31n',
    'qwertyuiop',
    'JohnSmith1985',
    'drowssap',
    'Sunshine2024!',
    'ilovemydog',
    'München2020',
    'パスワード123',
    'aaaaaaaaaaaa',
    'dragon!dragon',
    'iloveyou3000',
    'Xk9#mQ2$vL7@',
    'alice.example.2024',
    'WashingtonSquarePark',
    'thompsonrodriguez',
  ];
  const strip = (r: object) => JSON.stringify({ ...r, calcTime: 0 });

  it('replaced the large dictionaries and kept none of the word arrays', () => {
    const options = (compacted as unknown as { options: { rankedDictionaries: object; dictionary: object } }).options;
    expect(() => Object.keys((options.rankedDictionaries as Record<string, object>)['lastnames-en'])).toThrow();
    expect(options.dictionary).toEqual({});
  });

  it.each(corpus)('estimates %s exactly as the stock estimator', (password) => {
    const inputs = ['alice', 'example', 'smith'];
    expect(strip(compacted.check(password, inputs))).toBe(strip(stock.check(password, inputs)));
  });
});
