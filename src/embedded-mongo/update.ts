/** Applying update documents: operators (through mingo's updater), replacements and pipelines. */
import { deserialize, serialize, type Document } from 'bson';
import { Aggregator, update as mingoUpdate } from 'mingo';
import { badValue, immutableField } from './errors';
import { canon } from './keys';
import { isPlainObject } from './collection';
import { DESERIALIZE_OPTIONS } from './wire';

/** A deep copy that keeps BSON types (ObjectId, Decimal128, Date...) exactly. */
export function cloneDoc(doc: Document): Document {
  return deserialize(serialize(doc), DESERIALIZE_OPTIONS);
}

const isOperatorUpdate = (u: Document) => Object.keys(u).length > 0 && Object.keys(u).every((k) => k.startsWith('$'));

/** The new version of `doc` (never mutating it), or throws a MongoDB error for a bad update. */
export function applyUpdate(doc: Document, u: Document | Document[], opts: { inserting: boolean; arrayFilters?: Document[]; query?: Document }): Document {
  if (Array.isArray(u)) {
    const [out] = new Aggregator(u as Document[]).run([cloneDoc(doc)]) as Document[];
    if (canon(out._id, false) !== canon(doc._id, false)) throw immutableField("Performing an update on the path '_id' would modify the immutable field '_id'");
    return out;
  }
  if (!isPlainObject(u)) throw badValue('Update document must be an object');
  if (!isOperatorUpdate(u)) {
    if (Object.keys(u).some((k) => k.startsWith('$'))) throw badValue('Update document cannot mix operators and fields');
    if (u._id !== undefined && doc._id !== undefined && canon(u._id, false) !== canon(doc._id, false)) {
      throw immutableField("After applying the update, the (immutable) field '_id' was found to have been altered");
    }
    const { _id: _ignored, ...rest } = u;
    return doc._id === undefined ? { ...rest } : { _id: doc._id, ...rest };
  }
  const modifier: Document = { ...u };
  if (modifier.$setOnInsert) {
    if (opts.inserting) modifier.$set = { ...(modifier.$set ?? {}), ...modifier.$setOnInsert };
    delete modifier.$setOnInsert;
  }
  for (const op of Object.keys(modifier)) {
    if (!isPlainObject(modifier[op])) throw badValue(`Modifiers operate on fields but we found type ${typeof modifier[op]} instead for ${op}`);
    if (Object.keys(modifier[op]).length === 0) delete modifier[op];
  }
  // Setting _id to the value it already has is allowed (connect-mongo does it); changing it is not.
  // mingo refuses any $set of _id, so it is settled here and taken out of the modifier.
  let newId: unknown = undefined;
  for (const op of Object.keys(modifier)) {
    if (!('_id' in modifier[op])) continue;
    if (op !== '$set' || (doc._id !== undefined && canon(modifier[op]._id, false) !== canon(doc._id, false))) {
      throw immutableField("Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    newId = modifier[op]._id;
    const { _id: _drop, ...rest } = modifier[op];
    if (Object.keys(rest).length) modifier[op] = rest;
    else delete modifier[op];
  }
  let next = cloneDoc(doc);
  if (newId !== undefined && next._id === undefined) next = { _id: newId, ...next };
  // The positional operator ($) needs the query to find the matched element; mingo re-checks it, so it
  // is passed only then (the engine's own matcher already chose this document).
  const positional = Object.values(modifier).some((fields) => Object.keys(fields).some((f) => /(^|\.)\$(\.|$)/.test(f)));
  if (Object.keys(modifier).length) mingoUpdate(next, modifier as never, opts.arrayFilters, positional ? opts.query : undefined, { cloneMode: 'deep' });
  return next;
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
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]] = value;
}
