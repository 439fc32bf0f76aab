/**
 * Canonical index keys: a string per value such that two values that MongoDB considers equal for an
 * index get the same string (1, 1.0 and NumberLong(1) alike; null and missing alike), and with a
 * collation of strength 2 strings that differ only by case alike, of strength 1 also by accents.
 */
import { Decimal128, Long, ObjectId, Binary, Timestamp, Int32, Double } from 'bson';
import { getField } from './fields';

export interface Collation {
  locale?: string;
  strength?: number;
  [option: string]: unknown;
}

/** How much a collation folds strings for equality: 0 not at all, 1 case, 2 case and accents. */
export type Fold = 0 | 1 | 2;

export function foldOf(c?: Collation | null): Fold {
  if (!c || !c.locale || c.locale === 'simple') return 0;
  const strength = c.strength ?? 3;
  return strength <= 1 ? 2 : strength === 2 ? 1 : 0;
}

/** Kept for callers that only ask whether strings compare without case. */
export const caseInsensitive = (c?: Collation | null) => foldOf(c) > 0;

/** MongoDB spells locales with an underscore (en_US); Intl wants a hyphen (en-US). */
export const intlLocale = (locale: string) => locale.replace(/_/g, '-');

const ACCENTS = /[\u0300-\u036f]/g;

export function foldString(s: string, fold: Fold | boolean): string {
  if (!fold) return s;
  const lower = s.toLocaleLowerCase('en');
  return fold === 2 ? lower.normalize('NFD').replace(ACCENTS, '').normalize('NFC') : lower;
}

export function canon(value: unknown, ci: Fold | boolean): string {
  if (value === undefined || value === null) return 'n';
  switch (typeof value) {
    case 'number':
      return `d:${Object.is(value, -0) ? 0 : value}`;
    case 'string':
      return `s:${foldString(value, ci)}`;
    case 'boolean':
      return value ? 'b:1' : 'b:0';
    case 'bigint':
      return `d:${value}`;
  }
  if (value instanceof Date) return `t:${value.getTime()}`;
  // Its 12 bytes as 12 one-byte characters: half the string of its hex form, the same order.
  if (value instanceof ObjectId) return `o:${Buffer.from(value.id).toString('latin1')}`;
  if (value instanceof Long) return `d:${value.toString()}`;
  if (value instanceof Int32 || value instanceof Double) return `d:${value.valueOf()}`;
  if (value instanceof Decimal128) return `d:${Number(value.toString())}`;
  if (value instanceof Binary) return `x:${value.sub_type}:${Buffer.from(value.buffer).toString('hex')}`;
  if (value instanceof Timestamp) return `ts:${value.toString()}`;
  if (value instanceof RegExp) return `r:${value.source}/${value.flags}`;
  if (Array.isArray(value)) return `a:[${value.map((v) => canon(v, ci)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${JSON.stringify(k)}:${canon(v, ci)}`,
  );
  return `{${entries.join(',')}}`;
}

/** Reads a dotted path; arrays along the way yield every element's value (multikey). */
export function valuesAt(doc: unknown, path: string): unknown[] {
  // The common case: a top-level field holding a scalar.
  if (path.indexOf('.') < 0 && doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
    const v = getField(doc, path);
    if (!Array.isArray(v)) return [v];
  }
  const parts = path.split('.');
  let current: unknown[] = [doc];
  for (const part of parts) {
    const next: unknown[] = [];
    for (const c of current) {
      if (c === null || c === undefined || typeof c !== 'object') continue;
      if (Array.isArray(c) && !/^\d+$/.test(part)) {
        for (const el of c) if (el && typeof el === 'object') next.push(getField(el, part));
      } else {
        next.push(getField(c, part));
      }
    }
    current = next;
  }
  const out: unknown[] = [];
  for (const v of current) {
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(undefined);
      for (const el of v) out.push(el);
    } else out.push(v);
  }
  return out.length ? out : [undefined];
}

export function hasPath(doc: unknown, path: string): boolean {
  return valuesAt(doc, path).some((v) => v !== undefined);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- callers index documents of any shape
export function isPlainObject(v: unknown): v is Record<string, any> {
  // By prototype, not `constructor`: a document may hold a field named constructor.
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
