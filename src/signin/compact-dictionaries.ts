/**
 * zxcvbn's word lists in a compact form. zxcvbn-ts keeps each ranked dictionary as a plain object
 * (word -> rank) and its language packages keep the word arrays besides: 236k words, ~23 MB of heap in
 * every portal process, a ninth of its memory under sign-in load. Here each large dictionary becomes one
 * string of its sorted words with two typed arrays (where each word starts, its rank), ~8 MB for all,
 * looked up by binary search. zxcvbn reads a dictionary only as `dict[word]` (its Levenshtein option,
 * which lists every word, stays off: listing is refused below rather than answered wrong).
 * Estimates are identical to the stock ones (test/unit/signin/compact-dictionaries.test.ts); a check
 * costs a couple of milliseconds more, paid only where a password is chosen.
 */
import path from 'node:path';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/** Dictionaries this small stay plain objects: packing them saves nothing and costs lookups. */
const PACK_FROM_WORDS = 1000;

interface Packed {
  text: string;
  starts: Uint32Array;
  ranks: Uint32Array;
}

/** Sorted words end to end, where each starts (one extra entry: the end), and each one's rank. */
function pack(ranked: Record<string, number>): Packed {
  const words = Object.keys(ranked).sort();
  const starts = new Uint32Array(words.length + 1);
  const ranks = new Uint32Array(words.length);
  let at = 0;
  for (let i = 0; i < words.length; i++) {
    starts[i] = at;
    at += words[i].length;
    ranks[i] = ranked[words[i]];
  }
  starts[words.length] = at;
  return { text: words.join(''), starts, ranks };
}

/** The rank of `word`, or undefined: a binary search comparing in place (no substring per step). */
function rankIn({ text, starts, ranks }: Packed, word: string): number | undefined {
  let lo = 0;
  let hi = ranks.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const from = starts[mid];
    const length = starts[mid + 1] - from;
    const shared = Math.min(length, word.length);
    let order = 0;
    for (let k = 0; k < shared && order === 0; k++) order = text.charCodeAt(from + k) - word.charCodeAt(k);
    if (order === 0) order = length - word.length;
    if (order === 0) return ranks[mid];
    if (order < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * An object that answers `dict[word]` and `word in dict` as the plain ranked dictionary did. Built in a
 * function of its own so the closure holds only the packed form, not the words it was made from.
 */
export function compactRankedDictionary(ranked: Record<string, number>): Record<string, number> {
  const packed = pack(ranked);
  return new Proxy(Object.create(null) as Record<string, number>, {
    get: (_, key) => (typeof key === 'string' ? rankIn(packed, key) : undefined),
    has: (_, key) => typeof key === 'string' && rankIn(packed, key) !== undefined,
    ownKeys: () => {
      throw new Error('A compact dictionary cannot list its words (zxcvbn Levenshtein matching is not supported)');
    },
  });
}

/** The parts of zxcvbn-ts's Options (4.x) this file replaces; both are read only through `dict[word]`. */
interface RankedOptions {
  rankedDictionaries: Record<string, Record<string, number>>;
  dictionary: Record<string, unknown>;
}

/**
 * Replaces an estimator's large ranked dictionaries with compact ones, and drops the word arrays it kept
 * to build them (read only when dictionaries are rebuilt, which the portal never asks for).
 */
export function compactDictionaries(estimator: ZxcvbnFactory): void {
  const options = (estimator as unknown as { options: RankedOptions }).options;
  for (const [name, ranked] of Object.entries(options.rankedDictionaries))
    if (Object.keys(ranked).length >= PACK_FROM_WORDS)
      options.rankedDictionaries[name] = compactRankedDictionary(ranked);
  options.dictionary = {};
}

/**
 * Requires a package of data only (a zxcvbn language pack) and lets it go again: the module system
 * would otherwise hold its exports, the word arrays, for the life of the process, through its cache and
 * this module's list of children. A package some other code had already loaded is left as it is.
 */
export function requireDataOnce<T>(id: string): T {
  const main = require.resolve(id);
  if (require.cache[main]) return require(main) as T;
  const folder = path.dirname(main) + path.sep;
  const before = new Set(Object.keys(require.cache));
  const exports = require(main) as T;
  for (const file of Object.keys(require.cache))
    if (!before.has(file) && file.startsWith(folder)) delete require.cache[file];
  const here = require.cache[__filename];
  if (here) here.children = here.children.filter((child) => !child.id.startsWith(folder));
  return exports;
}
