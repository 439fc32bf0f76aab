/**
 * Range reads over an index's string keys, multikey included: a prefix search such as
 * `{searchTerms: {$elemMatch: {$gte: 'ada', $lt: 'adb'}}}` on an index `{searchTerms: 1}` reads the ids
 * under the keys in ['ada', 'adb') instead of testing every document, as MongoDB's IXSCAN with bounds
 * ["ada", "adb") does. A document with several keys in the range (terms 'ada' and 'adam') comes out once.
 *
 * The index keeps its hash map (canonical key -> ids) for equality; this adds its string entries as
 * (key, document number) pairs in order, in a two-level B-tree: leaves of at most LEAF_MAX pairs, and
 * one sorted array of leaves. Every document in the tree has a small number (its ordinal), so a range is
 * read sequentially without a hash-map read per key, counted by leaf lengths, and several ranges (the
 * words of a search) are intersected on ordinals with one stamp array before any document is fetched.
 * Writes insert or remove one pair in one leaf (a leaf splits when full, and goes when empty); new
 * pairs wait in a list until the next read or delete, which inserts them one by one when they are few
 * and rebuilds the leaves by one merge when they are many (a bulk load). Built from the map on first
 * use, then kept by Index.add/remove. Only indexes that do not fold strings (no
 * collation) and hold every document qualify, and only queries without a collation: the order is then
 * plain code-unit order, the matcher's own, so the keys in a range are exactly the values the query's
 * comparisons accept and the candidates are a superset of the matches (the caller still applies the
 * whole filter).
 */
import type { Document } from 'bson';
import { isPlainObject, valuesAt } from './keys';
import { getField } from './fields';

/** A range of string values; `upper` undefined means up to the last string. */
export interface StringRange {
  lower?: string;
  lowerInclusive: boolean;
  upper?: string;
  upperInclusive: boolean;
}

const STRING_PREFIX = 's:';
export const isStringKey = (k: string) => k.charCodeAt(0) === 115 && k.charCodeAt(1) === 58;

/** Pairs per leaf at most; a full leaf splits in two halves. */
const LEAF_MAX = 256;
/** Leaves built from the map start this full, leaving room for inserts. */
const LEAF_FILL = 192;

interface Leaf {
  keys: string[];
  ords: number[];
}
/** A place in the tree: leaf number and position in it (position = length: after the leaf). */
type Place = [number, number];

/** (ka, oa) < (kb, ob) in (key, ordinal) order. */
const before = (ka: string, oa: number, kb: string, ob: number) => ka < kb || (ka === kb && oa < ob);

export class SortedEntries {
  private leaves: Leaf[] = [];
  /** Each leaf's last pair, beside the leaves: the search among leaves reads no leaf. */
  private lastKeys: string[] = [];
  private lastOrds: number[] = [];
  private readonly ordOf = new Map<string, number>();
  private idOf: (string | undefined)[] = [];
  /** Pairs each ordinal has in the tree; the ordinal is freed at zero. */
  private refs = new Int32Array(1024);
  private free: number[] = [];
  /** Per ordinal, the stamp of the last intersection step it passed (see intersect). */
  private marks = new Int32Array(1024);
  private epoch = 0;
  private size = 0;
  /** New pairs not yet in the leaves (see settle). */
  private pendingKeys: string[] = [];
  private pendingIds: string[] = [];

  constructor(map: Map<string, string | Set<string>>) {
    const keys: string[] = [];
    for (const k of map.keys()) if (isStringKey(k)) keys.push(k);
    keys.sort();
    let leaf: Leaf = { keys: [], ords: [] };
    const ords: number[] = [];
    for (const k of keys) {
      const held = map.get(k)!;
      ords.length = 0;
      if (typeof held === 'string') ords.push(this.acquire(held));
      else {
        for (const id of held) ords.push(this.acquire(id));
        ords.sort((a, b) => a - b);
      }
      for (const o of ords) {
        if (leaf.keys.length >= LEAF_FILL) {
          this.pushLeaf(leaf);
          leaf = { keys: [], ords: [] };
        }
        leaf.keys.push(k);
        leaf.ords.push(o);
        this.size++;
      }
    }
    if (leaf.keys.length) this.pushLeaf(leaf);
  }

  private pushLeaf(leaf: Leaf): void {
    this.leaves.push(leaf);
    this.lastKeys.push(leaf.keys[leaf.keys.length - 1]);
    this.lastOrds.push(leaf.ords[leaf.ords.length - 1]);
  }

  /** Refreshes the record of a leaf's last pair. */
  private setLast(li: number): void {
    const l = this.leaves[li];
    this.lastKeys[li] = l.keys[l.keys.length - 1];
    this.lastOrds[li] = l.ords[l.ords.length - 1];
  }

  /** Pairs in the tree. */
  get entries(): number {
    this.settle();
    return this.size;
  }

  /**
   * Puts the pending pairs in the leaves: one by one when few, else by merging them, sorted, with the
   * leaves into new leaves (one pass over the tree instead of a search and a splice per pair).
   */
  private settle(): void {
    const n = this.pendingKeys.length;
    if (n === 0) return;
    const keys = this.pendingKeys;
    const ids = this.pendingIds;
    this.pendingKeys = [];
    this.pendingIds = [];
    if (n <= Math.max(4096, this.size >>> 4)) {
      for (let i = 0; i < n; i++) this.insertNow(keys[i], ids[i]);
      return;
    }
    const fresh = Array.from({ length: n }, (_, i) => ({ k: keys[i], o: this.acquire(ids[i]) }));
    fresh.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.o - b.o));
    const old = this.leaves;
    this.leaves = [];
    this.lastKeys = [];
    this.lastOrds = [];
    let leaf: Leaf = { keys: [], ords: [] };
    const push = (k: string, o: number) => {
      const last = leaf.keys.length - 1;
      if (last >= 0 && leaf.keys[last] === k && leaf.ords[last] === o) {
        this.release(o); // held already (cannot happen through Index.add, which adds only new pairs)
        this.size--;
        return;
      }
      if (leaf.keys.length >= LEAF_FILL) {
        this.pushLeaf(leaf);
        leaf = { keys: [], ords: [] };
      }
      leaf.keys.push(k);
      leaf.ords.push(o);
    };
    let j = 0;
    for (const l of old) {
      for (let p = 0; p < l.keys.length; p++) {
        const k = l.keys[p];
        const o = l.ords[p];
        while (j < n && before(fresh[j].k, fresh[j].o, k, o)) {
          push(fresh[j].k, fresh[j].o);
          j++;
        }
        push(k, o);
      }
    }
    for (; j < n; j++) push(fresh[j].k, fresh[j].o);
    this.size += n;
    if (leaf.keys.length) this.pushLeaf(leaf);
  }

  /** The ordinal of a document (a new one, counted as one more pair, when it has none). */
  private acquire(id: string): number {
    let o = this.ordOf.get(id);
    if (o === undefined) {
      o = this.free.length ? this.free.pop()! : this.idOf.length;
      if (o === this.idOf.length) this.idOf.push(id);
      else this.idOf[o] = id;
      this.ordOf.set(id, o);
      if (o >= this.refs.length) {
        const grown = new Int32Array(this.refs.length * 2);
        grown.set(this.refs);
        this.refs = grown;
        const marks = new Int32Array(grown.length);
        marks.set(this.marks);
        this.marks = marks;
      }
    }
    this.refs[o]++;
    return o;
  }

  private release(o: number): void {
    if (--this.refs[o] > 0) return;
    this.ordOf.delete(this.idOf[o]!);
    this.idOf[o] = undefined;
    this.marks[o] = 0;
    this.free.push(o);
  }

  /** The first place holding a pair >= (k, o), or the end of the last leaf. */
  private place(k: string, o: number): Place {
    const leaves = this.leaves;
    if (leaves.length === 0) return [0, 0];
    // The first leaf whose last pair is >= (k, o).
    const lastKeys = this.lastKeys;
    const lastOrds = this.lastOrds;
    let lo = 0;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(lastKeys[mid], lastOrds[mid], k, o)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === leaves.length) return [lo - 1, leaves[lo - 1].keys.length];
    const l = leaves[lo];
    let a = 0;
    let b = l.keys.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (before(l.keys[mid], l.ords[mid], k, o)) a = mid + 1;
      else b = mid;
    }
    return [lo, a];
  }

  /** A pair the index gained (a string key only): listed, put in the leaves at the next read. */
  insert(k: string, id: string): void {
    if (!isStringKey(k)) return;
    this.pendingKeys.push(k);
    this.pendingIds.push(id);
  }

  private insertNow(k: string, id: string): void {
    const known = this.ordOf.get(id);
    let li = 0;
    let pi = 0;
    if (known !== undefined && this.leaves.length) {
      [li, pi] = this.place(k, known);
      const l = this.leaves[li];
      if (pi < l.keys.length && l.keys[pi] === k && l.ords[pi] === known) return; // already held
    }
    const o = this.acquire(id);
    if (this.leaves.length === 0) {
      this.pushLeaf({ keys: [k], ords: [o] });
      this.size++;
      return;
    }
    if (known === undefined) [li, pi] = this.place(k, o);
    const l = this.leaves[li];
    l.keys.splice(pi, 0, k);
    l.ords.splice(pi, 0, o);
    this.size++;
    if (pi === l.keys.length - 1) this.setLast(li);
    if (l.keys.length > LEAF_MAX) {
      const half = l.keys.length >>> 1;
      const right: Leaf = { keys: l.keys.splice(half), ords: l.ords.splice(half) };
      this.leaves.splice(li + 1, 0, right);
      this.lastKeys.splice(li + 1, 0, right.keys[right.keys.length - 1]);
      this.lastOrds.splice(li + 1, 0, right.ords[right.ords.length - 1]);
      this.setLast(li);
    }
  }

  /** A pair the index lost. */
  delete(k: string, id: string): void {
    if (!isStringKey(k)) return;
    this.settle();
    const o = this.ordOf.get(id);
    if (o === undefined || this.leaves.length === 0) return;
    const [li, pi] = this.place(k, o);
    const l = this.leaves[li];
    if (pi >= l.keys.length || l.keys[pi] !== k || l.ords[pi] !== o) return;
    l.keys.splice(pi, 1);
    l.ords.splice(pi, 1);
    this.size--;
    if (l.keys.length === 0) {
      this.leaves.splice(li, 1);
      this.lastKeys.splice(li, 1);
      this.lastOrds.splice(li, 1);
    } else if (pi === l.keys.length) this.setLast(li);
    this.release(o);
  }

  /** Places [start, end) of the range's pairs. */
  private span(range: StringRange): [Place, Place] {
    this.settle();
    const start: Place =
      range.lower === undefined
        ? [0, 0]
        : this.place(STRING_PREFIX + range.lower, range.lowerInclusive ? -1 : Infinity);
    const end: Place =
      range.upper === undefined
        ? this.endPlace()
        : this.place(STRING_PREFIX + range.upper, range.upperInclusive ? Infinity : -1);
    return [start, end];
  }

  private endPlace(): Place {
    const n = this.leaves.length;
    return n ? [n - 1, this.leaves[n - 1].keys.length] : [0, 0];
  }

  /** The pairs in the range, in order, as [key, id] (tests and small reads). */
  pairsIn(range: StringRange): [string, string][] {
    const out: [string, string][] = [];
    this.each(range, (o, k) => {
      out.push([k, this.idOf[o]!]);
    });
    return out;
  }

  /** Calls `fn` with the ordinal and key of each pair in the range, in order; stops when it returns false. */
  private each(range: StringRange, fn: (ord: number, key: string) => boolean | void): void {
    const [[li, pi], [lj, pj]] = this.span(range);
    for (let i = li; i <= lj && i < this.leaves.length; i++) {
      const l = this.leaves[i];
      const to = i === lj ? pj : l.keys.length;
      for (let p = i === li ? pi : 0; p < to; p++) if (fn(l.ords[p], l.keys[p]) === false) return;
    }
  }

  /** Index entries in the range, counted by leaf lengths up to `cap` (then `cap + 1`). */
  count(range: StringRange, cap: number): number {
    const [[li, pi], [lj, pj]] = this.span(range);
    if (li > lj) return 0;
    if (li === lj) return Math.min(cap + 1, Math.max(0, pj - pi));
    let n = this.leaves[li].keys.length - pi;
    for (let i = li + 1; i < lj && n <= cap; i++) n += this.leaves[i].keys.length;
    return Math.min(cap + 1, n + pj);
  }

  /** The ids under the keys in the range, each once. */
  ids(range: StringRange): string[] {
    return this.intersect([range]).ids;
  }

  /**
   * The ids of the documents with a pair in every range (each once), reading each range in order on
   * ordinals only: a document passes step i when it passed every step before (its stamp is base + i).
   * Ranges narrowest first is cheapest; it stops early once nothing passes. `examined`: pairs read.
   */
  intersect(ranges: StringRange[]): { ids: string[]; examined: number } {
    this.settle(); // before reading `marks`, which settling may grow
    if (this.epoch > 0x3fffff00 - ranges.length) {
      this.marks.fill(0);
      this.epoch = 0;
    }
    const base = this.epoch;
    this.epoch += ranges.length + 1;
    const marks = this.marks;
    const out: number[] = [];
    let examined = 0;
    for (let i = 0; i < ranges.length; i++) {
      const from = base + i; // stamp of those that passed every earlier range (any, for the first)
      const to = from + 1;
      const last = i === ranges.length - 1;
      let passed = 0;
      this.each(ranges[i], (o) => {
        examined++;
        const m = marks[o];
        if (m === to || (i > 0 && m !== from)) return;
        marks[o] = to;
        passed++;
        if (last) out.push(o);
      });
      if (passed === 0) break;
    }
    return { ids: out.map((o) => this.idOf[o]!), examined };
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
    const v = getField(doc, field);
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
