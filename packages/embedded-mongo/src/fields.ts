/**
 * Field access that sees only a document's own fields. Documents are plain JavaScript objects, where
 * `doc.__proto__` is Object.prototype, `doc.constructor` is Object and assigning `doc.__proto__` swaps
 * the prototype; in MongoDB those are ordinary field names. Every path the engine walks or writes goes
 * through these helpers, so no field name reaches a prototype (issue 21).
 */
import { DBRef, type Document } from 'bson';

const hasOwn = Object.prototype.hasOwnProperty;

export const hasField = (o: object, key: string): boolean => hasOwn.call(o, key);

/** The value of an own field (an array element for an index), or undefined. */
export function getField(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object' || !hasOwn.call(o, key)) return undefined;
  return (o as Document)[key];
}

/** Writes an own field; `__proto__` is defined as data, never run through the prototype setter. */
export function setField(o: object, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  else (o as Document)[key] = value;
}

/**
 * Names that the query and aggregation library (mingo) would read from Object.prototype or refuse
 * (`__proto__`): documents, filters and pipelines reach it with these keys renamed to an alias that
 * starts with a NUL character, which no BSON field name can hold, and results come back renamed.
 */
const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));
/**
 * A DBRef's fields: mingo would take `{$elemMatch: {$ref: 'users', $id: id}}` for operators, so they
 * are renamed the same way, and DBRef values (bson decodes `{$ref, $id}` documents to that class) are
 * seen as the plain documents they are in MongoDB.
 */
const DBREF_KEYS = new Set(['$ref', '$id', '$db']);
const isRenamed = (key: string) => RESERVED.has(key) || DBREF_KEYS.has(key);

/** `$ref`, `$id` and `$db` are field names (of a DBRef), not query operators. */
export const isOperatorKey = (key: string) => key.startsWith('$') && !DBREF_KEYS.has(key);

/** An element condition ($elemMatch, $pull) as a plain document: bson decodes `{$ref, $id}` to a DBRef. */
export const asCondition = (v: unknown): unknown => (v instanceof DBRef ? plainDBRef(v) : v);

/** A document element, DBRefs included, for conditions on an array's documents. */
export const isDocumentLike = (v: unknown) => v instanceof DBRef || isPlainDoc(v);

function plainDBRef(ref: DBRef): Document {
  const out: Document = { $ref: ref.collection, $id: ref.oid };
  if (ref.db) out.$db = ref.db;
  for (const [k, v] of Object.entries(ref.fields ?? {})) setField(out, k, v);
  return out;
}
const ALIAS_MARK = '\u0000';

const aliasOf = (key: string) => (isRenamed(key) ? ALIAS_MARK + key : key);
const aliasPath = (path: string) => (path.includes('.') ? path.split('.').map(aliasOf).join('.') : aliasOf(path));

/** The real name behind an alias (or the name itself). */
export const unaliased = (key: string) => (key.charCodeAt(0) === 0 && isRenamed(key.slice(1)) ? key.slice(1) : key);

/** An own field by its name or its alias (the matcher's operators read original documents with aliased paths). */
export function getFieldOrAliased(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object') return undefined;
  if (hasOwn.call(o, key)) return (o as Document)[key];
  const real = unaliased(key);
  return real !== key && hasOwn.call(o, real) ? (o as Document)[real] : undefined;
}

function hasReservedKey(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 200) return false;
  if (v instanceof DBRef) return true;
  if (Array.isArray(v)) return v.some((x) => hasReservedKey(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k of Object.keys(v)) if (isRenamed(k) || hasReservedKey((v as Document)[k], depth + 1)) return true;
  return false;
}

/** Renames object keys (and, with `strings`, `$path` strings) so no reserved name reaches mingo; the same value when none occurs. */
function rename(v: unknown, keys: (k: string) => string, strings: ((s: string) => string) | null): unknown {
  if (typeof v === 'string') return strings ? strings(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => rename(x, keys, strings));
  if (v instanceof DBRef) return rename(plainDBRef(v), keys, strings);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v; // BSON values (ObjectId, Date...) stay as they are
  const out: Document = {};
  for (const k of Object.keys(v)) setField(out, keys(k), rename((v as Document)[k], keys, strings));
  return out;
}

/** `$a.constructor.b` and `$$ROOT.__proto__` as mingo must see them. */
function aliasExpressionString(s: string): string {
  if (s.charCodeAt(0) !== 36 /* $ */ || (!s.includes('.') && !RESERVED.has(s.slice(1)))) return s;
  const parts = s.split('.');
  const head = parts[0].startsWith('$$') ? parts[0] : `$${aliasOf(parts[0].slice(1))}`;
  return [head, ...parts.slice(1).map(aliasOf)].join('.');
}

/** A document (or documents) as mingo must see it. */
export function aliasDocument<T>(doc: T): T {
  return hasReservedKey(doc) ? (rename(doc, aliasOf, null) as T) : doc;
}

/** A query filter as mingo must see it: field paths renamed, and `$path` strings inside $expr. */
export function aliasFilter(filter: Document): Document {
  if (!mentionsReserved(filter)) return filter;
  const walk = (f: unknown): unknown => {
    if (Array.isArray(f)) return f.map(walk);
    if (f instanceof DBRef) return walk(plainDBRef(f));
    if (!isPlainDoc(f)) return f;
    const out: Document = {};
    for (const [k, v] of Object.entries(f)) {
      if (k === '$expr' || k === '$where') setField(out, k, rename(v, aliasOf, aliasExpressionString));
      else setField(out, k.startsWith('$') && !DBREF_KEYS.has(k) ? k : aliasPath(k), walk(v));
    }
    return out;
  };
  return walk(filter) as Document;
}

/** String options of stages that name fields without a `$`. */
const FIELD_NAME_OPTIONS = new Set([
  'localField',
  'foreignField',
  'as',
  'includeArrayIndex',
  'connectFromField',
  'connectToField',
  'depthField',
]);

/** A pipeline as mingo must see it: keys and `$path` strings renamed ($match stages as filters). */
export function aliasPipeline(pipeline: Document[]): Document[] {
  if (!mentionsReserved(pipeline)) return pipeline;
  return pipeline.map((stage) => {
    const [name, spec] = Object.entries(stage)[0] ?? [];
    if (name === undefined) return stage;
    let renamed: unknown;
    if (name === '$match' && isPlainDoc(spec)) renamed = aliasFilter(spec);
    else if ((name === '$unset' || name === '$count') && (typeof spec === 'string' || Array.isArray(spec)))
      renamed = rename(spec, aliasPath, aliasPath);
    else {
      renamed = rename(spec, aliasPath, aliasExpressionString);
      if (isPlainDoc(renamed))
        for (const opt of FIELD_NAME_OPTIONS)
          if (typeof renamed[opt] === 'string') renamed[opt] = aliasPath(renamed[opt]);
    }
    const out: Document = {};
    setField(out, name, renamed);
    return out;
  });
}

/** Results from mingo with their real field names back. */
export function unaliasDocuments(docs: Document[]): Document[] {
  return docs.map((d) => (hasAlias(d) ? (rename(d, unaliased, null) as Document) : d));
}

function hasAlias(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object' || depth > 200) return false;
  if (Array.isArray(v)) return v.some((x) => hasAlias(x, depth + 1));
  for (const k of Object.keys(v)) if (k.charCodeAt(0) === 0 || hasAlias((v as Document)[k], depth + 1)) return true;
  return false;
}

const isPlainDoc = (v: unknown): v is Document =>
  v !== null &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(v));

/** Whether any key or string names a reserved field (cheap exit for the usual filter or pipeline). */
function mentionsReserved(v: unknown, depth = 0): boolean {
  if (typeof v === 'string')
    return v.startsWith('$')
      ? v.split('.').some((p, i) => RESERVED.has(i === 0 ? p.replace(/^\$+/, '') : p))
      : v.split('.').some((p) => RESERVED.has(p));
  if (v === null || typeof v !== 'object' || depth > 200) return false;
  if (v instanceof DBRef) return true;
  if (Array.isArray(v)) return v.some((x) => mentionsReserved(x, depth + 1));
  if (!isPlainDoc(v)) return false;
  for (const k of Object.keys(v)) if (k.split('.').some(isRenamed) || mentionsReserved(v[k], depth + 1)) return true;
  return false;
}
