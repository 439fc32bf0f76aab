/**
 * Query matching through mingo, with the parts MongoDB has and mingo lacks:
 * - $type knows BSON types (objectId, decimal, long, binData...), which partial indexes rely on;
 * - a case-insensitive collation (strength 1 or 2) makes string comparisons ignore case.
 */
import { Binary, Decimal128, Long, ObjectId, Timestamp, type Document } from 'bson';
import { Context } from 'mingo';
import { Query } from 'mingo/query';
import * as queryOperators from 'mingo/operators/query';
import * as expressionOperators from 'mingo/operators/expression';
import * as projectionOperators from 'mingo/operators/projection';
import { caseInsensitive, isPlainObject, valuesAt, type Collation } from './keys';

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

const $type = (selector: string, spec: unknown) => (doc: Document) => {
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

export interface Matcher { test(doc: Document): boolean }

export function matcher(filter: Document | undefined, collation?: Collation): Matcher {
  if (caseInsensitive(collation)) {
    const q = new Query(fold(filter ?? {}) as Document, { context: BSON_CONTEXT } as never);
    return { test: (doc) => q.test(fold(doc) as Document) };
  }
  return new Query(filter ?? {}, { context: BSON_CONTEXT } as never);
}

export function newQuery(filter: Document, collation?: Collation): Query {
  return new Query(filter, { context: BSON_CONTEXT, ...(collation ? { collation } : {}) } as never);
}
