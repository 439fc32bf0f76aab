/**
 * Applying update documents the way MongoDB does: operator updates (own implementation, so that
 * several fields of one matched array element can change together, type errors are errors with
 * MongoDB's codes, and numeric types follow the server's rules), replacements, and pipelines (mingo).
 */
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp, serialize, type Document } from 'bson';
import { Aggregator } from 'mingo';
import {
  asMongoError,
  badValue,
  conflictingUpdateOperators,
  failedToParse,
  immutableField,
  pathNotViable,
  typeMismatch,
} from './errors';
import { canon, isPlainObject, type Collation } from './keys';
import { bsonCompare, sortDocuments, toNumber } from './compare';
import { matcher } from './matcher';
import { decode } from './wire';
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

/** A deep copy that keeps BSON types (ObjectId, Decimal128, Date, Double, Long...) exactly. */
export function cloneDoc(doc: Document): Document {
  return decode(serialize(doc));
}

const OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$push',
  '$addToSet',
  '$pull',
  '$pullAll',
  '$pop',
  '$currentDate',
  '$setOnInsert',
  '$bit',
]);

const isOperatorUpdate = (u: Document) => Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith('$'));

export interface UpdateOptions {
  inserting: boolean;
  arrayFilters?: Document[];
  query?: Document;
  collation?: Collation;
}

/** The new version of `doc` (never mutating it), or throws a MongoDB error for a bad update. */
export function applyUpdate(doc: Document, u: Document | Document[], opts: UpdateOptions): Document {
  if (Array.isArray(u)) {
    let out: Document;
    try {
      [out] = unaliasDocuments(
        new Aggregator(aliasPipeline(u as Document[])).run([aliasDocument(cloneDoc(doc))]) as Document[],
      );
    } catch (err) {
      throw asMongoError(err);
    }
    if (canon(out._id, false) !== canon(doc._id, false))
      throw immutableField("Performing an update on the path '_id' would modify the immutable field '_id'");
    return out;
  }
  if (!isPlainObject(u)) throw badValue('Update document must be an object');
  if (!isOperatorUpdate(u)) {
    const op = Object.keys(u).find((k) => k.startsWith('$'));
    if (op)
      throw failedToParse(
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    if (u._id !== undefined && doc._id !== undefined && canon(u._id, false) !== canon(doc._id, false)) {
      throw immutableField("After applying the update, the (immutable) field '_id' was found to have been altered");
    }
    const { _id: _ignored, ...rest } = u;
    return doc._id === undefined ? { ...rest } : { _id: doc._id, ...rest };
  }
  const next = cloneDoc(doc);
  const steps = planSteps(next, u, opts);
  for (const step of steps) applyStep(next, step, doc);
  if (doc._id !== undefined && canon(next._id, false) !== canon(doc._id, false)) {
    throw immutableField("Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  if (next._id !== undefined && Object.keys(next)[0] !== '_id') {
    const { _id, ...rest } = next;
    return { _id, ...rest };
  }
  return next;
}

interface Step {
  op: string;
  path: string[];
  arg: unknown;
  to?: string[];
}

/** Checks the operators and their paths, resolves positional parts, and orders the steps. */
function planSteps(doc: Document, u: Document, opts: UpdateOptions): Step[] {
  const raw: { op: string; path: string; arg: unknown }[] = [];
  for (const [op, fields] of Object.entries(u)) {
    if (!OPERATORS.has(op))
      throw failedToParse(
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    if (!isPlainObject(fields))
      throw failedToParse(
        `Modifiers operate on fields but we found type ${Array.isArray(fields) ? 'array' : typeof fields} instead. For example: {$mod: {<field>: ...}} not {${op}: ${JSON.stringify(fields)}}`,
      );
    if (op === '$setOnInsert' && !opts.inserting) continue;
    for (const [path, arg] of Object.entries(fields)) {
      if (path === '' || path.split('.').some((p) => p === ''))
        throw badValue(`The update path '${path}' contains an empty field name, which is not allowed.`);
      raw.push({ op: op === '$setOnInsert' ? '$set' : op, path, arg });
      if (op === '$rename') {
        if (typeof arg !== 'string' || arg === '')
          throw badValue(`The 'to' field for $rename must be a string: ${path}: ${JSON.stringify(arg)}`);
        raw.push({ op: '$renameTarget', path: arg, arg: undefined });
      }
    }
  }
  // Two updates of one path, or of a path and its parent, conflict (positional parts compared as written).
  const paths = raw.map((r) => r.path).sort();
  for (let i = 1; i < paths.length; i++) {
    const [a, b] = [paths[i - 1], paths[i]];
    if (a === b || b.startsWith(`${a}.`))
      throw conflictingUpdateOperators(`Updating the path '${b}' would create a conflict at '${a}'`);
  }
  const steps: Step[] = [];
  for (const r of raw) {
    if (r.op === '$renameTarget') continue;
    const to = r.op === '$rename' ? (r.arg as string).split('.') : undefined;
    for (const path of expandPositional(doc, r.path.split('.'), opts)) steps.push({ op: r.op, path, arg: r.arg, to });
  }
  // MongoDB applies updates in field-name order (numbers numerically), whatever the order sent.
  steps.sort((x, y) => comparePaths(x.path, y.path));
  return steps;
}

function comparePaths(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const na = /^\d+$/.test(a[i]);
    const nb = /^\d+$/.test(b[i]);
    if (na && nb) return Number(a[i]) - Number(b[i]);
    return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/** Concrete paths for one update path: `$` is the element the query matched, `$[]` every element, `$[id]` the filtered ones. */
function expandPositional(doc: Document, parts: string[], opts: UpdateOptions): string[][] {
  let paths: string[][] = [[]];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part !== '$' && !/^\$\[\w*\]$/.test(part)) {
      for (const p of paths) p.push(part);
      continue;
    }
    if (opts.inserting)
      throw badValue(
        `The path '${parts.slice(0, i).join('.')}' must exist in the document in order to apply array updates.`,
      );
    const expanded: string[][] = [];
    for (const prefix of paths) {
      const arr = readPath(doc, prefix);
      if (!Array.isArray(arr))
        throw badValue(`The path '${prefix.join('.')}' must exist in the document in order to apply array updates.`);
      if (part === '$') {
        expanded.push([...prefix, String(matchedIndex(doc, prefix, arr, opts))]);
      } else if (part === '$[]') {
        for (let k = 0; k < arr.length; k++) expanded.push([...prefix, String(k)]);
      } else {
        const id = part.slice(2, -1);
        const test = arrayFilter(id, opts.arrayFilters, opts.collation);
        for (let k = 0; k < arr.length; k++) if (test(arr[k])) expanded.push([...prefix, String(k)]);
      }
    }
    paths = expanded;
  }
  return paths;
}

/** The index of the first element of `arr` (at `prefix`) that satisfies the query, for the positional `$`. */
function matchedIndex(doc: Document, prefix: string[], arr: unknown[], opts: UpdateOptions): number {
  // Only a query condition on the array records a position: without one MongoDB refuses (never element 0).
  if (!mentionsPath(opts.query ?? {}, prefix.join('.')))
    throw badValue('The positional operator did not find the match needed from the query.');
  const q = matcher(opts.query ?? {}, opts.collation);
  for (let k = 0; k < arr.length; k++) {
    const trial = cloneShallowAlong(doc, prefix, [arr[k]]);
    if (q.test(trial)) return k;
  }
  throw badValue('The positional operator did not find the match needed from the query.');
}

/** Whether the filter has a condition on `path` or a field under it, at its top or inside $and/$or/$nor. */
function mentionsPath(filter: Document, path: string): boolean {
  return Object.entries(filter).some(([k, v]) => {
    if (k === '$and' || k === '$or' || k === '$nor')
      return Array.isArray(v) && v.some((sub) => isPlainObject(sub) && mentionsPath(sub, path));
    return k === path || k.startsWith(`${path}.`);
  });
}

/** A copy of `doc` sharing everything except the objects along `path`, where `value` is put. */
function cloneShallowAlong(doc: Document, path: string[], value: unknown): Document {
  const root: Document = { ...doc };
  let cur: Document = root;
  for (let i = 0; i < path.length - 1; i++) {
    const child = getField(cur, path[i]);
    const copy = Array.isArray(child) ? [...child] : { ...(child as Document) };
    setField(cur, path[i], copy);
    cur = copy as Document;
  }
  setField(cur, path[path.length - 1], value);
  return root;
}

function arrayFilter(id: string, filters: Document[] | undefined, collation?: Collation): (el: unknown) => boolean {
  const own = (filters ?? []).filter((f) => Object.keys(f).some((k) => k === id || k.startsWith(`${id}.`)));
  if (own.length === 0) throw badValue(`No array filter found for identifier '${id}' in path`);
  const merged: Document = {};
  for (const f of own) for (const [k, v] of Object.entries(f)) merged[k === id ? 'v' : `v${k.slice(id.length)}`] = v;
  const q = matcher(merged, collation);
  return (el) => q.test({ v: el });
}

function readPath(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = getField(cur, p);
  }
  return cur;
}

const isContainer = (v: unknown): v is Document | unknown[] => Array.isArray(v) || isPlainObject(v);

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (v instanceof Double) return 'double';
  if (v instanceof Int32) return 'int';
  if (v instanceof Long) return 'long';
  if (v instanceof Decimal128) return 'decimal';
  if (v instanceof Date) return 'date';
  if (v instanceof ObjectId) return 'objectId';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return 'object';
}

/**
 * The container that holds the last part of `path`, creating missing documents on the way when
 * `create` is set (as $set does). Refuses, like MongoDB, to create a field inside a non-document.
 */
function parentOf(doc: Document, path: string[], create: boolean): Document | unknown[] | null {
  let cur: Document | unknown[] = doc;
  for (let i = 0; i < path.length - 1; i++) {
    const part = path[i];
    if (Array.isArray(cur) && !/^\d+$/.test(part)) {
      if (!create) return null;
      throw pathNotViable(`Cannot create field '${part}' in element {${path[i - 1]}: ${describe(cur)}}`);
    }
    let child: unknown = getField(cur, part);
    if (child === undefined || child === null) {
      if (!create) return null;
      if (child === null) throw pathNotViable(`Cannot create field '${path[i + 1]}' in element {${part}: null}`);
      child = {};
      setIn(cur, part, child);
    } else if (!isContainer(child)) {
      if (!create) return null;
      throw pathNotViable(`Cannot create field '${path[i + 1]}' in element {${part}: ${describe(child)}}`);
    }
    cur = child as Document | unknown[];
  }
  const last = path[path.length - 1];
  if (Array.isArray(cur) && !/^\d+$/.test(last)) {
    if (!create) return null;
    throw pathNotViable(`Cannot create field '${last}' in element {${path[path.length - 2]}: ${describe(cur)}}`);
  }
  return cur;
}

function setIn(container: Document | unknown[], key: string, value: unknown): void {
  if (Array.isArray(container)) {
    const i = Number(key);
    while (container.length < i) container.push(null); // MongoDB pads with nulls
    container[i] = value;
  } else setField(container, key, value);
}

type NumKind = 0 | 1 | 2 | 3; // int, long, double, decimal

function numKind(v: unknown): NumKind | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && !Object.is(v, -0) ? 0 : 2;
  if (v instanceof Int32) return 0;
  if (v instanceof Long) return 1;
  if (v instanceof Double) return 2;
  if (v instanceof Decimal128) return 3;
  return null;
}

const toBig = (v: unknown): bigint => (v instanceof Long ? v.toBigInt() : BigInt(Math.trunc(toNumber(v))));

/** The result of $inc or $mul with MongoDB's type rules: the wider type wins, an int overflowing becomes a long. */
function arithmetic(op: '$inc' | '$mul', a: unknown, b: unknown): unknown {
  const kind = Math.max(numKind(a)!, numKind(b)!) as NumKind;
  if (kind === 3) {
    const r = op === '$inc' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return Decimal128.fromString(String(r));
  }
  if (kind === 2) {
    const r = op === '$inc' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return Number.isInteger(r) || Object.is(r, -0) ? new Double(r) : r;
  }
  const r = op === '$inc' ? toBig(a) + toBig(b) : toBig(a) * toBig(b);
  if (kind === 0 && r >= -(2n ** 31n) && r < 2n ** 31n) return Number(r);
  return Long.fromBigInt(BigInt.asIntN(64, r));
}

function idOf(doc: Document): string {
  return `{_id: ${describe(doc._id)}}`;
}

function applyStep(doc: Document, step: Step, original: Document): void {
  const { op, path, arg } = step;
  const field = path[path.length - 1];
  const creates = op !== '$unset' && op !== '$pull' && op !== '$pullAll' && op !== '$pop' && op !== '$rename';
  const parent = parentOf(doc, path, creates);
  if (!parent) return;
  const current = Array.isArray(parent) ? parent[Number(field)] : getField(parent, field);
  const exists = Array.isArray(parent) ? Number(field) < parent.length : hasField(parent, field);
  const set = (v: unknown) => setIn(parent, field, v);
  const dotted = path.join('.');
  switch (op) {
    case '$set':
      set(arg);
      return;
    case '$unset':
      if (!exists) return;
      if (Array.isArray(parent)) parent[Number(field)] = null;
      else delete (parent as Document)[field];
      return;
    case '$inc':
    case '$mul': {
      if (numKind(arg) === null)
        throw typeMismatch(
          `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${dotted}: ${describe(arg)}}`,
        );
      if (!exists || current === undefined) {
        set(op === '$inc' ? arg : arithmetic('$mul', 0, arg));
        return;
      }
      if (numKind(current) === null) {
        throw typeMismatch(
          `Cannot apply ${op} to a value of non-numeric type. ${idOf(original)} has the field '${field}' of non-numeric type ${typeName(current)}`,
        );
      }
      set(arithmetic(op, current, arg));
      return;
    }
    case '$min':
    case '$max': {
      if (!exists) return set(arg);
      const c = bsonCompare(arg, current);
      if ((op === '$min' && c < 0) || (op === '$max' && c > 0)) set(arg);
      return;
    }
    case '$currentDate': {
      const wantsTimestamp = isPlainObject(arg) && arg.$type === 'timestamp';
      if (!(arg === true || (isPlainObject(arg) && (arg.$type === 'date' || wantsTimestamp)))) {
        throw badValue(
          `${describe(arg)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`,
        );
      }
      set(wantsTimestamp ? Timestamp.fromNumber(Math.floor(Date.now() / 1000) * 2 ** 32) : new Date());
      return;
    }
    case '$rename': {
      if (!exists || Array.isArray(parent)) return;
      delete (parent as Document)[field];
      const target = parentOf(doc, step.to!, true)!;
      setIn(target, step.to![step.to!.length - 1], current);
      return;
    }
    case '$bit': {
      if (!isPlainObject(arg))
        throw badValue(
          `The $bit modifier is not compatible with a ${typeName(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`,
        );
      let value = exists ? current : 0;
      if (numKind(value) === null || numKind(value)! > 1)
        throw badValue(
          `Cannot apply $bit to a value of non-integral type. ${idOf(original)} has the field ${field} of non-integer type ${typeName(value)}`,
        );
      for (const [how, mask] of Object.entries(arg)) {
        const a = toBig(value);
        const m = toBig(mask);
        const r = how === 'and' ? a & m : how === 'or' ? a | m : how === 'xor' ? a ^ m : null;
        if (r === null)
          throw badValue(
            `The $bit modifier only supports 'and', 'or', and 'xor', not '${how}' which is an unknown operator: {${how}: ${describe(mask)}}`,
          );
        value =
          numKind(value) === 0 && numKind(mask) === 0
            ? Number(BigInt.asIntN(32, r))
            : Long.fromBigInt(BigInt.asIntN(64, r));
      }
      set(value);
      return;
    }
  }
  // Array operators.
  if (exists && current !== undefined && current !== null && !Array.isArray(current)) {
    if (op === '$pull' || op === '$pullAll') throw badValue(`Cannot apply ${op} to a non-array value`);
    if (op === '$pop')
      throw typeMismatch(`Path '${dotted}' contains an element of non-array type '${typeName(current)}'`);
    throw badValue(
      `The field '${dotted}' must be an array but is of type ${typeName(current)} in document ${idOf(original)}`,
    );
  }
  if (exists && current === null && (op === '$push' || op === '$addToSet')) {
    throw badValue(`The field '${dotted}' must be an array but is of type null in document ${idOf(original)}`);
  }
  const arr = (current as unknown[] | undefined) ?? [];
  switch (op) {
    case '$push': {
      const mods = isPlainObject(arg) && '$each' in arg ? arg : null;
      if (mods) {
        for (const k of Object.keys(mods))
          if (!['$each', '$slice', '$sort', '$position'].includes(k))
            throw badValue(`Unrecognized clause in $push: ${k}`);
        if (!Array.isArray(mods.$each))
          throw badValue(`The argument to $each in $push must be an array but it was of type: ${typeName(mods.$each)}`);
      }
      const items = mods ? (mods.$each as unknown[]) : [arg];
      let out = [...arr];
      let at = mods?.$position !== undefined ? toNumber(mods.$position) : out.length;
      if (at < 0) at = Math.max(0, out.length + at);
      at = Math.min(at, out.length);
      out = out.slice(0, at).concat(items, out.slice(at)); // no spread into a call: $each may be long
      if (mods?.$sort !== undefined) {
        const spec = mods.$sort;
        out = isPlainObject(spec)
          ? sortDocuments(out, spec)
          : [...out].sort((a, b) => bsonCompare(a, b) * (Number(spec) < 0 ? -1 : 1));
      }
      if (mods?.$slice !== undefined) {
        const n = toNumber(mods.$slice);
        out = n >= 0 ? out.slice(0, n) : out.slice(Math.max(0, out.length + n));
      }
      set(out);
      return;
    }
    case '$addToSet': {
      const items = isPlainObject(arg) && '$each' in arg ? (arg.$each as unknown[]) : [arg];
      if (!Array.isArray(items)) throw badValue('The argument to $each in $addToSet must be an array');
      const out = [...arr];
      for (const item of items) if (!out.some((x) => bsonCompare(x, item) === 0)) out.push(item);
      set(out);
      return;
    }
    case '$pullAll': {
      if (!Array.isArray(arg)) throw badValue(`$pullAll requires an array argument but was given a ${typeName(arg)}`);
      if (exists) set(arr.filter((x) => !arg.some((y) => bsonCompare(x, y) === 0)));
      return;
    }
    case '$pull': {
      if (exists) set(arr.filter((x) => !pullCondition(arg)(x)));
      return;
    }
    case '$pop': {
      const n = toNumber(arg);
      if (n !== 1 && n !== -1) throw failedToParse(`$pop expects 1 or -1, found: ${describe(arg)}`);
      if (exists && arr.length) set(n === 1 ? arr.slice(0, -1) : arr.slice(1));
      return;
    }
  }
}

/**
 * What $pull removes: with a condition of operators only ({$gte: 9}), the elements it matches; with a
 * query (field conditions, $or/$and/$nor), the document elements it matches; else equal elements.
 */
function pullCondition(raw: unknown): (el: unknown) => boolean {
  const cond = asCondition(raw);
  if (!isPlainObject(cond)) return (el) => bsonCompare(el, cond) === 0;
  const keys = Object.keys(cond);
  const valueOps =
    keys.length > 0 && keys.every((k) => isOperatorKey(k) && !['$and', '$or', '$nor', '$expr'].includes(k));
  if (valueOps) {
    const q = matcher({ v: cond });
    return (el) => q.test({ v: el });
  }
  const q = matcher(cond);
  return (el) => isDocumentLike(el) && q.test(el as Document);
}

/** The document an upsert starts from: the equality conditions of the query (MongoDB's rule). */
export function seedFromQuery(q: Document): Document {
  const out: Document = {};
  const walk = (filter: Document) => {
    for (const [k, v] of Object.entries(filter)) {
      if (k === '$and' && Array.isArray(v)) {
        v.forEach((sub) => isPlainObject(sub) && walk(sub));
        continue;
      }
      if (k.startsWith('$')) continue; // $or, $nor, $expr... contribute nothing
      let value: unknown = v;
      if (isPlainObject(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
        if (Object.keys(v).length === 1 && '$eq' in v) value = v.$eq;
        else continue;
      }
      setPath(out, k, value);
    }
  };
  walk(q);
  return out;
}

function setPath(target: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = target;
  for (const p of parts.slice(0, -1)) {
    if (!isPlainObject(getField(cur, p))) setField(cur, p, {});
    cur = getField(cur, p) as Document;
  }
  setField(cur, parts[parts.length - 1], value);
}
