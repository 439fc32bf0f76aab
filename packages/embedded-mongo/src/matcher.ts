/**
 * Query matching through mingo, with the parts MongoDB has and mingo lacks:
 * - $type knows BSON types (objectId, decimal, long, binData...), which partial indexes rely on;
 * - a case-insensitive collation (strength 1 or 2) makes string comparisons ignore case;
 * - Decimal128 and Long compare by numeric value (mingo would compare their string forms), by matching
 *   against a view of the document where they are plain numbers.
 */
import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import { Context } from 'mingo';
import { Query } from 'mingo/query';
import * as queryOperators from 'mingo/operators/query';
import * as expressionOperators from 'mingo/operators/expression';
import * as projectionOperators from 'mingo/operators/projection';
import { foldOf, foldString, isPlainObject, type Collation, type Fold } from './keys';
import { bsonCompare, toNumber, typeRank } from './compare';
import { MongoCommandError, asMongoError, badValue } from './errors';
import { aliasDocument, aliasFilter, getFieldOrAliased } from './fields';

const TYPE_ALIASES: Record<string, string> = {
  '-1': 'minKey',
  127: 'maxKey',
  13: 'javascript',
  1: 'double',
  2: 'string',
  3: 'object',
  4: 'array',
  5: 'binData',
  7: 'objectId',
  8: 'bool',
  9: 'date',
  10: 'null',
  11: 'regex',
  16: 'int',
  17: 'timestamp',
  18: 'long',
  19: 'decimal',
  bool: 'bool',
  boolean: 'bool',
};

export function bsonTypes(v: unknown): string[] {
  if (v === null) return ['null'];
  if (v === undefined) return [];
  if (typeof v === 'string') return ['string'];
  if (typeof v === 'boolean') return ['bool'];
  if (typeof v === 'number')
    return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && !Object.is(v, -0)
      ? ['int', 'number']
      : ['double', 'number'];
  if (v instanceof Double) return ['double', 'number'];
  if (v instanceof Int32) return ['int', 'number'];
  if (v instanceof ObjectId) return ['objectId'];
  if (v instanceof Date) return ['date'];
  if (v instanceof Decimal128) return ['decimal', 'number'];
  if (v instanceof Long) return ['long', 'number'];
  if (v instanceof Binary) return ['binData'];
  if (v instanceof Timestamp) return ['timestamp'];
  if (v instanceof RegExp) return ['regex'];
  if (Array.isArray(v)) return ['array'];
  return ['object'];
}

function typeMatches(value: unknown, wanted: unknown): boolean {
  const name = TYPE_ALIASES[String(wanted)] ?? String(wanted);
  return bsonTypes(value).includes(name);
}

/**
 * The values a path reaches, as MongoDB's matcher sees them: each value itself and, when it is an
 * array, each of its elements (so `{tags: 'x'}` and `{tags: ['x', 'y']}` both match a tags array).
 */
function candidatesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || c === undefined || typeof c !== 'object') {
        next.push(undefined);
        continue;
      }
      if (Array.isArray(c) && !/^\d+$/.test(part)) {
        let any = false;
        for (const el of c) {
          if (el && typeof el === 'object' && !Array.isArray(el)) {
            next.push(getFieldOrAliased(el, part));
            any = true;
          }
        }
        if (!any) next.push(undefined);
      } else next.push(getFieldOrAliased(c, part));
    }
    current = next;
  }
  const out: unknown[] = [];
  for (const v of current) {
    out.push(v);
    if (Array.isArray(v)) for (const el of v) out.push(el);
  }
  return out;
}

const docOf = (view: Document) => originals.get(view) ?? view;

const $type = (selector: string, spec: unknown) => (view: Document) => {
  const doc = docOf(view);
  const wanted = Array.isArray(spec) ? spec : [spec];
  // Like MongoDB, an array field matches when the array itself or one of its elements has the type.
  return candidatesAt(doc, selector).some((v) => wanted.some((w) => typeMatches(v, w)));
};

/** Equality as MongoDB has it: BSON order (numbers by value, documents field by field in order). */
function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (b instanceof RegExp)
    return typeof a === 'string'
      ? new RegExp(b.source, b.flags).test(a)
      : a instanceof RegExp && String(a) === String(b);
  return bsonCompare(a, b) === 0;
}

const $eq = (selector: string, value: unknown) => (view: Document) =>
  candidatesAt(view, selector).some((v) => equals(v, value));
const $ne = (selector: string, value: unknown) => (view: Document) =>
  !candidatesAt(view, selector).some((v) => equals(v, value));

function checkArray(op: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw badValue(`${op} needs an array`);
  return value;
}

const isObjectId = (v: unknown): v is ObjectId => (v as { _bsontype?: unknown } | null)?._bsontype === 'ObjectId';

/**
 * Whether a value equals one of a list's. ObjectIds go through a set of their hex strings: a bulk job's
 * `_id: {$in: [1,000 ids]}` tested each of its 1,000 candidates against the whole list (a million
 * comparisons a batch, most of the engine's time during an ingest). An ObjectId equals only an ObjectId
 * (BSON order has a bracket per type), so the other values are still compared one by one.
 */
function membership(list: unknown[]): (v: unknown) => boolean {
  const ids = new Set<string>();
  const rest: unknown[] = [];
  for (const x of list) {
    if (isObjectId(x)) ids.add(x.toHexString());
    else rest.push(x);
  }
  if (ids.size < 8) return (v) => list.some((x) => equals(v, x));
  return (v) => (isObjectId(v) ? ids.has(v.toHexString()) : rest.some((x) => equals(v, x)));
}

const $in = (selector: string, value: unknown) => {
  const has = membership(checkArray('$in', value));
  return (view: Document) => candidatesAt(view, selector).some(has);
};
const $nin = (selector: string, value: unknown) => {
  const has = membership(checkArray('$nin', value));
  return (view: Document) => !candidatesAt(view, selector).some(has);
};

/** Range operators compare within one type bracket only (numbers with numbers, strings with strings...). */
const range = (test: (c: number) => boolean) => (selector: string, value: unknown) => (view: Document) => {
  const rank = typeRank(value);
  return candidatesAt(view, selector).some((v) => {
    if (typeRank(v) !== rank) return false;
    if (rank === 1 && v === undefined && value !== undefined) return test(0); // missing sorts as null
    return test(bsonCompare(v, value));
  });
};

function $all(selector: string, value: unknown, options: unknown) {
  const list = checkArray('$all', value);
  const elemMatches = list.filter((x) => isPlainObject(x) && '$elemMatch' in x);
  const plain = list.filter((x) => !(isPlainObject(x) && '$elemMatch' in x));
  const viaMingo = elemMatches.length
    ? (queryOperators.$all as unknown as (s: string, v: unknown, o: unknown) => (d: Document) => boolean)(
        selector,
        elemMatches,
        options,
      )
    : null;
  return (view: Document) => {
    if (list.length === 0) return false;
    // A field that is not an array matches as a one-element array.
    const vals = candidatesAt(view, selector);
    if (!plain.every((x) => vals.some((v) => equals(v, x)))) return false;
    return viaMingo ? viaMingo(view) : true;
  };
}

/** The bit positions a $bits* operator names: a list of positions, a number mask or a BinData mask. */
function bitPositions(op: string, spec: unknown): number[] {
  if (Array.isArray(spec)) {
    if (!spec.every((p) => typeof p === 'number' && Number.isInteger(p) && p >= 0))
      throw badValue(`bit positions must be non-negative integers in ${op}`);
    return spec as number[];
  }
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0) throw badValue(`${op} takes a non-negative integer mask`);
    const out: number[] = [];
    for (let bit = 0, n = BigInt(spec); n > 0n; bit++, n >>= 1n) if (n & 1n) out.push(bit);
    return out;
  }
  if (spec instanceof Binary) {
    const bytes = spec.buffer;
    const out: number[] = [];
    for (let i = 0; i < spec.length(); i++) for (let b = 0; b < 8; b++) if ((bytes[i] >> b) & 1) out.push(i * 8 + b);
    return out;
  }
  throw badValue(`${op} takes an array of bit positions, a number or BinData`);
}

/** Reads one bit of an integral number (two's complement, 64 bits) or of BinData; null when it has no bits. */
function bitReader(v: unknown): ((p: number) => boolean) | null {
  if (v instanceof Binary) {
    const bytes = v.buffer;
    const len = v.length();
    return (p) => p >> 3 < len && ((bytes[p >> 3] >> (p & 7)) & 1) === 1;
  }
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return null;
    n = BigInt(v);
  } else if (v instanceof Long) n = v.toBigInt();
  else if (typeof v === 'bigint') n = v;
  else return null;
  const bits = BigInt.asUintN(64, n);
  return (p) => (p >= 64 ? n < 0n : ((bits >> BigInt(p)) & 1n) === 1n);
}

const bits =
  (op: string, test: (read: (p: number) => boolean, positions: number[]) => boolean) =>
  (selector: string, spec: unknown) => {
    const positions = bitPositions(op, spec);
    return (view: Document) =>
      candidatesAt(docOf(view), selector).some((v) => {
        const read = bitReader(v);
        return read !== null && test(read, positions);
      });
  };

// mingo's base Query with every operator, our $type first (in a merged context the first one wins).
const BSON_CONTEXT = Context.init({
  query: {
    ...queryOperators,
    $type,
    $eq,
    $ne,
    $in,
    $nin,
    $all,
    $gt: range((c) => c > 0),
    $gte: range((c) => c >= 0),
    $lt: range((c) => c < 0),
    $lte: range((c) => c <= 0),
    $bitsAllSet: bits('$bitsAllSet', (read, ps) => ps.every(read)),
    $bitsAnySet: bits('$bitsAnySet', (read, ps) => ps.some(read)),
    $bitsAllClear: bits('$bitsAllClear', (read, ps) => ps.every((p) => !read(p))),
    $bitsAnyClear: bits('$bitsAnyClear', (read, ps) => ps.some((p) => !read(p))),
    $where: () => {
      throw badValue('$where is not supported by the embedded engine (server-side JavaScript is disabled)');
    },
    $text: () => {
      throw new MongoCommandError(
        27,
        'IndexNotFound',
        'text index required for $text query (the embedded engine has no text indexes)',
      );
    },
    $near: geo('$near'),
    $nearSphere: geo('$nearSphere'),
    $geoWithin: geo('$geoWithin'),
    $geoIntersects: geo('$geoIntersects'),
  } as never,
  expression: expressionOperators as never,
  projection: projectionOperators as never,
});

function geo(op: string) {
  return () => {
    throw new MongoCommandError(
      291,
      'NoQueryExecutionPlans',
      `unable to find index for ${op} query (the embedded engine has no geospatial indexes)`,
    );
  };
}

/** Folds every string value (not keys, not regexes) for a collation of strength 1 or 2. */
function fold(value: unknown, level: Fold): unknown {
  if (typeof value === 'string') return foldString(value, level);
  if (Array.isArray(value)) return value.map((v) => fold(v, level));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fold(v, level)]));
  return value;
}

const isWrappedNumber = (v: unknown) =>
  v instanceof Decimal128 || v instanceof Long || v instanceof Double || v instanceof Int32;

function hasWrappedNumbers(v: unknown): boolean {
  if (isWrappedNumber(v)) return true;
  if (Array.isArray(v)) return v.some(hasWrappedNumbers);
  if (isPlainObject(v)) {
    for (const k in v) if (hasWrappedNumbers(v[k])) return true;
  }
  return false;
}

function unwrapNumbers(v: unknown): unknown {
  if (isWrappedNumber(v)) return toNumber(v);
  if (Array.isArray(v)) return v.map(unwrapNumbers);
  if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapNumbers(x)]));
  return v;
}

// Stored documents are never mutated (updates store a new object), so their numeric views can be cached.
const views = new WeakMap<Document, Document | null>();
const originals = new WeakMap<Document, Document>();

/**
 * The document as the query sees it: itself, or a copy with Decimal128/Long as numbers and fields
 * named like Object.prototype's properties renamed (fields.ts), which mingo would otherwise not see.
 */
export function numericView(doc: Document): Document {
  let view = views.get(doc);
  if (view === undefined) {
    const numbers = hasWrappedNumbers(doc) ? (unwrapNumbers(doc) as Document) : doc;
    const named = aliasDocument(numbers);
    view = named === doc ? null : named;
    views.set(doc, view);
    if (view) originals.set(view, doc);
  }
  return view ?? doc;
}

export interface Matcher {
  test(doc: Document): boolean;
}

export function matcher(filter: Document | undefined, collation?: Collation): Matcher {
  let f = filter ?? {};
  if (isPlainObject(f)) f = aliasFilter(f);
  if (hasWrappedNumbers(f)) f = unwrapNumbers(f) as Document;
  const level = foldOf(collation);
  if (level) {
    const q = compile(fold(f, level) as Document);
    return {
      test: (doc) => {
        const view = fold(numericView(doc), level) as Document;
        originals.set(view, doc);
        return q.test(view);
      },
    };
  }
  const q = compile(f);
  return { test: (doc) => q.test(numericView(doc)) };
}

/** $and, $or and $nor take a non-empty array of objects (mingo would accept an empty one); $text and $where are refused. */
function checkLogical(filter: Document): void {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$text')
      throw new MongoCommandError(
        27,
        'IndexNotFound',
        'text index required for $text query (the embedded engine has no text indexes)',
      );
    if (k === '$where')
      throw badValue('$where is not supported by the embedded engine (server-side JavaScript is disabled)');
    if (k !== '$and' && k !== '$or' && k !== '$nor') continue;
    if (!Array.isArray(v) || v.length === 0) throw badValue(`${k} argument must be a non-empty array`);
    for (const sub of v) {
      if (!isPlainObject(sub)) throw badValue(`${k} argument's entries must be objects`);
      checkLogical(sub);
    }
  }
}

/** A mingo Query over the engine's operators; a malformed filter fails as MongoDB's BadValue (2). */
function compile(filter: Document): Query {
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  checkLogical(filter);
  try {
    return new Query(filter, { context: BSON_CONTEXT, scriptEnabled: false } as never);
  } catch (err) {
    throw asMongoError(err);
  }
}

export function newQuery(filter: Document, collation?: Collation): Query {
  return new Query(aliasFilter(filter), {
    context: BSON_CONTEXT,
    scriptEnabled: false,
    ...(collation ? { collation } : {}),
  } as never);
}
