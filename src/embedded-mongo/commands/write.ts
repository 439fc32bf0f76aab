/**
 * Writes: insert, update, delete, findAndModify. Each document change is checked against the unique
 * indexes before it is stored; ordered batches stop at the first error, unordered ones go on, and
 * errors come back as writeErrors the way the driver turns them into MongoBulkWriteError.
 */
import { ObjectId, serialize, type Document } from 'bson';
import { MongoCommandError, badValue } from '../errors';
import { applyUpdate, seedFromQuery } from '../update';
import type { Collection } from '../collection';
import type { CommandContext, CommandHandler } from './context';
import { findDocs, matching, sortedPage } from './query';

function writeError(index: number, err: unknown): Document {
  if (err instanceof MongoCommandError) {
    const e: Document = { index, code: err.code, errmsg: err.message };
    if (err.extra.keyPattern) e.keyPattern = err.extra.keyPattern;
    if (err.extra.keyValue) e.keyValue = err.extra.keyValue;
    return e;
  }
  throw err;
}

function put(ctx: CommandContext, coll: Collection, doc: Document) {
  ctx.engine.record({ op: 'put', db: ctx.db, coll: coll.name, doc });
}

export const insert: CommandHandler = (cmd, ctx) => {
  const docs = (cmd.documents ?? []) as Document[];
  const ordered = cmd.ordered !== false;
  const coll = ctx.engine.ensureCollection(ctx.db, cmd.insert);
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    try {
      put(ctx, coll, coll.insert(docs[i]));
      n++;
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

/** One update statement; returns counts and the upserted id, or throws a MongoDB error. */
function updateOne(ctx: CommandContext, coll: Collection, stmt: Document): { n: number; nModified: number; upserted?: unknown } {
  const { q = {}, u, multi = false, upsert = false, arrayFilters, collation } = stmt;
  if (u === undefined) throw badValue('update statement needs u');
  const targets = matching(coll, q, collation);
  const chosen = multi ? targets : targets.slice(0, 1);
  if (chosen.length === 0) {
    if (!upsert) return { n: 0, nModified: 0 };
    const base = seedFromQuery(q);
    let doc = applyUpdate(base, u, { inserting: true, arrayFilters });
    if (doc._id === undefined) doc = { _id: base._id ?? new ObjectId(), ...doc };
    doc = coll.insert(doc);
    put(ctx, coll, doc);
    return { n: 1, nModified: 0, upserted: doc._id };
  }
  let nModified = 0;
  for (const old of chosen) {
    const next = applyUpdate(old, u, { inserting: false, arrayFilters, query: q });
    if (sameBytes(old, next)) continue;
    coll.replace(old, next);
    put(ctx, coll, next);
    nModified++;
  }
  return { n: chosen.length, nModified };
}

function sameBytes(a: Document, b: Document): boolean {
  return Buffer.compare(serialize(a), serialize(b)) === 0;
}

export const update: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.ensureCollection(ctx.db, cmd.update);
  const ordered = cmd.ordered !== false;
  const writeErrors: Document[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  (cmd.updates as Document[] ?? []).some((stmt, index) => {
    try {
      const r = updateOne(ctx, coll, stmt);
      n += r.n;
      nModified += r.nModified;
      if (r.upserted !== undefined) upserted.push({ index, _id: r.upserted });
      return false;
    } catch (err) {
      writeErrors.push(writeError(index, err));
      return ordered;
    }
  });
  const reply: Document = { n, nModified, ok: 1 };
  if (upserted.length) reply.upserted = upserted;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  return reply;
};

export const remove: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.delete);
  let n = 0;
  for (const stmt of (cmd.deletes ?? []) as Document[]) {
    if (!coll) break;
    const found = matching(coll, stmt.q ?? {}, stmt.collation);
    for (const doc of stmt.limit === 1 ? found.slice(0, 1) : found) {
      coll.remove(doc);
      ctx.engine.record({ op: 'del', db: ctx.db, coll: coll.name, id: doc._id });
      n++;
    }
  }
  return { n, ok: 1 };
};

export const findAndModify: CommandHandler = (cmd, ctx) => {
  const name = cmd.findAndModify ?? cmd.findandmodify;
  const coll = ctx.engine.ensureCollection(ctx.db, name);
  const [target] = findDocs(coll, cmd.query ?? {}, { sort: cmd.sort, limit: 1, collation: cmd.collation });
  const project = (doc: Document | null) => (doc && cmd.fields && Object.keys(cmd.fields).length ? sortedPage([doc], { projection: cmd.fields })[0] : doc);
  if (cmd.remove) {
    if (target) {
      coll.remove(target);
      ctx.engine.record({ op: 'del', db: ctx.db, coll: coll.name, id: target._id });
    }
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target ?? null), ok: 1 };
  }
  if (cmd.update === undefined) throw badValue('Either an update or remove=true must be specified');
  if (!target) {
    if (!cmd.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const base = seedFromQuery(cmd.query ?? {});
    let doc = applyUpdate(base, cmd.update, { inserting: true, arrayFilters: cmd.arrayFilters });
    if (doc._id === undefined) doc = { _id: base._id ?? new ObjectId(), ...doc };
    doc = coll.insert(doc);
    put(ctx, coll, doc);
    return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: cmd.new ? project(doc) : null, ok: 1 };
  }
  const next = applyUpdate(target, cmd.update, { inserting: false, arrayFilters: cmd.arrayFilters, query: cmd.query });
  if (!sameBytes(target, next)) {
    coll.replace(target, next);
    put(ctx, coll, next);
  }
  return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(cmd.new ? next : target), ok: 1 };
};
