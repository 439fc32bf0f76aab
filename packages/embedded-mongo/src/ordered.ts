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

const byNumber = (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0);
/** An entry's key: a Date is held as its time in ms (NaN when the key is not a valid Date). */
const keyOf = (key: unknown, time: number): unknown => (time === time ? new Date(time) : key);

/**
 * Entries as columns, not an object each (issue 21, item 5): an entry object and a Date key cost
 * ~150 B per document, most of a view of `createdAt` at a million users; columns cost ~28 B.
 * `keys` holds the key unless it is a Date, whose time is in `times` instead (NaN otherwise).
 */
interface Columns {
  keys: unknown[];
  times: Float64Array | number[];
  slots: Int32Array | number[];
  versions: Float64Array | number[];
}

const emptyColumns = (): Columns => ({ keys: [], times: [], slots: [], versions: [] });

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
  /** The sorted entries (typed columns, rebuilt by each merge). */
  private sorted: Columns = emptyColumns();
  /** New entries, unsorted, in growable columns. */
  private pending: Columns = emptyColumns();
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
    const time = key instanceof Date ? key.getTime() : NaN;
    const p = this.pending;
    p.keys.push(time === time ? undefined : key);
    (p.times as number[]).push(time);
    (p.slots as number[]).push(slot);
    (p.versions as number[]).push(version);
  }

  /** Called when a stored version goes away (update or delete), to know when a rebuild pays off. */
  retire(): void {
    this.stale++;
  }

  /** Entry i of a against entry j of b: by key, then by slot (any fixed order breaks ties). */
  private cmp(a: Columns, i: number, b: Columns, j: number): number {
    const ta = a.times[i];
    const tb = b.times[j];
    const c =
      ta === ta && tb === tb ? byNumber(ta, tb) : bsonCompare(keyOf(a.keys[i], ta), keyOf(b.keys[j], tb), this.strings);
    return c || a.slots[i] - b.slots[j];
  }

  private settle(): void {
    const old = this.sorted;
    const n = old.slots.length;
    const p = this.pending;
    if (p.slots.length === 0 && this.stale < n / 2) return;
    const live = (c: Columns, i: number) => this.current(c.slots[i]) === c.versions[i];
    const fresh: number[] = [];
    for (let j = 0; j < p.slots.length; j++) if (live(p, j)) fresh.push(j);
    fresh.sort((x, y) => this.cmp(p, x, p, y));
    const kept: number[] = [];
    for (let i = 0; i < n; i++) if (!this.stale || live(old, i)) kept.push(i);
    const size = kept.length + fresh.length;
    const out: Columns = {
      keys: new Array(size),
      times: new Float64Array(size),
      slots: new Int32Array(size),
      versions: new Float64Array(size),
    };
    const put = (k: number, c: Columns, i: number) => {
      out.keys[k] = c.keys[i];
      out.times[k] = c.times[i];
      out.slots[k] = c.slots[i];
      out.versions[k] = c.versions[i];
    };
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < kept.length && j < fresh.length)
      if (this.cmp(old, kept[i], p, fresh[j]) <= 0) put(k++, old, kept[i++]);
      else put(k++, p, fresh[j++]);
    while (i < kept.length) put(k++, old, kept[i++]);
    while (j < fresh.length) put(k++, p, fresh[j++]);
    this.sorted = out;
    this.pending = emptyColumns();
    this.stale = 0;
  }

  /** First position whose key is >= value (or > value when `after`). */
  private search(value: unknown, after: boolean): number {
    const { keys, times } = this.sorted;
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = times[mid];
      const c =
        t === t && value instanceof Date
          ? byNumber(t, value.getTime())
          : bsonCompare(keyOf(keys[mid], t), value, this.strings);
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
    const { keys, times, slots, versions } = this.sorted;
    const start = bounds.lower ? this.search(bounds.lower.value, !bounds.lower.inclusive) : 0;
    const end = bounds.upper ? this.search(bounds.upper.value, bounds.upper.inclusive) : slots.length;
    if (direction >= 0) {
      for (let i = start; i < end; i++)
        if (this.current(slots[i]) === versions[i])
          yield { key: keyOf(keys[i], times[i]), doc: this.read(versions[i]) };
    } else {
      for (let i = end - 1; i >= start; i--)
        if (this.current(slots[i]) === versions[i])
          yield { key: keyOf(keys[i], times[i]), doc: this.read(versions[i]) };
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
