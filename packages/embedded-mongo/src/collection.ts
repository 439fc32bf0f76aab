/**
 * One collection: documents by _id (as BSON bytes, doc-store.ts), and its indexes as hash tables from
 * a 32-bit hash of the canonical key to document ids (hash-ids.ts; a unique check verifies a candidate
 * against its stored document). Every method runs synchronously, so each command is atomic with
 * respect to every other connection.
 */
import { ObjectId, serialize, type Document } from 'bson';
import { canon, foldOf, isPlainObject, valuesAt, type Collation, type Fold } from './keys';
export { isPlainObject };
import { matcher } from './matcher';
import { DuplicateKeyError, badValue, indexOptionsConflict } from './errors';
import { OrderedView } from './ordered';
import { stringComparer } from './compare';
import { SortedEntries, isStringKey, stringRangesFor, type StringRange } from './key-ranges';
import { HashIds, fnv1a, type KeyHash } from './hash-ids';
import { DocStore } from './doc-store';

export interface IndexSpec {
  v?: number;
  key: Record<string, number | string>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
  collation?: Collation;
  [option: string]: unknown;
}

/** Where an index reads stored documents back (doc-store.ts): to verify hash candidates, to build range entries. */
export interface StoredDocs {
  at(slot: number, names?: ReadonlySet<string>): Document;
  idAt(slot: number): string;
  slotOf(id: string): number;
  slots(): Iterable<number>;
}

export class Index {
  readonly fields: string[];
  /** How the index folds strings (0: exact, 1: case, 2: case and accents). */
  readonly ci: Fold;
  /**
   * hash of canonical key -> slots of the documents that may hold it (hash-ids.ts: no key strings
   * kept). The _id index keeps none: the store's own id table (doc-store.ts) answers for it.
   */
  private readonly table = new HashIds();
  private readonly partial?: { test(doc: Document): boolean };
  /** Its string (key, document) pairs in order, for range reads (key-ranges.ts); built on first use. */
  private sorted?: SortedEntries;
  /** The top-level fields its keys are computed from (a partial decode of a stored document suffices). */
  private readonly names: ReadonlySet<string> | undefined;

  constructor(
    readonly spec: IndexSpec,
    private readonly stored: StoredDocs,
    private readonly hash: KeyHash = fnv1a,
  ) {
    this.fields = Object.keys(spec.key);
    this.ci = foldOf(spec.collation);
    if (spec.partialFilterExpression) this.partial = matcher(spec.partialFilterExpression);
    const top = [...this.fields, ...Object.keys(spec.partialFilterExpression ?? {})];
    this.names = top.some((f) => f.includes('$')) ? undefined : new Set(top.map((f) => f.split('.')[0]));
  }

  get name() {
    return this.spec.name;
  }
  get isId() {
    return this.name === '_id_';
  }

  /** The keys a document has in this index (several for arrays), or none when it is not indexed. */
  keysOf(doc: Document): string[] {
    if (this.partial && !this.partial.test(doc)) return [];
    if (this.spec.sparse && this.fields.every((f) => valuesAt(doc, f).every((v) => v === undefined))) return [];
    if (this.fields.length === 1) {
      const vals = valuesAt(doc, this.fields[0]);
      if (vals.length === 1) return [canon(vals[0], this.ci)];
      return [...new Set(vals.map((v) => canon(v, this.ci)))];
    }
    // Compound: the cartesian product of each field's values; one key when each field has one value.
    const single = this.singleValues(doc);
    if (single) return [single];
    let keys = [''];
    for (const f of this.fields) {
      const vals = [...new Set(valuesAt(doc, f).map((v) => canon(v, this.ci)))];
      keys = keys.flatMap((k) => vals.map((v) => (k ? `${k}\u0001${v}` : v)));
    }
    return keys;
  }

  /** A compound index's one key when every field holds a single value (the common case), else null. */
  private singleValues(doc: Document): string | null {
    let key = '';
    for (let i = 0; i < this.fields.length; i++) {
      const vals = valuesAt(doc, this.fields[i]);
      if (vals.length !== 1) return null;
      key = i === 0 ? canon(vals[0], this.ci) : `${key}\u0001${canon(vals[0], this.ci)}`;
    }
    return key;
  }

  /** The distinct hashes of some keys (two keys of one document may share one). */
  private hashesOf(keys: string[]): number[] {
    if (keys.length === 1) return [this.hash(keys[0])];
    return [...new Set(keys.map(this.hash))];
  }

  /** A new document's keys (or keys it did not hold before). `id` is read from the store when not given. */
  add(slot: number, keys: string[], id?: string) {
    if (!this.isId) for (const h of this.hashesOf(keys)) this.table.add(h, slot);
    if (this.sorted) for (const k of keys) this.sorted.insert(k, id ?? this.stored.idAt(slot));
  }

  /** All the keys a document holds, as it leaves the index. */
  remove(slot: number, keys: string[], id: string) {
    if (!this.isId) for (const h of this.hashesOf(keys)) this.table.remove(h, slot);
    if (this.sorted) for (const k of keys) this.sorted.delete(k, id);
  }

  /**
   * A document's keys changed from `before` to `after`: only the difference is written. The table
   * differs by hashes, not keys: a key that goes may share its hash with one that stays.
   */
  update(slot: number, id: string, before: string[], after: string[]) {
    if (before.length === after.length && before.every((k, i) => k === after[i])) return;
    if (!this.isId) {
      const hb = new Set(this.hashesOf(before));
      const ha = new Set(this.hashesOf(after));
      for (const h of hb) if (!ha.has(h)) this.table.remove(h, slot);
      for (const h of ha) if (!hb.has(h)) this.table.add(h, slot);
    }
    if (!this.sorted) return;
    const kept = new Set(after);
    const gone = new Set(before);
    for (const k of before) if (!kept.has(k)) this.sorted.delete(k, id);
    for (const k of after) if (!gone.has(k)) this.sorted.insert(k, id);
  }

  /** The slots that may hold a key: a superset (hashes collide); callers re-match the documents. */
  slotsAt(k: string): Iterable<number> {
    if (!this.isId) return this.table.get(this.hash(k));
    const slot = this.stored.slotOf(k); // an _id index key is the canonical id itself
    return slot < 0 ? [] : [slot];
  }

  /**
   * The first key that another document already holds in this unique index (`slot`: the document's
   * own, -1 for a new one). Slots under the same hash are checked against their stored documents:
   * only a real equal key conflicts, not a collision.
   */
  conflict(slot: number, keys: string[]): string | null {
    if (!this.spec.unique) return null;
    for (const k of keys) {
      for (const other of this.table.get(this.hash(k))) {
        if (other === slot) continue;
        if (this.keysOf(this.stored.at(other, this.names)).includes(k)) return k;
      }
    }
    return null;
  }

  /** Every (hash, id) pair of the table: what a restart must rebuild exactly. */
  *entries(): Generator<[number, string]> {
    if (this.isId) for (const slot of this.stored.slots()) yield [0, this.stored.idAt(slot)];
    else for (const [h, slot] of this.table.entries()) yield [h, this.stored.idAt(slot)];
  }

  /** Range reads need one field, unfolded strings, and every document in the index. */
  get servesRanges(): boolean {
    return this.fields.length === 1 && this.ci === 0 && !this.spec.partialFilterExpression && !this.spec.sparse;
  }

  /** The index's string keys with their ids, derived from the stored documents (the table keeps no keys). */
  stringKeys(): Map<string, string | Set<string>> {
    const map = new Map<string, string | Set<string>>();
    for (const slot of this.stored.slots()) {
      let id: string | undefined;
      for (const k of this.keysOf(this.stored.at(slot, this.names))) {
        if (!isStringKey(k)) continue;
        id ??= this.stored.idAt(slot);
        const held = map.get(k);
        if (held === undefined) map.set(k, id);
        else if (typeof held === 'string') map.set(k, new Set([held, id]));
        else held.add(id);
      }
    }
    return map;
  }

  sortedEntries(): SortedEntries {
    return (this.sorted ??= new SortedEntries(this.stringKeys()));
  }

  keyValue(doc: Document): Record<string, unknown> {
    return Object.fromEntries(this.fields.map((f) => [f, valuesAt(doc, f)[0] ?? null]));
  }
}

/** A string range of an index that a query can read, with its entries counted up to some cap. */
export interface RangeChoice {
  index: Index;
  field: string;
  range: StringRange;
  entries: number;
}

export const idKey = (id: unknown) => canon(id, false);

export function sameIndexSpec(a: IndexSpec, b: IndexSpec): boolean {
  const pick = (s: IndexSpec) =>
    JSON.stringify([
      s.key,
      !!s.unique,
      !!s.sparse,
      s.partialFilterExpression ?? null,
      s.expireAfterSeconds ?? null,
      s.collation?.locale ?? null,
      s.collation?.strength ?? null,
    ]);
  return pick(a) === pick(b);
}

export class Collection {
  readonly docs: DocStore;
  readonly indexes: Index[] = [];
  /** Ordered views by `path|collation`, built on first use by a range or sort query. */
  private readonly views = new Map<string, OrderedView>();
  constructor(
    readonly db: string,
    readonly name: string,
    readonly options: Document = {},
    /** The indexes' key hash: replaceable so tests can force collisions. */
    private readonly keyHash: KeyHash = fnv1a,
  ) {
    this.docs = new DocStore(keyHash);
    this.indexes.push(new Index({ v: 2, key: { _id: 1 }, name: '_id_' }, this.docs, keyHash));
  }

  get ns() {
    return `${this.db}.${this.name}`;
  }

  /** Throws DuplicateKeyError when `doc` (in `slot`, -1 when new) would collide in a unique index. */
  private checkUnique(slot: number, doc: Document): Map<Index, string[]> {
    const keysByIndex = new Map<Index, string[]>();
    for (const index of this.indexes) {
      const keys = index.keysOf(doc);
      keysByIndex.set(index, keys);
      if (index.spec.unique && index.conflict(slot, keys)) {
        throw new DuplicateKeyError(this.ns, index.name, index.spec.key, index.keyValue(doc));
      }
    }
    return keysByIndex;
  }

  /** Stores a new document and returns it as stored (_id first). */
  insert(doc: Document, raw?: Uint8Array): Document {
    // MongoDB stores _id first, whatever the order the client sent.
    if (doc._id === undefined) [doc, raw] = [{ _id: new ObjectId(), ...doc }, undefined];
    else if (Object.keys(doc)[0] !== '_id') [doc, raw] = [{ _id: doc._id, ...doc }, undefined];
    if (Array.isArray(doc._id)) throw badValue("can't use an array for _id");
    const id = idKey(doc._id);
    if (this.docs.has(id)) {
      const index = this.indexes[0];
      throw new DuplicateKeyError(this.ns, index.name, index.spec.key, { _id: doc._id });
    }
    const keys = this.checkUnique(-1, doc);
    // Bytes read from a snapshot or journal are the document as stored already: kept, not re-encoded.
    const slot = this.docs.insert(id, raw ?? serialize(doc));
    for (const [index, k] of keys) index.add(slot, k, id);
    this.dropViewsIfMoved();
    const version = this.docs.version(slot)!;
    for (const view of this.views.values()) view.add(slot, doc, version);
    return doc;
  }

  /** A document of the snapshot, as stored (see Engine.load: no lookups, no unique checks). */
  load(doc: Document, raw: Uint8Array): void {
    const id = idKey(doc._id);
    const slot = this.docs.insert(id, raw);
    for (const index of this.indexes) index.add(slot, index.keysOf(doc), id);
    this.dropViewsIfMoved();
  }

  /**
   * Replaces a stored document with its new version, keeping indexes right; refuses duplicates. An index
   * whose keys did not change is not touched (a sign-in's write leaves the search index alone).
   */
  replace(oldDoc: Document, newDoc: Document, raw?: Uint8Array): void {
    const id = idKey(oldDoc._id);
    const slot = this.docs.slotOf(id);
    if (slot < 0) throw new Error(`replace: no stored document ${id}`);
    // The old keys are still in place: conflict() ignores those held by this document alone.
    const newKeys = this.checkUnique(slot, newDoc);
    for (const [index, k] of newKeys) index.update(slot, id, index.keysOf(oldDoc), k);
    const version = this.docs.replace(slot, raw ?? serialize(newDoc));
    this.dropViewsIfMoved();
    for (const view of this.views.values()) {
      view.retire();
      view.add(slot, newDoc, version);
    }
  }

  remove(doc: Document): void {
    const id = idKey(doc._id);
    const slot = this.docs.slotOf(id);
    if (slot < 0) return;
    for (const index of this.indexes) index.remove(slot, index.keysOf(doc), id);
    this.docs.delete(slot);
    this.dropViewsIfMoved();
    for (const view of this.views.values()) view.retire();
  }

  private epoch = 0;
  /** The store moved its documents (reclaiming space): views hold old versions, so they are rebuilt on demand. */
  private dropViewsIfMoved(): void {
    if (this.docs.epoch === this.epoch) return;
    this.epoch = this.docs.epoch;
    this.views.clear();
  }

  getById(id: unknown): Document | undefined {
    return this.docs.get(idKey(id));
  }

  private keyFieldsCache?: Set<string> | null;
  /**
   * The top-level fields every index key (partial filters included) is computed from, or null when
   * some index needs more than a list of fields (a partial filter with a top-level operator, a
   * wildcard): what a partial read must decode for keysOf() to give the same keys.
   */
  keyFields(): Set<string> | null {
    if (this.keyFieldsCache !== undefined) return this.keyFieldsCache;
    const names = new Set<string>(['_id']);
    let all = false;
    for (const index of this.indexes) {
      const fields = [...index.fields, ...Object.keys(index.spec.partialFilterExpression ?? {})];
      for (const f of fields) {
        if (f.includes('$')) all = true;
        names.add(f.split('.')[0]);
      }
    }
    return (this.keyFieldsCache = all ? null : names);
  }

  createIndex(spec: IndexSpec): boolean {
    const sameName = this.indexes.find((i) => i.name === spec.name);
    const sameKey = this.indexes.find(
      (i) =>
        JSON.stringify(i.spec.key) === JSON.stringify(spec.key) &&
        JSON.stringify(i.spec.collation ?? null) === JSON.stringify(spec.collation ?? null),
    );
    if (sameName) {
      if (sameIndexSpec(sameName.spec, spec)) return false;
      throw indexOptionsConflict(
        `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
      );
    }
    if (sameKey) {
      if (sameIndexSpec(sameKey.spec, spec)) return false;
      throw indexOptionsConflict(
        `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameKey.spec)}`,
      );
    }
    const index = new Index({ v: 2, ...spec }, this.docs, this.keyHash);
    for (const slot of this.docs.slots()) {
      const doc = this.docs.at(slot);
      const keys = index.keysOf(doc);
      const dup = index.conflict(slot, keys);
      if (dup) throw new DuplicateKeyError(this.ns, index.name, index.spec.key, index.keyValue(doc));
      index.add(slot, keys);
    }
    this.indexes.push(index);
    this.keyFieldsCache = undefined;
    return true;
  }

  dropIndex(name: string): boolean {
    const i = this.indexes.findIndex((x) => x.name === name);
    if (i <= 0) return false;
    this.indexes.splice(i, 1);
    this.keyFieldsCache = undefined;
    this.views.clear(); // rebuilt on demand for the indexes that remain
    return true;
  }

  /**
   * An ordered view on `path` when an index leads with that field (as MongoDB needs an index to avoid
   * a scan and an in-memory sort), or null; also null once the field turned out to hold arrays.
   */
  orderedView(path: string, collation?: Collation): OrderedView | null {
    const indexed =
      path === '_id' ||
      this.indexes.some((i) => i.fields[0] === path && !i.spec.partialFilterExpression && !i.spec.sparse);
    if (!indexed) return null;
    const localized = Boolean(collation?.locale && collation.locale !== 'simple');
    const viewKey = `${path}|${localized ? `${collation?.locale}/${collation?.strength ?? 3}` : 'simple'}`;
    let view = this.views.get(viewKey);
    if (!view) {
      view = new OrderedView(
        path,
        stringComparer(localized ? collation : null),
        (slot) => this.docs.version(slot),
        this.docs.read,
      );
      // The view reads one field: decoding only its top-level field builds it several times faster.
      const top = new Set([path.split('.')[0]]);
      for (const slot of this.docs.slots()) view.add(slot, this.docs.at(slot, top), this.docs.version(slot)!);
      this.views.set(viewKey, view);
    }
    return view.multikey ? null : view;
  }

  /**
   * The string ranges the filter puts on the leading field of indexes that can read ranges (multikey
   * included), narrowest first, each with the number of index entries in it counted up to `cap` (then
   * cap + 1); empty when none applies (a collation on the query changes string order: no range then).
   */
  rangeChoices(filter: Document, collation: Collation | undefined, cap: number): RangeChoice[] {
    if (collation?.locale && collation.locale !== 'simple') return [];
    const out: RangeChoice[] = [];
    for (const index of this.indexes) {
      if (!index.servesRanges) continue;
      const field = index.fields[0];
      for (const range of stringRangesFor(filter, field))
        out.push({ index, field, range, entries: index.sortedEntries().count(range, cap) });
    }
    return out.sort((a, b) => a.entries - b.entries);
  }

  /**
   * Candidate documents for a filter: through an index when the filter pins every field of one with
   * equality (or $in), else every document. The caller still applies the full filter.
   */
  candidates(filter: Document, collation?: Collation): Iterable<Document> {
    return this.indexedCandidates(filter, collation) ?? this.docs.values();
  }

  /** The documents an equality index narrows the filter to, or null when no index applies. */
  indexedCandidates(filter: Document, collation?: Collation, used?: { index?: Index }): Document[] | null {
    const queryFold = foldOf(collation);
    let best: Set<number> | null = null;
    for (const index of this.indexes) {
      // An index that folds less than the query cannot serve it; one that folds more only widens the set.
      if (index.ci < queryFold) continue;
      const ids = this.lookup(index, filter);
      if (ids && (!best || ids.size < best.size)) {
        best = ids;
        if (used) used.index = index;
      }
      if (best && best.size <= 1) break;
    }
    if (!best) return null;
    const found: Document[] = [];
    for (const slot of best) found.push(this.docs.at(slot));
    return found;
  }

  private lookup(index: Index, filter: Document): Set<number> | null {
    if (index.spec.partialFilterExpression || index.spec.sparse) return null; // they do not hold every document
    const perField: unknown[][] = [];
    for (const f of index.fields) {
      const vals = equalityValues(filter, f);
      if (!vals) return null;
      perField.push(vals);
    }
    let keys = [''];
    for (const vals of perField) {
      const cs = vals.map((v) => canon(v, index.ci));
      keys = keys.flatMap((k) => cs.map((c) => (k ? `${k}\u0001${c}` : c)));
    }
    const slots = new Set<number>();
    for (const k of keys) for (const slot of index.slotsAt(k)) slots.add(slot);
    return slots;
  }
}

/** The values a filter pins `field` to by equality at the top level (or inside $and), if any. */
function equalityValues(filter: Document, field: string): unknown[] | null {
  if (Object.prototype.hasOwnProperty.call(filter, field)) {
    const v = filter[field];
    if (v === null || v === undefined) return null; // null also matches missing fields and arrays: scan
    if (v instanceof RegExp || Array.isArray(v)) return null;
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (
        keys.length === 1 &&
        keys[0] === '$eq' &&
        v.$eq !== null &&
        !(v.$eq instanceof RegExp) &&
        !Array.isArray(v.$eq) &&
        !isPlainObject(v.$eq)
      )
        return [v.$eq];
      if (
        keys.length === 1 &&
        keys[0] === '$in' &&
        Array.isArray(v.$in) &&
        v.$in.every((x: unknown) => x !== null && !(x instanceof RegExp) && !Array.isArray(x) && !isPlainObject(x))
      )
        return v.$in;
      return null;
    }
    return [v];
  }
  if (Array.isArray(filter.$and)) {
    for (const sub of filter.$and) {
      const vals = isPlainObject(sub) ? equalityValues(sub as Document, field) : null;
      if (vals) return vals;
    }
  }
  return null;
}
