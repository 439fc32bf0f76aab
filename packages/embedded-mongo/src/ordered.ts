/**
 * Ordered views of a collection on one field, so a range + sort + limit query (a keyset page:
 * `{createdAt: {$lt: x}}`, sort `{createdAt: -1, _id: -1}`, limit 50) reads about `limit` documents
 * instead of scanning and sorting the whole collection.
 *
 * Writes only append to a small unsorted `pending` list (O(1)); the next query that uses the view
 * sorts that list and merges it in (O(n), a plain array merge). Each stored version of a document has
 * its own position in the store (doc-store.ts), so an entry whose position is no longer the stored
 * one is stale and is skipped, then dropped at the next merge: deletes and updates need no work at
 * write time. Entries hold the key and that position, never a decoded document; a walk decodes only
 * what it yields.
 */
import type { Document } from 'bson';
import { bsonCompare, type StringCompare } from './compare';
import { getField } from './fields';
import { isPlainObject } from './keys';

/**
 * One document's place in the view. A Date key is held as its time in ms (`time` set): a Date object
 * cost ~100 B per entry, most of a view of `createdAt` (issue 21, item 5).
 */
interface Entry {
  key: unknown;
  slot: number;
  version: number;
  time: boolean;
}

const keyOf = (e: Entry): unknown => (e.time ? new Date(e.key as number) : e.key);
const byNumber = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);

/** The value at a dotted path, or `multikey` when an array lies on the way (sort semantics differ). */
function readKey(doc: Document, path: string): { key: unknown; multikey: boolean } {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(cur)) return { key: undefined, multikey: true };
    if (cur === null || typeof cur !== 'object') return { key: undefined, multikey: false };
    cur = getField(cur, part);
  }
  return Array.isArray(cur) ? { key: undefined, multikey: true } : { key: cur, multikey: false };
}

export interface Bounds {
  lower?: { value: unknown; inclusive: boolean };
  upper?: { value: unknown; inclusive: boolean };
}

export class OrderedView {
  private entries: Entry[] = [];
  private pending: Entry[] = [];
  private stale = 0;
  /** Set when some document holds an array on the path: the view then declines to answer. */
  multikey = false;

  constructor(
    readonly path: string,
    private readonly strings: StringCompare,
    private readonly current: (slot: number) => number | undefined,
    private readonly read: (version: number) => Document,
  ) {}

  /** The document in a slot (doc-store.ts), stored as `version` (its position in the store). */
  add(slot: number, doc: Document, version: number): void {
    const { key, multikey } = readKey(doc, this.path);
    if (multikey) this.multikey = true;
    if (key instanceof Date) this.pending.push({ key: key.getTime(), slot, version, time: true });
    else this.pending.push({ key, slot, version, time: false });
  }

  /** Called when a stored version goes away (update or delete), to know when a rebuild pays off. */
  retire(): void {
    this.stale++;
  }

  private cmp = (a: Entry, b: Entry) =>
    (a.time && b.time ? byNumber(a.key as number, b.key as number) : bsonCompare(keyOf(a), keyOf(b), this.strings)) ||
    a.slot - b.slot;

  private settle(): void {
    if (this.pending.length === 0 && this.stale < this.entries.length / 2) return;
    const live = (e: Entry) => this.current(e.slot) === e.version;
    const fresh = this.pending.filter(live).sort(this.cmp);
    const old = this.stale ? this.entries.filter(live) : this.entries;
    const merged: Entry[] = new Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < fresh.length) merged[k++] = this.cmp(old[i], fresh[j]) <= 0 ? old[i++] : fresh[j++];
    while (i < old.length) merged[k++] = old[i++];
    while (j < fresh.length) merged[k++] = fresh[j++];
    this.entries = merged;
    this.pending = [];
    this.stale = 0;
  }

  /** First position whose key is >= value (or > value when `after`). */
  private search(value: unknown, after: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entries[mid];
      const c =
        e.time && value instanceof Date
          ? byNumber(e.key as number, value.getTime())
          : bsonCompare(keyOf(e), value, this.strings);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Live documents within the bounds in key order (descending when direction < 0), as a lazy walk so
   * the caller can stop early. Bounds are a superset filter: the caller still applies the full query.
   */
  *walk(bounds: Bounds, direction: number): Generator<{ key: unknown; doc: Document }> {
    this.settle();
    const start = bounds.lower ? this.search(bounds.lower.value, !bounds.lower.inclusive) : 0;
    const end = bounds.upper ? this.search(bounds.upper.value, bounds.upper.inclusive) : this.entries.length;
    const entries = this.entries;
    if (direction >= 0) {
      for (let i = start; i < end; i++)
        if (this.current(entries[i].slot) === entries[i].version)
          yield { key: keyOf(entries[i]), doc: this.read(entries[i].version) };
    } else {
      for (let i = end - 1; i >= start; i--)
        if (this.current(entries[i].slot) === entries[i].version)
          yield { key: keyOf(entries[i]), doc: this.read(entries[i].version) };
    }
  }
}

/** The bounds a filter puts on `field` by $eq/$gt/$gte/$lt/$lte at the top level or inside $and. */
export function boundsFor(filter: Document, field: string): Bounds | null {
  const out: Bounds = {};
  let found = false;
  const visit = (f: Document) => {
    if (Array.isArray(f.$and)) for (const sub of f.$and) if (sub && typeof sub === 'object') visit(sub as Document);
    if (!Object.prototype.hasOwnProperty.call(f, field)) return;
    const cond = f[field];
    const isOps = isPlainObject(cond) && Object.keys(cond).some((k) => k.startsWith('$'));
    const ops: Document = isOps ? cond : { $eq: cond };
    for (const [op, value] of Object.entries(ops)) {
      // null/regex/arrays/documents match in ways an order on scalar keys cannot bound.
      if (
        value === null ||
        value === undefined ||
        value instanceof RegExp ||
        Array.isArray(value) ||
        isPlainObject(value)
      )
        continue;
      if (op === '$eq' || op === '$gt' || op === '$gte') {
        const inclusive = op !== '$gt';
        if (!out.lower || bsonCompare(value, out.lower.value) > 0) out.lower = { value, inclusive };
        found = true;
      }
      if (op === '$eq' || op === '$lt' || op === '$lte') {
        const inclusive = op !== '$lt';
        if (!out.upper || bsonCompare(value, out.upper.value) < 0) out.upper = { value, inclusive };
        found = true;
      }
    }
  };
  visit(filter);
  return found ? out : null;
}
