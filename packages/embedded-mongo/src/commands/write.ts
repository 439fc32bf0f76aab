/**
 * Writes: insert, update, delete, findAndModify. Each document change is checked against the unique
 * indexes before it is stored; ordered batches stop at the first error, unordered ones go on, and
 * errors come back as writeErrors the way the driver turns them into MongoBulkWriteError.
 */
import { ObjectId, calculateObjectSize, serialize, type Document } from 'bson';
import { MongoCommandError } from '../errors';
import { asMongoError, badValue, objectTooLarge } from '../errors';
import { matcher } from '../matcher';
import { applyUpdate, seedFromQuery } from '../update';
import type { Collection } from '../collection';
import type { CommandContext, CommandHandler } from './context';
import { checkHint, collationFor, findDocs, matching } from './query';
import { project as projectDocs } from '../projection';
import { checkDocument } from '../validation';

/** One writeErrors entry; errors from the query library get MongoDB's codes too (never code 1). */
function writeError(index: number, err: unknown): Document {
  const m = asMongoError(err);
  const e: Document = { index, code: m.code, errmsg: m.message };
  if (m.extra.keyPattern) e.keyPattern = m.extra.keyPattern;
  if (m.extra.keyValue) e.keyValue = m.extra.keyValue;
  if (m.extra.errInfo) e.errInfo = m.extra.errInfo;
  return e;
}

const MAX_BSON = 16 * 1024 * 1024;

/** MongoDB refuses to store a document over 16 MB. */
function checkSize(doc: Document, inserting: boolean): void {
  const size = calculateObjectSize(doc);
  if (size > MAX_BSON) {
    if (inserting) throw objectTooLarge(`object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON}`);
    throw new MongoCommandError(17419, 'Location17419', `Resulting document after update is larger than ${MAX_BSON}`);
  }
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
      if (!docs[i] || typeof docs[i] !== 'object' || Array.isArray(docs[i]))
        throw badValue('a document to insert must be an object');
      checkSize(docs[i], true);
      // Validated as stored: with its _id (generated here when the client sent none).
      const doc = docs[i]._id === undefined ? { _id: new ObjectId(), ...docs[i] } : docs[i];
      checkDocument(coll.options, doc, null, cmd.bypassDocumentValidation);
      put(ctx, coll, coll.insert(doc));
      n++;
    } catch (err) {
      writeErrors.push(writeError(i, err));
      if (ordered) break;
    }
  }
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

/** One update statement; returns counts and the upserted id, or throws a MongoDB error. */
function updateOne(
  ctx: CommandContext,
  coll: Collection,
  stmt: Document,
  bypass: unknown,
): { n: number; nModified: number; upserted?: unknown } {
  const { q = {}, u, multi = false, upsert = false, arrayFilters } = stmt;
  if (u === undefined) throw badValue('update statement needs u');
  checkHint(coll, stmt.hint);
  const collation = collationFor(coll, stmt.collation);
  const targets = matching(coll, q, collation);
  const chosen = multi ? targets : targets.slice(0, 1);
  if (chosen.length === 0) {
    if (!upsert) return { n: 0, nModified: 0 };
    const base = seedFromQuery(q);
    let doc = applyUpdate(base, u, { inserting: true, arrayFilters, collation });
    if (doc._id === undefined) doc = { _id: base._id ?? new ObjectId(), ...doc };
    checkSize(doc, true);
    checkDocument(coll.options, doc, null, bypass);
    doc = coll.insert(doc);
    put(ctx, coll, doc);
    return { n: 1, nModified: 0, upserted: doc._id };
  }
  let nModified = 0;
  for (const old of chosen) {
    const next = applyUpdate(old, u, { inserting: false, arrayFilters, query: q, collation });
    if (sameBytes(old, next)) continue;
    checkSize(next, false);
    checkDocument(coll.options, next, old, bypass);
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
  ((cmd.updates as Document[]) ?? []).some((stmt, index) => {
    try {
      const r = updateOne(ctx, coll, stmt, cmd.bypassDocumentValidation);
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
    const collation = collationFor(coll, stmt.collation);
    checkHint(coll, stmt.hint);
    matcher(stmt.q ?? {}, collation); // an invalid filter fails even on a missing collection
    if (!coll) continue;
    const found = matching(coll, stmt.q ?? {}, collation);
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
  checkHint(coll, cmd.hint);
  const collation = collationFor(coll, cmd.collation);
  const [target] = findDocs(coll, cmd.query ?? {}, { sort: cmd.sort, limit: 1, collation });
  const project = (doc: Document | null) =>
    doc && cmd.fields && Object.keys(cmd.fields).length
      ? projectDocs([doc], cmd.fields, { filter: cmd.query, collation })[0]
      : doc;
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
    let doc = applyUpdate(base, cmd.update, { inserting: true, arrayFilters: cmd.arrayFilters, collation });
    if (doc._id === undefined) doc = { _id: base._id ?? new ObjectId(), ...doc };
    checkSize(doc, true);
    checkDocument(coll.options, doc, null, cmd.bypassDocumentValidation);
    doc = coll.insert(doc);
    put(ctx, coll, doc);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
      value: cmd.new ? project(doc) : null,
      ok: 1,
    };
  }
  const next = applyUpdate(target, cmd.update, {
    inserting: false,
    arrayFilters: cmd.arrayFilters,
    query: cmd.query,
    collation,
  });
  if (!sameBytes(target, next)) {
    checkSize(next, false);
    checkDocument(coll.options, next, target, cmd.bypassDocumentValidation);
    coll.replace(target, next);
    put(ctx, coll, next);
  }
  return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(cmd.new ? next : target), ok: 1 };
};
