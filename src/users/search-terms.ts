/**
 * What the user search matches, computed once per write rather than per search: each user stores
 * `searchTerms`, the normalized words of their names, their email and username (whole, their local part
 * and its pieces) and their nickname, under a multikey index. A search word matches a user when it is a
 * prefix of one of their terms; every word of the query must match (see user-search.ts).
 * Normalized means lower-cased with accents removed (NFD, then the combining marks dropped) and a few
 * letters without a decomposition spelled out (ß, æ, ø, ł...), so "zoe", "Zoë" and "ZOË" are one term.
 */

const LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };
const SPECIAL = /[ßæœøłđðþı]/g;

export function normalizeForSearch(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(SPECIAL, (c) => LETTERS[c])
    .normalize('NFC');
}

/** The fields the terms come from: a write that changes one of them must recompute the terms. */
export const SEARCH_SOURCE_FIELDS = ['firstName', 'lastName', 'email', 'username', 'communityNickname'] as const;

export interface SearchSource {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  username?: string | null;
  communityNickname?: string | null;
}

/** Words of a name: split on spaces, and hyphenated or apostrophed words also in pieces ("jean-luc", "jean", "luc"). */
function nameWords(value: string, out: Set<string>): void {
  for (const word of value.split(/\s+/)) {
    if (!word) continue;
    out.add(word);
    const pieces = word.split(/[-'’.]+/).filter(Boolean);
    if (pieces.length > 1) for (const p of pieces) out.add(p);
  }
}

/** An email-shaped value: whole, its local part, and the local part's pieces ("ada.lovelace" -> "ada", "lovelace"). */
function addressTerms(value: string, out: Set<string>): void {
  if (!value) return;
  out.add(value);
  const at = value.lastIndexOf('@');
  if (at <= 0) return;
  const local = value.slice(0, at);
  out.add(local);
  const pieces = local.split(/[._+-]+/).filter(Boolean);
  if (pieces.length > 1) for (const p of pieces) out.add(p);
}

export function searchTermsOf(u: SearchSource): string[] {
  const out = new Set<string>();
  nameWords(normalizeForSearch(u.firstName ?? ''), out);
  nameWords(normalizeForSearch(u.lastName ?? ''), out);
  addressTerms(normalizeForSearch(u.email ?? ''), out);
  addressTerms(normalizeForSearch(u.username ?? ''), out);
  const nickname = normalizeForSearch(u.communityNickname ?? '');
  if (nickname) {
    out.add(nickname);
    nameWords(nickname, out);
  }
  // A term that is the start of another term adds nothing a search could need ("ann" when the email is
  // "ann.lee@..."): dropping it makes the index smaller and a prefix range shorter to read. Sorted, a
  // term that starts another one is followed by one that starts with it.
  const sorted = [...out].sort();
  return sorted.filter((t, i) => !(i + 1 < sorted.length && sorted[i + 1].startsWith(t)));
}

/** At most this many words of a query are used (the rest would only narrow further). */
export const MAX_QUERY_WORDS = 6;

/** The words of a search query, normalized like the terms, longest first (the most selective). */
export function queryWords(q: string): string[] {
  const words = [...new Set(normalizeForSearch(q.slice(0, 100)).split(/\s+/).filter(Boolean))];
  // A word that is a prefix of another word of the query adds nothing the longer one does not require.
  const kept = words.filter((w) => !words.some((o) => o !== w && o.startsWith(w)));
  return kept.sort((a, b) => b.length - a.length).slice(0, MAX_QUERY_WORDS);
}

/**
 * The least string after every string that starts with `w`, the same in code-unit order (JavaScript,
 * the embedded engine) and in code-point order (MongoDB compares UTF-8 bytes): `w` with its last
 * character incremented. Null when that character has no such successor (U+D7FF, U+FFFF, U+10FFFF: the
 * next code point sorts differently in the two orders); the caller then matches the prefix otherwise.
 */
export function prefixEnd(w: string): string | null {
  const chars = [...w];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last === 0xd7ff || last === 0xffff || last === 0x10ffff) return null;
  return chars.join('') + String.fromCodePoint(last + 1);
}
