/** Reads: find, getMore, killCursors, count, distinct, aggregate. */
import { Long, type Document } from 'bson';
import { Aggregator } from 'mingo';
import type { Collection } from '../collection';
import { matcher } from '../matcher';
import { bsonCompare, sortDocuments, stringComparer } from '../compare';
import { boundsFor } from '../ordered';
import { project } from '../projection';
import { cursorNotFound, badValue } from '../errors';
import { canon, type Collation } from '../keys';
import type { CommandContext, CommandHandler } from './context';
import type { Engine } from '../engine';


/** Documents of `coll` matching `filter`, through an index when one applies. */
export function matching(coll: Collection | undefined, filter: Document | undefined, collation?: Collation): Document[] {
  if (!coll) return [];
  const q = matcher(filter, collation);
  const out: Document[] = [];
  for (const d of coll.candidates(filter ?? {}, collation)) if (q.test(d)) out.push(d);
  return out;
}

export function sortedPage(docs: Document[], cmd: { sort?: Document; skip?: number; limit?: number; projection?: Document; collation?: Collation }): Document[] {
  let out = cmd.sort && Object.keys(cmd.sort).length ? sortDocuments(docs, cmd.sort, cmd.collation) : docs;
  const skip = cmd.skip ?? 0;
  const limit = cmd.limit ? Math.abs(cmd.limit) : 0;
  if (skip || limit) out = out.slice(skip, limit ? skip + limit : undefined);
  return project(out, cmd.projection);
}

/** Index fields (first of each usable index, and _id) that the filter bounds, for an unsorted range read. */
function boundedField(coll: Collection, filter: Document): string | null {
  for (const path of ['_id', ...coll.indexes.map((i) => i.fields[0])]) if (boundsFor(filter, path)) return path;
  return null;
}

/**
 * The documents a find returns before projection: through an equality index when it narrows the
 * candidates to few, else through an ordered view walked in sort order and stopped once skip + limit
 * matches are in hand (plus ties on the first sort key), else a scan and an in-memory sort.
 */
export function findDocs(coll: Collection | undefined, filter: Document | undefined, opts: { sort?: Document; skip?: number; limit?: number; collation?: Collation }): Document[] {
  if (!coll) return [];
  const f = filter ?? {};
  const sort = opts.sort && Object.keys(opts.sort).length ? opts.sort : undefined;
  const narrow = coll.indexedCandidates(f, opts.collation);
  const scan = () => sortedPage(matching(coll, f, opts.collation), { ...opts, projection: undefined });
  if (narrow && narrow.length <= 1000) return scan();
  const [path, dir] = sort ? Object.entries(sort)[0] : [boundedField(coll, f), 1];
  const view = typeof path === 'string' ? coll.orderedView(path, opts.collation) : null;
  if (!view || typeof path !== 'string') return scan();
  const q = matcher(f, opts.collation);
  const strings = stringComparer(opts.collation);
  const skip = opts.skip ?? 0;
  const need = opts.limit ? skip + Math.abs(opts.limit) : Infinity;
  const found: Document[] = [];
  let lastKey: unknown;
  for (const { key, doc } of view.walk(boundsFor(f, path) ?? {}, Number(dir) < 0 ? -1 : 1)) {
    if (found.length >= need && bsonCompare(key, lastKey, strings) !== 0) break;
    if (!q.test(doc)) continue;
    found.push(doc);
    lastKey = key;
  }
  return sortedPage(found, { ...opts, projection: undefined });
}

function resolver(engine: Engine, db: string) {
  return (name: string) => [...(engine.collection(db, name)?.docs.values() ?? [])];
}

const toNumber = (v: unknown) => (v instanceof Long ? v.toNumber() : typeof v === 'number' ? v : undefined);

export const find: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.find);
  const limit = toNumber(cmd.limit);
  const docs = project(findDocs(coll, cmd.filter, { sort: cmd.sort, skip: toNumber(cmd.skip), limit, collation: cmd.collation }), cmd.projection);
  const batchSize = toNumber(cmd.batchSize);
  const ns = `${ctx.db}.${cmd.find}`;
  if (cmd.singleBatch || (limit !== undefined && limit < 0)) return { cursor: { firstBatch: docs.slice(0, batchSize ?? docs.length), id: Long.ZERO, ns }, ok: 1 };
  const { id, firstBatch } = ctx.engine.openCursor(ns, docs, batchSize, batchSize);
  return { cursor: { firstBatch, id, ns }, ok: 1 };
};

export const getMore: CommandHandler = (cmd, ctx) => {
  const key = String(cmd.getMore);
  const cursor = ctx.engine.cursors.get(key);
  if (!cursor) throw cursorNotFound(key);
  cursor.lastUsed = Date.now();
  const size = toNumber(cmd.batchSize) ?? cursor.batchSize ?? cursor.docs.length;
  const nextBatch = cursor.docs.slice(cursor.position, cursor.position + size);
  cursor.position += nextBatch.length;
  const done = cursor.position >= cursor.docs.length;
  if (done) ctx.engine.cursors.delete(key);
  return { cursor: { nextBatch, id: done ? Long.ZERO : Long.fromString(key), ns: cursor.ns }, ok: 1 };
};

export const killCursors: CommandHandler = (cmd, ctx) => {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const id of (cmd.cursors ?? []) as unknown[]) {
    const key = String(id);
    (ctx.engine.cursors.delete(key) ? killed : notFound).push(Long.fromString(key));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

export const count: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.count);
  const everything = !cmd.query || Object.keys(cmd.query).length === 0;
  let n = everything ? (coll?.docs.size ?? 0) : matching(coll, cmd.query, cmd.collation).length;
  const skip = toNumber(cmd.skip) ?? 0;
  const limit = toNumber(cmd.limit) ?? 0;
  n = Math.max(0, n - skip);
  if (limit) n = Math.min(n, Math.abs(limit));
  return { n, ok: 1 };
};

export const distinct: CommandHandler = (cmd, ctx) => {
  if (typeof cmd.key !== 'string') throw badValue('distinct requires a string key');
  const seen = new Map<string, unknown>();
  const path = cmd.key.split('.');
  for (const d of matching(ctx.engine.collection(ctx.db, cmd.distinct), cmd.query, cmd.collation)) {
    let vals: unknown[] = [d];
    for (const p of path) vals = vals.flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => (v && typeof v === 'object' ? (v as Document)[p] : undefined));
    for (const v of vals.flatMap((x) => (Array.isArray(x) ? x : [x]))) if (v !== undefined) seen.set(canon(v, false), v);
  }
  return { values: [...seen.values()], ok: 1 };
};

export const aggregate: CommandHandler = (cmd, ctx) => {
  if (!Array.isArray(cmd.pipeline)) throw badValue("'pipeline' option must be specified as an array");
  if (cmd.pipeline.some((s: Document) => '$out' in s || '$merge' in s)) throw badValue('$out and $merge are not supported by the embedded engine');
  const collName = cmd.aggregate;
  const pipeline = [...(cmd.pipeline as Document[])];
  // Leading $match / $sort / $skip / $limit stages run as a find (indexes, ordered views, BSON order).
  const coll = typeof collName === 'string' ? ctx.engine.collection(ctx.db, collName) : undefined;
  const head: { filter?: Document; sort?: Document; skip?: number; limit?: number } = {};
  for (;;) {
    const stage = pipeline[0] as Document | undefined;
    if (stage?.$match && !head.filter && !head.sort && head.skip === undefined && head.limit === undefined) head.filter = stage.$match;
    else if (stage?.$sort && !head.sort && head.skip === undefined && head.limit === undefined) head.sort = stage.$sort;
    else if (stage?.$skip !== undefined && head.skip === undefined && head.limit === undefined) head.skip = toNumber(stage.$skip);
    else if (stage?.$limit !== undefined && head.limit === undefined) head.limit = toNumber(stage.$limit);
    else break;
    pipeline.shift();
  }
  const source = coll ? findDocs(coll, head.filter, { sort: head.sort, skip: head.skip, limit: head.limit, collation: cmd.collation }) : [];
  const agg = new Aggregator(pipeline, { collectionResolver: resolver(ctx.engine, ctx.db), ...(cmd.collation ? { collation: cmd.collation } : {}) } as never);
  const docs = agg.run(source) as Document[];
  const ns = `${ctx.db}.${typeof collName === 'string' ? collName : '$cmd.aggregate'}`;
  const batchSize = toNumber(cmd.cursor?.batchSize);
  const { id, firstBatch } = ctx.engine.openCursor(ns, docs, batchSize, undefined);
  return { cursor: { firstBatch, id, ns }, ok: 1 };
};
