/** Reads: find, getMore, killCursors, count, distinct, aggregate. */
import { Long, type Document } from 'bson';
import { Aggregator } from 'mingo';
import type { Collection, Index } from '../collection';
import {
  RANGE_CAP,
  candidatesStage,
  equalityStage,
  intersectRanges,
  passesRanges,
  rangeRead,
  rangeThreshold,
  walkBudget,
  walkStage,
  wrapStage,
  type Candidates,
  type PlanTrace,
} from '../range-plan';
import { matcher, numericView } from '../matcher';
import { bsonCompare, sortDocuments, stringComparer } from '../compare';
import { boundsFor } from '../ordered';
import { project } from '../projection';
import { MongoCommandError, asMongoError, badValue, cursorNotFound, maxTimeExpired } from '../errors';
import { canon, isPlainObject, type Collation } from '../keys';
import type { CommandHandler } from './context';
import type { Engine } from '../engine';
import { aliasPipeline, getField, unaliasDocuments } from '../fields';

const toNumber = (v: unknown) =>
  v instanceof Long
    ? v.toNumber()
    : typeof v === 'number'
      ? v
      : v !== null && typeof v === 'object' && typeof v.valueOf() === 'number'
        ? (v.valueOf() as number)
        : undefined;

/** maxTimeMS: the command fails with MaxTimeMSExpired (50) once its time is up, checked as it works. */
export class Deadline {
  private readonly at: number;
  private ticks = 0;
  constructor(
    maxTimeMS: unknown,
    private readonly now: () => number = Date.now,
  ) {
    const ms = toNumber(maxTimeMS);
    if (ms !== undefined && (!Number.isInteger(ms) || ms < 0))
      throw badValue('maxTimeMS must be a non-negative integer');
    this.at = ms ? this.now() + ms : Infinity;
  }
  static none = new Deadline(undefined);
  /** Cheap enough for a loop: reads the clock every 64 calls. */
  tick(): void {
    if (this.at !== Infinity && (++this.ticks & 63) === 0) this.check();
  }
  check(): void {
    if (this.now() > this.at) throw maxTimeExpired();
  }
}

/**
 * The collation a command runs with: its own, else the collection's default (MongoDB applies a
 * collection's collation to every query that names none); `simple` means none.
 */
export function collationFor(coll: Collection | undefined, explicit: unknown): Collation | undefined {
  const c = (isPlainObject(explicit) ? explicit : coll?.options?.collation) as Collation | undefined;
  if (!c || c.locale === 'simple') return undefined;
  if (typeof c.locale !== 'string') throw badValue("collation must have a 'locale' string");
  return c;
}

/**
 * A `hint` must name an index the collection has, by name or by key pattern (`{$natural: ±1}` asks for
 * a scan): MongoDB refuses any other with BadValue (2); an invalid one is never silently ignored. The
 * index found is returned: without a sort, MongoDB then answers in that index's order. A missing
 * collection has no indexes to check, and MongoDB answers it as empty.
 */
export function checkHint(coll: Collection | undefined, hint: unknown): Index | null {
  if (hint === undefined || hint === null || !coll) return null;
  let index: Index | undefined;
  if (typeof hint === 'string') index = coll.indexes.find((i) => i.name === hint);
  else if (isPlainObject(hint)) {
    const keys = Object.keys(hint);
    if (keys.length === 0) return null; // an empty hint is no hint
    if (keys.length === 1 && keys[0] === '$natural') return null;
    const wanted = JSON.stringify(Object.entries(hint).map(([k, v]) => [k, Number(v)]));
    index = coll.indexes.find(
      (i) => JSON.stringify(Object.entries(i.spec.key).map(([k, v]) => [k, Number(v)])) === wanted,
    );
  } else throw badValue('hint must be a string or an object');
  if (!index) throw badValue('hint provided does not correspond to an existing index');
  return index;
}

/** The sort a find runs with: its own, else a hinted index's key order (the order of MongoDB's index scan). */
function sortWithHint(sort: unknown, hinted: Index | null): Document | undefined {
  if (isPlainObject(sort) && Object.keys(sort).length) return sort;
  return hinted ? (hinted.spec.key as Document) : undefined;
}

/** Documents of `coll` matching `filter`, through an index when one applies. The filter is checked even without documents. */
export function matching(
  coll: Collection | undefined,
  filter: Document | undefined,
  collation?: Collation,
  deadline: Deadline = Deadline.none,
): Document[] {
  const q = matcher(filter, collation);
  if (!coll) return [];
  const out: Document[] = [];
  const f = filter ?? {};
  for (const d of coll.indexedCandidates(f, collation) ?? rangeCandidates(coll, f, collation) ?? coll.docs.values()) {
    deadline.tick();
    if (q.test(d)) out.push(d);
  }
  return out;
}

/** The documents with an entry in the narrowest string ranges of an index (each once), when one applies to the filter. */
function rangeCandidates(coll: Collection, filter: Document, collation?: Collation): Document[] | null {
  const cands = intersectRanges(coll.rangeChoices(filter, collation, RANGE_CAP));
  if (!cands) return null;
  const out: Document[] = [];
  for (const id of cands.ids) {
    const d = coll.docs.get(id);
    if (d) out.push(d);
  }
  return out;
}

export function sortedPage(
  docs: Document[],
  cmd: { sort?: Document; skip?: number; limit?: number; projection?: Document; collation?: Collation },
): Document[] {
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
 * candidates to few; else through an ordered view walked in sort order and stopped once skip + limit
 * matches are in hand (plus ties on the first sort key), or through a string range of an index
 * (key-ranges.ts, multikey included) when that range holds few enough entries to beat the walk
 * (range-plan.ts); else a scan and an in-memory sort. `trace` receives the plan, for explain.
 */
export function findDocs(
  coll: Collection | undefined,
  filter: Document | undefined,
  opts: {
    sort?: Document;
    skip?: number;
    limit?: number;
    collation?: Collation;
    deadline?: Deadline;
    trace?: PlanTrace;
  },
): Document[] {
  const f = filter ?? {};
  const deadline = opts.deadline ?? Deadline.none;
  const trace = opts.trace;
  if (!coll) {
    matcher(f, opts.collation); // an invalid filter fails even on a missing collection
    if (trace) trace.winningPlan = { stage: 'EOF' };
    return [];
  }
  const sort = opts.sort && Object.keys(opts.sort).length ? opts.sort : undefined;
  const shape = { sort, skip: opts.skip, limit: opts.limit };
  const used: { index?: Index } = {};
  const narrow = coll.indexedCandidates(f, opts.collation, used);
  const scan = () => {
    const docs = matching(coll, f, opts.collation, deadline);
    if (trace) {
      trace.winningPlan = wrapStage(
        narrow && used.index ? equalityStage(used.index) : { stage: 'COLLSCAN', filter: f, direction: 'forward' },
        f,
        { ...shape, sortedInput: false },
      );
      trace.docsExamined += narrow ? narrow.length : coll.docs.size;
      trace.keysExamined += narrow ? narrow.length : 0;
    }
    return sortedPage(docs, { ...opts, projection: undefined });
  };
  if (narrow && narrow.length <= 1000) return scan();
  const q = matcher(f, opts.collation);
  const skip = opts.skip ?? 0;
  const need = opts.limit ? skip + Math.abs(opts.limit) : Infinity;
  const total = coll.docs.size;
  const threshold = Math.min(rangeThreshold(need, total), narrow ? narrow.length : RANGE_CAP);
  // Counted by leaf lengths (key-ranges.ts): cheap even for wide ranges.
  const ranges = coll.rangeChoices(f, opts.collation, RANGE_CAP);
  let cands: Candidates | null | undefined;
  const candidates = () => (cands === undefined ? (cands = intersectRanges(ranges)) : cands);
  const readRange = (c: Candidates) => {
    const found = rangeRead(coll, c, ranges, (d) => q.test(d), {
      sort,
      collation: opts.collation,
      need,
      tick: () => deadline.tick(),
      trace,
    });
    if (trace) trace.winningPlan = wrapStage(candidatesStage(c, found), f, { ...shape, sortedInput: false });
    return sortedPage(found, { ...opts, projection: undefined });
  };
  const [path, dir] = sort ? Object.entries(sort)[0] : [boundedField(coll, f), 1];
  const view = typeof path === 'string' ? coll.orderedView(path, opts.collation) : null;
  // How many documents the ranges leave: the narrowest range's entries, or, when several ranges of one
  // index apply (the words of a search), the size of their intersection (a few ns an entry to compute).
  let expected = ranges.length ? ranges[0].entries : Infinity;
  if (expected <= threshold) return readRange(candidates()!);
  if (expected <= RANGE_CAP && ranges.filter((r) => r.index === ranges[0].index && r.entries <= RANGE_CAP).length > 1) {
    expected = candidates()!.ids.length;
    if (expected <= threshold) return readRange(candidates()!);
  }
  if (!view || typeof path !== 'string') {
    const c = candidates();
    return c ? readRange(c) : scan();
  }
  let budget = expected <= RANGE_CAP ? walkBudget(expected, need, total) : Infinity;
  const strings = stringComparer(opts.collation);
  const found: Document[] = [];
  const bounds = boundsFor(f, path);
  let lastKey: unknown;
  let stepped = 0;
  for (const { key, doc } of view.walk(bounds ?? {}, Number(dir) < 0 ? -1 : 1)) {
    deadline.tick();
    if (found.length >= need && bsonCompare(key, lastKey, strings) !== 0) break;
    // The walk was a bad bet (the matches lie far down the sort order, or few exist): read a range.
    if (++stepped > budget) {
      const c = candidates();
      if (c) return readRange(c);
      budget = Infinity; // every range is too wide to read: walk on
    }
    if (ranges.length && !passesRanges(doc, ranges)) continue;
    if (!q.test(doc)) continue;
    found.push(doc);
    lastKey = key;
  }
  if (trace) {
    const index = coll.indexes.find((i) => i.fields[0] === path) ?? coll.indexes[0];
    trace.winningPlan = wrapStage(walkStage(index, bounds, Number(dir) < 0 ? -1 : 1), f, {
      ...shape,
      sortedInput: Boolean(sort) && Object.keys(sort!).length <= index.fields.length,
    });
    trace.keysExamined += stepped;
    trace.docsExamined += stepped;
  }
  return sortedPage(found, { ...opts, projection: undefined });
}

/** Other collections ($lookup, $unionWith) as the aggregation library sees them: numbers as plain numbers. */
function resolver(engine: Engine, db: string) {
  return (name: string) => {
    const out: Document[] = [];
    for (const d of engine.collection(db, name)?.docs.values() ?? []) out.push(numericView(d));
    return out;
  };
}

export const find: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.find);
  if (cmd.filter !== undefined && !isPlainObject(cmd.filter))
    throw badValue("BSON field 'FindCommandRequest.filter' is the wrong type, expected type 'object'");
  const hinted = checkHint(coll, cmd.hint);
  const limit = toNumber(cmd.limit);
  const collation = collationFor(coll, cmd.collation);
  const deadline = new Deadline(cmd.maxTimeMS);
  const found = findDocs(coll, cmd.filter, {
    sort: sortWithHint(cmd.sort, hinted),
    skip: toNumber(cmd.skip),
    limit,
    collation,
    deadline,
  });
  deadline.check();
  const docs = project(found, cmd.projection, { filter: cmd.filter, collation });
  const batchSize = toNumber(cmd.batchSize);
  const ns = `${ctx.db}.${cmd.find}`;
  if (cmd.singleBatch || (limit !== undefined && limit < 0))
    return { cursor: { firstBatch: docs.slice(0, batchSize ?? docs.length), id: Long.ZERO, ns }, ok: 1 };
  const { id, firstBatch } = ctx.engine.openCursor(ns, docs, batchSize, batchSize);
  return { cursor: { firstBatch, id, ns }, ok: 1 };
};

/**
 * explain of a find: the plan the engine ran (MongoDB's stage names: IXSCAN with its index and bounds,
 * FETCH, SORT, LIMIT, COLLSCAN) and, unless the verbosity is queryPlanner, its execution figures. The
 * engine has one plan per query and no plan cache, so rejectedPlans is always empty.
 */
export const explain: CommandHandler = (cmd, ctx) => {
  const inner = cmd.explain;
  if (!isPlainObject(inner) || typeof inner.find !== 'string')
    throw new MongoCommandError(115, 'CommandNotSupported', 'The embedded engine explains find commands only');
  if (inner.filter !== undefined && !isPlainObject(inner.filter))
    throw badValue("BSON field 'FindCommandRequest.filter' is the wrong type, expected type 'object'");
  const verbosity = typeof cmd.verbosity === 'string' ? cmd.verbosity : 'allPlansExecution';
  const coll = ctx.engine.collection(ctx.db, inner.find);
  const collation = collationFor(coll, inner.collation);
  const trace: PlanTrace = { keysExamined: 0, docsExamined: 0 };
  const started = process.hrtime.bigint();
  const found = findDocs(coll, inner.filter, {
    sort: inner.sort,
    skip: toNumber(inner.skip),
    limit: toNumber(inner.limit),
    collation,
    trace,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const queryPlanner = {
    namespace: `${ctx.db}.${inner.find}`,
    parsedQuery: inner.filter ?? {},
    winningPlan: trace.winningPlan,
    rejectedPlans: [],
  };
  const executionStats = {
    executionSuccess: true,
    nReturned: found.length,
    executionTimeMillis: Math.round(ms),
    totalKeysExamined: trace.keysExamined,
    totalDocsExamined: trace.docsExamined,
  };
  return {
    explainVersion: '1',
    queryPlanner,
    ...(verbosity === 'queryPlanner' ? {} : { executionStats }),
    command: inner,
    ok: 1,
  };
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
  checkHint(coll, cmd.hint);
  const everything = !cmd.query || Object.keys(cmd.query).length === 0;
  let n = everything
    ? (coll?.docs.size ?? 0)
    : matching(coll, cmd.query, collationFor(coll, cmd.collation), new Deadline(cmd.maxTimeMS)).length;
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
  const coll = ctx.engine.collection(ctx.db, cmd.distinct);
  for (const d of matching(coll, cmd.query, collationFor(coll, cmd.collation), new Deadline(cmd.maxTimeMS))) {
    let vals: unknown[] = [d];
    for (const p of path) vals = vals.flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => getField(v, p));
    for (const v of vals.flatMap((x) => (Array.isArray(x) ? x : [x])))
      if (v !== undefined) seen.set(canon(v, false), v);
  }
  return { values: [...seen.values()], ok: 1 };
};

function isCountStage(pipeline: Document[]): boolean {
  if (pipeline.length !== 1 || !isPlainObject(pipeline[0].$group)) return false;
  const group = pipeline[0].$group as Document;
  const keys = Object.keys(group);
  const id = group._id;
  const constantId = id === null || typeof id === 'number' || (typeof id === 'string' && !id.startsWith('$'));
  return (
    keys.length === 2 &&
    keys.includes('n') &&
    constantId &&
    isPlainObject(group.n) &&
    Object.keys(group.n).length === 1 &&
    group.n.$sum === 1
  );
}

/**
 * mingo's $project puts `_id` after the projected fields; in MongoDB `_id` stays first through every
 * stage but those that build a new document from an expression ($replaceRoot, $replaceWith).
 */
function idFirst(pipeline: Document[], docs: Document[]): Document[] {
  if (pipeline.some((s) => '$replaceRoot' in s || '$replaceWith' in s)) return docs;
  return docs.map((d) => {
    if (d._id === undefined || Object.keys(d)[0] === '_id') return d;
    const { _id, ...rest } = d;
    return { _id, ...rest };
  });
}

export const aggregate: CommandHandler = (cmd, ctx) => {
  if (!Array.isArray(cmd.pipeline)) throw badValue("'pipeline' option must be specified as an array");
  for (const stage of cmd.pipeline as Document[]) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1)
      throw new MongoCommandError(
        40323,
        'Location40323',
        'A pipeline stage specification object must contain exactly one field.',
      );
    if ('$changeStream' in stage)
      throw new MongoCommandError(
        40573,
        'Location40573',
        'The $changeStream stage is only supported on replica sets (the embedded engine is a standalone server)',
      );
    if ('$out' in stage || '$merge' in stage)
      throw new MongoCommandError(
        115,
        'CommandNotSupported',
        '$out and $merge are not supported by the embedded engine',
      );
    if ('$geoNear' in stage)
      throw new MongoCommandError(
        291,
        'NoQueryExecutionPlans',
        '$geoNear requires a 2d or 2dsphere index (the embedded engine has no geospatial indexes)',
      );
    if ('$search' in stage || '$vectorSearch' in stage || '$searchMeta' in stage)
      throw new MongoCommandError(
        115,
        'CommandNotSupported',
        'Atlas Search stages are not supported by the embedded engine',
      );
  }
  const collName = cmd.aggregate;
  const pipeline = [...(cmd.pipeline as Document[])];
  // Leading $match / $sort / $skip / $limit stages run as a find (indexes, ordered views, BSON order).
  const coll = typeof collName === 'string' ? ctx.engine.collection(ctx.db, collName) : undefined;
  const hinted = checkHint(coll, cmd.hint);
  const head: { filter?: Document; sort?: Document; skip?: number; limit?: number } = {};
  for (;;) {
    const stage = pipeline[0] as Document | undefined;
    if (stage?.$match && !head.filter && !head.sort && head.skip === undefined && head.limit === undefined)
      head.filter = stage.$match;
    else if (stage?.$sort && !head.sort && head.skip === undefined && head.limit === undefined) head.sort = stage.$sort;
    else if (stage?.$skip !== undefined && head.skip === undefined && head.limit === undefined)
      head.skip = toNumber(stage.$skip);
    else if (stage?.$limit !== undefined && head.limit === undefined) head.limit = toNumber(stage.$limit);
    else break;
    pipeline.shift();
  }
  const collation = collationFor(coll, cmd.collation);
  const deadline = new Deadline(cmd.maxTimeMS);
  const found = findDocs(coll, head.filter, {
    sort: sortWithHint(head.sort, hinted),
    skip: head.skip,
    limit: head.limit,
    collation,
    deadline,
  });
  deadline.check();
  let docs: Document[];
  if (pipeline.length === 0) docs = found;
  else if (isCountStage(pipeline)) {
    // countDocuments() sends $match then {$group: {_id: 1, n: {$sum: 1}}}: counted without copying documents.
    const group = pipeline[0].$group as Document;
    docs = found.length ? [{ _id: group._id, n: found.length }] : [];
  } else {
    try {
      // The aggregation library computes on plain numbers; server-side JavaScript stays off.
      // Fields named like Object.prototype's properties reach mingo renamed (fields.ts), then come back.
      const agg = new Aggregator(aliasPipeline(pipeline), {
        collectionResolver: resolver(ctx.engine, ctx.db),
        scriptEnabled: false,
        ...(collation ? { collation } : {}),
      } as never);
      docs = idFirst(pipeline, unaliasDocuments(agg.run(found.map(numericView)) as Document[]));
    } catch (err) {
      throw asMongoError(err);
    }
  }
  deadline.check();
  const ns = `${ctx.db}.${typeof collName === 'string' ? collName : '$cmd.aggregate'}`;
  const batchSize = toNumber(cmd.cursor?.batchSize);
  const { id, firstBatch } = ctx.engine.openCursor(ns, docs, batchSize, undefined);
  return { cursor: { firstBatch, id, ns }, ok: 1 };
};
