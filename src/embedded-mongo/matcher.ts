/**
 * Query matching through mingo, with the parts MongoDB has and mingo lacks:
 * - $type knows BSON types (objectId, decimal, long, binData...), which partial indexes rely on;
 * - a case-insensitive collation (strength 1 or 2) makes string comparisons ignore case;
 * - Decimal128 and Long compare by numeric value (mingo would compare their string forms), by matching
 *   against a view of the document where they are plain numbers.
 */
import { Binary, Decimal128, Long, ObjectId, Timestamp, type Document } from 'bson';
import { Context } from 'mingo';
import { Query } from 'mingo/query';
import * as queryOperators from 'mingo/operators/query';
import * as expressionOperators from 'mingo/operators/expression';
import * as projectionOperators from 'mingo/operators/projection';
import { caseInsensitive, isPlainObject, valuesAt, type Collation } from './keys';
import { toNumber } from './compare';

const TYPE_ALIASES: Record<string, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null',
  11: 'regex', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', bool: 'bool', boolean: 'bool',
};

function bsonTypes(v: unknown): string[] {
  if (v === null) return ['null'];
  if (v === undefined) return [];
  if (typeof v === 'string') return ['string'];
  if (typeof v === 'boolean') return ['bool'];
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? ['int', 'number'] : ['double', 'number'];
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

const $type = (selector: string, spec: unknown) => (view: Document) => {
  const doc = originals.get(view) ?? view;
  const wanted = Array.isArray(spec) ? spec : [spec];
  // Like MongoDB, an array field matches when the array itself or one of its elements has the type.
  const raw = selector.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Document)[k] : undefined), doc);
  const candidates = [raw, ...valuesAt(doc, selector)];
  return candidates.some((v) => wanted.some((w) => typeMatches(v, w)));
};

// mingo's base Query with every operator, our $type first (in a merged context the first one wins).
const BSON_CONTEXT = Context.init({
  query: { ...queryOperators, $type } as never,
  expression: expressionOperators as never,
  projection: projectionOperators as never,
});

/** Lower-cases every string value (not keys, not regexes) for case-insensitive comparison. */
function fold(value: unknown): unknown {
  if (typeof value === 'string') return value.toLocaleLowerCase('en');
  if (Array.isArray(value)) return value.map(fold);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fold(v)]));
  return value;
}

const isWrappedNumber = (v: unknown) => v instanceof Decimal128 || v instanceof Long;

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

/** The document as the query sees it: itself, or a copy with Decimal128/Long as numbers. */
function numericView(doc: Document): Document {
  let view = views.get(doc);
  if (view === undefined) {
    view = hasWrappedNumbers(doc) ? (unwrapNumbers(doc) as Document) : null;
    views.set(doc, view);
    if (view) originals.set(view, doc);
  }
  return view ?? doc;
}

export interface Matcher { test(doc: Document): boolean }

export function matcher(filter: Document | undefined, collation?: Collation): Matcher {
  let f = filter ?? {};
  if (hasWrappedNumbers(f)) f = unwrapNumbers(f) as Document;
  if (caseInsensitive(collation)) {
    const q = new Query(fold(f) as Document, { context: BSON_CONTEXT } as never);
    return {
      test: (doc) => {
        const view = fold(numericView(doc)) as Document;
        originals.set(view, doc);
        return q.test(view);
      },
    };
  }
  const q = new Query(f, { context: BSON_CONTEXT } as never);
  return { test: (doc) => q.test(numericView(doc)) };
}

export function newQuery(filter: Document, collation?: Collation): Query {
  return new Query(filter, { context: BSON_CONTEXT, ...(collation ? { collation } : {}) } as never);
}
