/** The search terms stored on each user and the words of a query (src/data/search-terms.ts). */
import { normalizeForSearch, prefixEnd, queryWords, searchTermsOf } from '../../../src/users/search-terms';

it('normalizes case, accents and letters without a decomposition', () => {
  expect(normalizeForSearch('ZOË Ñúñez')).toBe('zoe nunez');
  expect(normalizeForSearch('Straße Øster Łódź Æsir')).toBe('strasse oster lodz aesir');
});

it('makes terms of the name words, the addresses and their pieces, and the nickname, minus terms that start others', () => {
  const terms = searchTermsOf({
    firstName: 'Jean-Luc',
    lastName: 'de la Tour',
    email: 'JL.Tour+x@Example.com',
    username: 'jlt@corp.example',
    communityNickname: 'Captain JL',
  });
  expect(terms.sort()).toEqual(
    [
      'captain jl', // the nickname ("captain" starts it)
      'de',
      'jean-luc',
      'la',
      'luc',
      'tour', // "jean" starts "jean-luc"
      'jl.tour+x@example.com',
      'jlt@corp.example', // the addresses (their local parts start them)
      'x', // a piece of the local part ("jl" and "tour" start other terms)
    ].sort(),
  );
});

it('splits a query into distinct words, dropping words that a longer word of the query implies', () => {
  expect(queryWords('  Ada   LOVE ada ')).toEqual(['love', 'ada']);
  expect(queryWords('ad ada')).toEqual(['ada']);
  expect(queryWords('a b c d e f g h')).toHaveLength(6);
  expect(queryWords('   ')).toEqual([]);
});

it('ends a prefix range at the next string in both code-unit and code-point order', () => {
  expect(prefixEnd('ada')).toBe('adb');
  expect(prefixEnd('z')).toBe('{');
  expect(prefixEnd('a😀')).toBe('a😁');
  expect(prefixEnd('a\uffff')).toBeNull();
  expect(prefixEnd('a\ud7ff')).toBeNull();
});
