/**
 * Find projections as MongoDB applies them: inclusion or exclusion of (dotted) fields, `$slice`
 * (which keeps every other field unless the projection includes fields), `$elemMatch`, and the
 * positional `field.$` (the first element the query matched). Projections holding aggregation
 * expressions go through mingo. Fields come back in the stored document's order.
 */
import type { Document } from 'bson';
import { newQuery, matcher } from './matcher';
import { isPlainObject, type Collation } from './keys';
import { MongoCommandError, asMongoError, badValue } from './errors';
import { toNumber } from './compare';
import {
  aliasDocument,
  aliasPipeline,
  asCondition,
  getField,
  hasField,
  isDocumentLike,
  isOperatorKey,
  setField,
  unaliasDocuments,
} from './fields';

type Tree = { [field: string]: Tree | true };

/** Trees have no prototype, so a projected field named `constructor` or `__proto__` is just a key. */
const newTree = (): Tree => Object.create(null) as Tree;

const isFlag = (v: unknown) =>
  typeof v === 'number' ||
  typeof v === 'boolean' ||
  (typeof v === 'object' && v !== null && typeof (v as { valueOf(): unknown }).valueOf() === 'number');

function addPath(tree: Tree, path: string[]): void {
  let cur = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]];
    if (next === true) return;
    cur = (cur[path[i]] = next ?? newTree()) as Tree;
  }
  cur[path[path.length - 1]] = true;
}

function include(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value))
    return value.filter((el) => isPlainObject(el) || Array.isArray(el)).map((el) => include(el, tree));
  if (!isPlainObject(value)) return undefined;
  const out: Document = {};
  for (const [k, v] of Object.entries(value)) {
    const t = tree[k];
    if (t === undefined) continue;
    if (t === true) setField(out, k, v);
    else if (Array.isArray(v) || isPlainObject(v)) setField(out, k, include(v, t));
  }
  return out;
}

function exclude(value: unknown, tree: Tree): unknown {
  if (Array.isArray(value)) return value.map((el) => (isPlainObject(el) || Array.isArray(el) ? exclude(el, tree) : el));
  if (!isPlainObject(value)) return value;
  const out: Document = {};
  for (const [k, v] of Object.entries(value)) {
    const t = tree[k];
    if (t === true) continue;
    setField(out, k, t === undefined ? v : exclude(v, t));
  }
  return out;
}

function sliceArray(arr: unknown[], spec: unknown): unknown[] {
  if (Array.isArray(spec)) {
    const [skip, limit] = spec.map(toNumber);
    if (!(limit > 0)) throw badValue('$slice limit must be positive');
    const start = skip < 0 ? Math.max(0, arr.length + skip) : skip;
    return arr.slice(start, start + limit);
  }
  const n = toNumber(spec);
  return n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length + n));
}

function applySlice(value: unknown, path: string[], spec: unknown): unknown {
  if (path.length === 0) return Array.isArray(value) ? sliceArray(value, spec) : value;
  if (Array.isArray(value)) return value.map((el) => applySlice(el, path, spec));
  if (!isPlainObject(value) || !hasField(value, path[0])) return value;
  return { ...value, [path[0]]: applySlice(value[path[0]], path.slice(1), spec) };
}

/** The test an $elemMatch projection (or $pull) applies to an element. */
function elementTest(cond: Document, collation?: Collation): (el: unknown) => boolean {
  const keys = Object.keys(cond);
  const valueOps =
    keys.length > 0 && keys.every((k) => isOperatorKey(k) && !['$and', '$or', '$nor', '$expr'].includes(k));
  if (valueOps) {
    const q = matcher({ v: cond }, collation);
    return (el) => q.test({ v: el });
  }
  const q = matcher(cond, collation);
  return (el) => isDocumentLike(el) && q.test(el as Document);
}

function inDocumentOrder(original: Document, projected: Document): Document {
  const out: Document = {};
  for (const k of Object.keys(original)) if (hasField(projected, k)) setField(out, k, projected[k]);
  for (const k of Object.keys(projected)) if (!hasField(out, k)) setField(out, k, projected[k]);
  return out;
}

export interface ProjectionContext {
  filter?: Document;
  collation?: Collation;
}

export function project(
  docs: Document[],
  projection: Document | undefined | null,
  ctx: ProjectionContext = {},
): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  if (!isPlainObject(projection)) throw badValue('projection must be an object');
  const includes = newTree();
  const excludes = newTree();
  let includeId = true;
  let inclusion = false;
  let exclusion = false;
  const slices: [string[], unknown][] = [];
  const elemMatches: [string, (el: unknown) => boolean][] = [];
  let positional: string | null = null;
  for (const [field, spec] of Object.entries(projection)) {
    if (field.endsWith('.$')) {
      if (positional) throw badValue('Cannot specify more than one positional projection per query.');
      positional = field.slice(0, -2);
      addPath(includes, positional.split('.'));
      inclusion = true;
      continue;
    }
    if (isPlainObject(spec) && '$slice' in spec && Object.keys(spec).length === 1) {
      slices.push([field.split('.'), spec.$slice]);
      continue;
    }
    if (isPlainObject(spec) && '$elemMatch' in spec && Object.keys(spec).length === 1) {
      if (field.includes('.')) throw badValue(`Cannot use $elemMatch projection on a nested field.`);
      const cond = asCondition(spec.$elemMatch);
      if (!isPlainObject(cond)) throw badValue('elemMatch: Invalid argument, object required.');
      elemMatches.push([field, elementTest(cond, ctx.collation)]);
      inclusion = true;
      continue;
    }
    if (!isFlag(spec)) return viaMingo(docs, projection);
    const on = Boolean(Number((spec as { valueOf(): unknown }).valueOf()));
    if (field === '_id') {
      includeId = on;
      continue;
    }
    if (on) {
      inclusion = true;
      addPath(includes, field.split('.'));
    } else {
      exclusion = true;
      addPath(excludes, field.split('.'));
    }
  }
  // `{_id: 1}` alone is an inclusion of _id only (Model.exists(), select({_id: 1})), not "everything".
  if (!inclusion && !exclusion && slices.length === 0 && includeId && hasField(projection, '_id')) inclusion = true;
  if (inclusion && exclusion) {
    const field = Object.entries(projection).find(
      ([f, v]) => f !== '_id' && isFlag(v) && !Number((v as { valueOf(): unknown }).valueOf()),
    )?.[0];
    throw new MongoCommandError(
      31254,
      'Location31254',
      `Cannot do exclusion on field ${field} in inclusion projection`,
    );
  }
  const positionalTest = positional ? positionalMatcher(positional, ctx) : null;
  return docs.map((doc) => {
    let out: Document;
    if (inclusion) {
      out = include(doc, includes) as Document;
      for (const [path] of slices)
        if (!path.includes('.') && hasField(doc, path[0])) setField(out, path[0], doc[path[0]]);
      if (includeId && doc._id !== undefined) out._id = doc._id;
    } else {
      out = exclude(doc, excludes) as Document;
      if (!includeId) delete out._id;
    }
    for (const [path, spec] of slices) out = applySlice(out, path, spec) as Document;
    for (const [field, test] of elemMatches) {
      const arr = getField(doc, field);
      const hit = Array.isArray(arr) ? arr.find(test) : undefined;
      if (hit === undefined) delete out[field];
      else setField(out, field, [hit]);
    }
    if (positional && positionalTest) {
      const top = positional.split('.')[0];
      const arr = getField(doc, top);
      if (Array.isArray(arr)) {
        const i = positionalTest(doc, arr);
        if (i < 0)
          throw badValue(
            'Executor error during find command :: caused by :: positional operator (' +
              positional +
              '.$) requires corresponding field in query specifier',
          );
        setField(out, top, [(getField(out, top) as unknown[] | undefined)?.[i] ?? arr[i]]);
      }
    }
    return inDocumentOrder(doc, out);
  });
}

/** The index of the first element of the (top-level) array the query matched, for `field.$`. */
function positionalMatcher(field: string, ctx: ProjectionContext): (doc: Document, arr: unknown[]) => number {
  const top = field.split('.')[0];
  const q = matcher(ctx.filter ?? {}, ctx.collation);
  const mentions = Object.keys(ctx.filter ?? {}).some((k) => k === top || k.startsWith(`${top}.`) || k.startsWith('$'));
  return (doc, arr) => {
    if (!mentions) return -1;
    for (let i = 0; i < arr.length; i++) if (q.test({ ...doc, [top]: [arr[i]] })) return i;
    return -1;
  };
}

function viaMingo(docs: Document[], projection: Document): Document[] {
  try {
    const [spec] = aliasPipeline([{ $project: projection }]);
    const projected = unaliasDocuments(
      newQuery({})
        .find(docs.map(aliasDocument), spec.$project as Document)
        .all() as Document[],
    );
    return projected.map((p, i) => inDocumentOrder(docs[i], p));
  } catch (err) {
    throw asMongoError(err);
  }
}
