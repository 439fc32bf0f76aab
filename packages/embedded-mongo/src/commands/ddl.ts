/** Collections and indexes: create, drop, listCollections, createIndexes, listIndexes, dropIndexes, databases. */
import { Long, type Document } from 'bson';
import { Query } from 'mingo';
import type { IndexSpec } from '../collection';
import {
  MongoCommandError,
  badValue,
  indexNotFound,
  invalidOptions,
  namespaceExists,
  namespaceNotFound,
  notSupported,
} from '../errors';
import { isPlainObject } from '../keys';
import type { CommandHandler } from './context';
import { validatorOf } from '../validation';

export const create: CommandHandler = (cmd, ctx) => {
  if (ctx.engine.collection(ctx.db, cmd.create)) throw namespaceExists(`${ctx.db}.${cmd.create}`);
  const { create: _name, lsid: _l, $db: _d, $clusterTime: _c, writeConcern: _w, ...options } = cmd;
  if (options.capped && !options.size) throw invalidOptions("the 'size' field is required when 'capped' is true");
  if ((options.size || options.max) && !options.capped)
    throw invalidOptions("the 'size' and 'max' fields only apply to capped collections");
  if (options.capped) throw notSupported('capped collections are not supported by the embedded engine');
  if (options.timeseries) throw notSupported('time-series collections are not supported by the embedded engine');
  if (options.viewOn || options.pipeline) throw notSupported('views are not supported by the embedded engine');
  validatorOf(options); // a validator, level or action that cannot be enforced fails here, before anything is created
  if (options.collation !== undefined) {
    if (!isPlainObject(options.collation) || typeof options.collation.locale !== 'string')
      throw badValue("collation must have a 'locale' string");
    if (options.collation.locale === 'simple') delete options.collation;
  }
  ctx.engine.ensureCollection(ctx.db, cmd.create, options);
  return { ok: 1 };
};

export const drop: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.drop);
  const nIndexesWas = coll?.indexes.length ?? 0;
  ctx.engine.dropCollection(ctx.db, cmd.drop);
  return { nIndexesWas, ns: `${ctx.db}.${cmd.drop}`, ok: 1 };
};

export const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.engine.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

export const listCollections: CommandHandler = (cmd, ctx) => {
  const colls = [...(ctx.engine.dbs.get(ctx.db)?.values() ?? [])];
  let infos: Document[] = colls.map((c) => ({
    name: c.name,
    type: 'collection',
    options: c.options ?? {},
    info: { readOnly: false },
    idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
  }));
  if (cmd.filter && Object.keys(cmd.filter).length) infos = new Query(cmd.filter).find(infos).all() as Document[];
  if (cmd.nameOnly) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  return { cursor: { id: Long.ZERO, ns: `${ctx.db}.$cmd.listCollections`, firstBatch: infos }, ok: 1 };
};

export const listDatabases: CommandHandler = (cmd, ctx) => {
  const databases = [...ctx.engine.dbs.keys()].map((name) => ({
    name,
    sizeOnDisk: 0,
    empty: (ctx.engine.dbs.get(name)?.size ?? 0) === 0,
  }));
  return cmd.nameOnly
    ? { databases: databases.map((d) => ({ name: d.name })), ok: 1 }
    : { databases, totalSize: 0, totalSizeMb: 0, ok: 1 };
};

const defaultName = (key: Document) =>
  Object.entries(key)
    .map(([k, v]) => `${k}_${v}`)
    .join('_');

export const createIndexes: CommandHandler = (cmd, ctx) => {
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0)
    throw badValue('Must specify at least one index to create');
  const existed = Boolean(ctx.engine.collection(ctx.db, cmd.createIndexes));
  const coll = ctx.engine.ensureCollection(ctx.db, cmd.createIndexes);
  const before = coll.indexes.length;
  for (const raw of cmd.indexes as Document[]) {
    if (!raw.key || typeof raw.key !== 'object' || Object.keys(raw.key).length === 0)
      throw badValue('Index key pattern must be a non-empty object');
    const special = Object.values(raw.key).find((v) => typeof v === 'string');
    if (special !== undefined)
      throw new MongoCommandError(
        67,
        'CannotCreateIndex',
        `${special} indexes are not supported by the embedded engine`,
      );
    const spec = { v: 2, ...raw, name: raw.name ?? defaultName(raw.key) } as IndexSpec;
    // A new index takes the collection's default collation unless it names one (simple: none).
    if (spec.collation === undefined && coll.options.collation) spec.collation = coll.options.collation;
    if (isPlainObject(spec.collation) && spec.collation.locale === 'simple') delete spec.collation;
    if (spec.name === '_id_') continue;
    if (coll.createIndex(spec))
      ctx.engine.record({ op: 'createIndex', db: ctx.db, coll: coll.name, spec: spec as Document });
  }
  const reply: Document = {
    numIndexesBefore: before,
    numIndexesAfter: coll.indexes.length,
    createdCollectionAutomatically: !existed,
    ok: 1,
  };
  if (coll.indexes.length === before) reply.note = 'all indexes already exist';
  return reply;
};

export const listIndexes: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.listIndexes);
  if (!coll) throw namespaceNotFound(`${ctx.db}.${cmd.listIndexes}`);
  return {
    cursor: {
      id: Long.ZERO,
      ns: `${ctx.db}.${cmd.listIndexes}`,
      firstBatch: coll.indexes.map((i) => ({ v: 2, ...i.spec })),
    },
    ok: 1,
  };
};

export const dropIndexes: CommandHandler = (cmd, ctx) => {
  const coll = ctx.engine.collection(ctx.db, cmd.dropIndexes);
  if (!coll) throw namespaceNotFound(`${ctx.db}.${cmd.dropIndexes}`);
  const nIndexesWas = coll.indexes.length;
  const which = cmd.index;
  const names: string[] =
    which === '*'
      ? coll.indexes.filter((i) => !i.isId).map((i) => i.name)
      : Array.isArray(which)
        ? which
        : typeof which === 'string'
          ? [which]
          : coll.indexes.filter((i) => JSON.stringify(i.spec.key) === JSON.stringify(which)).map((i) => i.name);
  if (names.length === 0 && which !== '*') throw indexNotFound(JSON.stringify(which));
  for (const name of names) {
    if (!coll.dropIndex(name)) throw indexNotFound(name);
    ctx.engine.record({ op: 'dropIndex', db: ctx.db, coll: coll.name, name });
  }
  return { nIndexesWas, ok: 1 };
};

/** renameCollection runs on admin with full names: { renameCollection: 'db.from', to: 'db.to', dropTarget }. */
export const renameCollection: CommandHandler = (cmd, ctx) => {
  const split = (ns: unknown) => {
    const s = String(ns);
    const dot = s.indexOf('.');
    if (dot <= 0) throw badValue(`Invalid namespace specified '${s}'`);
    return [s.slice(0, dot), s.slice(dot + 1)] as const;
  };
  const [db, from] = split(cmd.renameCollection);
  const [toDb, to] = split(cmd.to);
  if (!ctx.engine.collection(db, from)) throw namespaceNotFound(`${db}.${from}`);
  if (ctx.engine.collection(toDb, to) && !cmd.dropTarget) throw namespaceExists(`${toDb}.${to}`);
  ctx.engine.renameCollection(db, from, toDb, to);
  return { ok: 1 };
};
