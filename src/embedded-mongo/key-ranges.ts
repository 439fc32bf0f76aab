/**
 * Range reads over an index's string keys, multikey included: a prefix search such as
 * `{searchTerms: {$elemMatch: {$gte: 'ada', $lt: 'adb'}}}` on an index `{searchTerms: 1}` reads the ids
 * under the keys in ['ada', 'adb') instead of testing every document, as MongoDB's IXSCAN with bounds
 * ["ada", "adb") does. A document with several keys in the range (terms 'ada' and 'adam') comes out once.
 *
 * The index keeps its hash map (canonical key -> ids); this adds a sorted array of its distinct string
 * keys, built on first use and kept like the ordered views: new keys go to a small pending list merged in
 * at the next read, removed keys stay until half the array is stale (a read skips keys the map no longer
 * holds). Only indexes that do not fold strings (no collation) and hold every document qualify, and only
 * queries without a collation: the order is then plain code-unit order, the matcher's own, so the keys in
 * a range are exactly the values the query's comparisons accept and the candidates are a superset of the
 * matches (the caller still applies the whole filter).
 */
import type { Document } from 'bson';
import { isPlainObject, valuesAt } from './keys';

/** A range of string values; `upper` undefined means up to the last string. */
export interface StringRange { lower?: string; lowerInclusive: boolean; upper?: string; upperInclusive: boolean }

const STRING_PREFIX = 's:';
/** The first canonical key after every string ('s;' follows 's:' and every 's:...'). */
const AFTER_STRINGS = 's;';
const isStringKey = (k: string) => k.charCodeAt(0) === 115 && k.charCodeAt(1) === 58;

export class SortedKeys {
  private keys: string[] = [];
  private pending: string[] = [];
  private stale = 0;

  constructor(private readonly map: Map<string, string | Set<string>>) {
    for (const k of map.keys()) if (isStringKey(k)) this.pending.push(k);
  }

  /** A key the map did not hold before. */
  added(k: string): void {
    if (isStringKey(k)) this.pending.push(k);
  }

  /** A key the map no longer holds. */
  removed(k: string): void {
    if (isStringKey(k)) this.stale++;
  }

  private settle(): void {
    const compact = this.stale > this.keys.length / 2;
    if (this.pending.length === 0 && !compact) return;
    const fresh = this.pending.filter((k) => this.map.has(k)).sort();
    const old = compact ? this.keys.filter((k) => this.map.has(k)) : this.keys;
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    // A key removed then added again is both in `old` and `fresh`: keep one.
    const push = (k: string) => {
      if (merged.length === 0 || merged[merged.length - 1] !== k) merged.push(k);
    };
    while (i < old.length && j < fresh.length) push(old[i] <= fresh[j] ? old[i++] : fresh[j++]);
    while (i < old.length) push(old[i++]);
    while (j < fresh.length) push(fresh[j++]);
    this.keys = merged;
    this.pending = [];
    if (compact) this.stale = 0;
  }

  /** First position whose key is >= k (or > k when `after`). */
  private search(k: string, after: boolean): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const key = this.keys[mid];
      if (key < k || (after && key === k)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Positions [start, end) of the range's keys in the sorted array (some may be stale). */
  private span(range: StringRange): [number, number] {
    this.settle();
    const start = range.lower === undefined ? this.search(STRING_PREFIX, false) : this.search(STRING_PREFIX + range.lower, !range.lowerInclusive);
    const end = range.upper === undefined ? this.search(AFTER_STRINGS, false) : this.search(STRING_PREFIX + range.upper, range.upperInclusive);
    return [start, end];
  }

  /** The canonical keys the map holds within the range, in order. */
  keysIn(range: StringRange): string[] {
    const [start, end] = this.span(range);
    const out: string[] = [];
    for (let i = start; i < end; i++) if (this.map.has(this.keys[i])) out.push(this.keys[i]);
    return out;
  }

  /** How many index entries lie in the range, counting up to `cap` (then `cap + 1`): at most `cap` keys read. */
  count(range: StringRange, cap: number): number {
    const [start, end] = this.span(range);
    let n = 0;
    for (let i = start; i < end; i++) {
      const held = this.map.get(this.keys[i]);
      if (held === undefined) continue;
      n += typeof held === 'string' ? 1 : held.size;
      if (n > cap) return cap + 1;
    }
    return n;
  }

  /** The ids under the keys in the range, each once (one map read per key: this is the hot loop). */
  ids(range: StringRange): Set<string> {
    const [start, end] = this.span(range);
    const out = new Set<string>();
    for (let i = start; i < end; i++) {
      const held = this.map.get(this.keys[i]);
      if (held === undefined) continue;
      if (typeof held === 'string') out.add(held);
      else for (const id of held) out.add(id);
    }
    return out;
  }
}

const RANGE_OPS = ['$gt', '$gte', '$lt', '$lte'];

function narrow(range: StringRange, op: string, value: string): void {
  if (op === '$gt' || op === '$gte') {
    const inclusive = op === '$gte';
    if (range.lower === undefined || value > range.lower || (value === range.lower && !inclusive)) {
      range.lower = value;
      range.lowerInclusive = inclusive;
    }
  } else {
    const inclusive = op === '$lte';
    if (range.upper === undefined || value < range.upper || (value === range.upper && !inclusive)) {
      range.upper = value;
      range.upperInclusive = inclusive;
    }
  }
}

/**
 * Ranges of strings that `filter` requires some value of `field` to lie in, each one on its own a
 * necessary condition (a document outside it cannot match), from the top level and inside $and:
 * - `{$elemMatch: {$gte: a, $lt: b}}`: one element satisfies every comparison, so the bounds intersect;
 * - `{$gte: a, $lt: b}` without $elemMatch: on an array each comparison may hold for a different
 *   element (MongoDB's multikey rule), so each is a range of its own, open on the other side.
 * Comparisons with a non-string value (type bracketing: they never match a string) are not ranges here.
 */
export function stringRangesFor(filter: Document, field: string): StringRange[] {
  const out: StringRange[] = [];
  const visit = (f: Document) => {
    if (Array.isArray(f.$and)) for (const sub of f.$and) if (isPlainObject(sub)) visit(sub);
    if (!Object.prototype.hasOwnProperty.call(f, field)) return;
    const cond = f[field];
    if (!isPlainObject(cond)) return; // equality: the hash lookup serves it
    const elem = cond.$elemMatch;
    if (isPlainObject(elem) && Object.keys(elem).length && Object.keys(elem).every((k) => k.startsWith('$'))) {
      const range: StringRange = { lowerInclusive: false, upperInclusive: false };
      let bounded = false;
      let typed = true;
      for (const op of RANGE_OPS) {
        if (!(op in elem)) continue;
        if (typeof elem[op] !== 'string') typed = false;
        else {
          narrow(range, op, elem[op]);
          bounded = true;
        }
      }
      if (bounded && typed) out.push(range);
    }
    for (const op of RANGE_OPS) {
      if (typeof cond[op] !== 'string') continue;
      const range: StringRange = { lowerInclusive: false, upperInclusive: false };
      narrow(range, op, cond[op]);
      out.push(range);
    }
  };
  visit(filter);
  return out;
}

export function inRange(v: string, r: StringRange): boolean {
  if (r.lower !== undefined && (v < r.lower || (v === r.lower && !r.lowerInclusive))) return false;
  if (r.upper !== undefined && (v > r.upper || (v === r.upper && !r.upperInclusive))) return false;
  return true;
}

/** A cheap necessary test before the full filter: some string value of `field` lies in the range. */
export function mayMatch(doc: Document, field: string, range: StringRange): boolean {
  if (field.indexOf('.') < 0) {
    // The common case, without allocating: a top-level array of strings, or a string.
    const v = doc[field];
    if (typeof v === 'string') return inRange(v, range);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'string' && inRange(v[i], range)) return true;
      return false;
    }
    return false;
  }
  for (const v of valuesAt(doc, field)) if (typeof v === 'string' && inRange(v, range)) return true;
  return false;
}

/** MongoDB's explain spelling of a range: ["ada", "adb"). */
export function describeRange(r: StringRange): string {
  const lower = r.lower === undefined ? '""' : JSON.stringify(r.lower);
  const upper = r.upper === undefined ? '{}' : JSON.stringify(r.upper);
  return `${r.lowerInclusive || r.lower === undefined ? '[' : '('}${lower}, ${upper}${r.upperInclusive ? ']' : ')'}`;
}
