/**
 * MongoDB's BSON comparison order, for sorts and ordered indexes. mingo compares unknown classes by
 * their string form, which orders Decimal128 and Long wrongly ("10" < "9") and puts ObjectIds after
 * dates; this follows the server's documented order instead:
 * MinKey < null/missing < numbers < strings < objects < arrays < binData < ObjectId < bool < date <
 * timestamp < regex < MaxKey. Numbers compare by value across int, double, long and decimal.
 */
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { intlLocale, type Collation } from './keys';
import { getField } from './fields';

export function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
  }
  if (v instanceof MinKey) return 0;
  if (v instanceof MaxKey) return 12;
  if (v instanceof Long || v instanceof Decimal128 || v instanceof Double || v instanceof Int32) return 2;
  if (v instanceof Date) return 9;
  if (v instanceof ObjectId) return 7;
  if (v instanceof Binary) return 6;
  if (v instanceof Timestamp) return 10;
  if (v instanceof RegExp) return 11;
  if (Array.isArray(v)) return 5;
  return 4;
}

export const toNumber = (v: unknown): number =>
  typeof v === 'number'
    ? v
    : v instanceof Long
      ? v.toNumber()
      : v instanceof Double || v instanceof Int32
        ? v.valueOf()
        : v instanceof Decimal128
          ? Number(v.toString())
          : Number(v);

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

function bytesCompare(a: Uint8Array, b: Uint8Array): number {
  return sign(
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ),
  );
}

export type StringCompare = (a: string, b: string) => number;
const binaryStrings: StringCompare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** A string comparison for a collation: ICU-like through Intl.Collator, or plain code-point order. */
export function stringComparer(collation?: Collation | null): StringCompare {
  if (!collation || !collation.locale || collation.locale === 'simple') return binaryStrings;
  const strength = collation.strength ?? 3;
  const sensitivity = strength <= 1 ? 'base' : strength === 2 ? 'accent' : 'variant';
  return new Intl.Collator(intlLocale(collation.locale), { sensitivity }).compare;
}

export function bsonCompare(a: unknown, b: unknown, strings: StringCompare = binaryStrings): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 1:
      return 0;
    case 2: {
      if (typeof a === 'number' && typeof b === 'number') return sign(a - b) || 0;
      return sign(toNumber(a) - toNumber(b)) || 0;
    }
    case 3:
      return sign(strings(a as string, b as string));
    case 4: {
      // Objects compare field by field: name first, then value, in stored order.
      const ea = Object.entries(a as object);
      const eb = Object.entries(b as object);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const byType = sign(typeRank(ea[i][1]) - typeRank(eb[i][1]));
        if (byType) return byType;
        const byName = binaryStrings(ea[i][0], eb[i][0]);
        if (byName) return byName;
        const byValue = bsonCompare(ea[i][1], eb[i][1], strings);
        if (byValue) return byValue;
      }
      return sign(ea.length - eb.length);
    }
    case 5: {
      const xa = a as unknown[];
      const xb = b as unknown[];
      for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
        const c = bsonCompare(xa[i], xb[i], strings);
        if (c) return c;
      }
      return sign(xa.length - xb.length);
    }
    case 6: {
      const ba = a as Binary;
      const bb = b as Binary;
      return sign(ba.length() - bb.length()) || sign(ba.sub_type - bb.sub_type) || bytesCompare(ba.buffer, bb.buffer);
    }
    case 7:
      return bytesCompare((a as ObjectId).id, (b as ObjectId).id);
    case 8:
      return sign(Number(a) - Number(b));
    case 9:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 10:
      return (a as Timestamp).compare(b as Timestamp);
    case 11:
      return binaryStrings(String(a), String(b));
    default:
      return 0;
  }
}

/** Reads a dotted path without descending into arrays of documents beyond what sort needs. */
function sortValues(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || typeof c !== 'object') continue;
      if (Array.isArray(c) && !/^\d+$/.test(part)) {
        for (const el of c) if (el && typeof el === 'object' && !Array.isArray(el)) next.push(getField(el, part));
      } else next.push(getField(c, part));
    }
    current = next;
  }
  return current;
}

/**
 * The key a document sorts by on one field: for arrays MongoDB uses the smallest element ascending and
 * the largest descending (an empty array sorts before null).
 */
export function sortKey(doc: unknown, path: string, direction: number, strings: StringCompare): unknown {
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && path.indexOf('.') < 0) {
    // The common case without allocating: a top-level field holding one value.
    const v = getField(doc, path);
    if (v !== undefined && !Array.isArray(v)) return v;
  }
  const raw = sortValues(doc, path);
  const flat: unknown[] = [];
  for (const v of raw) {
    if (Array.isArray(v)) {
      if (v.length === 0) flat.push(new MinKey());
      else for (const el of v) flat.push(el);
    } else flat.push(v);
  }
  if (flat.length === 0) return undefined;
  if (flat.length === 1) return flat[0];
  let best = flat[0];
  for (const v of flat.slice(1)) {
    const c = bsonCompare(v, best, strings);
    if (direction > 0 ? c < 0 : c > 0) best = v;
  }
  return best;
}

interface Keyed<T> {
  doc: T;
  i: number;
  keys: unknown[];
}

function keyedBy<T>(
  docs: T[],
  spec: Record<string, unknown>,
  collation?: Collation | null,
): { keyed: Keyed<T>[]; cmp: (x: Keyed<T>, y: Keyed<T>) => number } | null {
  const fields = Object.entries(spec).map(([path, dir]) => ({ path, dir: Number(dir) < 0 ? -1 : 1 }));
  if (fields.length === 0) return null;
  const strings = stringComparer(collation);
  const keyed = docs.map((doc, i) => ({ doc, i, keys: fields.map((f) => sortKey(doc, f.path, f.dir, strings)) }));
  const cmp = (x: Keyed<T>, y: Keyed<T>) => {
    for (let k = 0; k < fields.length; k++) {
      const c = bsonCompare(x.keys[k], y.keys[k], strings);
      if (c) return c * fields[k].dir;
    }
    return x.i - y.i;
  };
  return { keyed, cmp };
}

/** Sorts documents by a MongoDB sort spec (stable, like the server for equal keys in insertion order). */
export function sortDocuments<T>(docs: T[], spec: Record<string, unknown>, collation?: Collation | null): T[] {
  const by = keyedBy(docs, spec, collation);
  if (!by) return docs;
  return by.keyed.sort(by.cmp).map((k) => k.doc);
}

/**
 * The first `k` documents in sort order, as sortDocuments(docs).slice(0, k) returns them, keeping only
 * the best k in a sorted buffer (about one comparison per document instead of log n).
 */
export function firstSorted<T>(
  docs: T[],
  spec: Record<string, unknown>,
  collation: Collation | null | undefined,
  k: number,
): T[] {
  if (k >= docs.length) return sortDocuments(docs, spec, collation);
  const by = keyedBy(docs, spec, collation);
  if (!by) return docs.slice(0, k);
  const { keyed, cmp } = by;
  const top: Keyed<T>[] = [];
  for (const x of keyed) {
    if (top.length === k && cmp(x, top[k - 1]) >= 0) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(top[mid], x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    top.splice(lo, 0, x);
    if (top.length > k) top.pop();
  }
  return top.map((t) => t.doc);
}
