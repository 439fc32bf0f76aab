/** Command dispatch: the first key of the command document names it (case-insensitively for legacy). */
import type { Document } from 'bson';
import { asMongoError, commandNotFound, illegalOperation } from '../errors';
import type { CommandContext, CommandHandler } from './context';
import * as admin from './admin';
import * as ddl from './ddl';
import * as query from './query';
import * as write from './write';

// What a standalone MongoDB answers to a transaction: the embedded engine is one.
const TRANSACTIONS_REFUSED =
  'Transaction numbers are only allowed on a replica set member or mongos (the embedded engine is a standalone server without transactions)';
const refuse: CommandHandler = () => {
  throw illegalOperation(TRANSACTIONS_REFUSED);
};

const HANDLERS: Record<string, CommandHandler> = {
  hello: admin.hello,
  ismaster: admin.hello,
  ping: admin.ping,
  buildinfo: admin.buildInfo,
  serverstatus: admin.serverStatus,
  hostinfo: admin.hostInfo,
  getparameter: admin.getParameter,
  getcmdlineopts: admin.getCmdLineOpts,
  connectionstatus: admin.connectionStatus,
  whatsmyuri: admin.whatsmyuri,
  getlog: admin.getLog,
  endsessions: admin.ok,
  killallsessions: admin.ok,
  killsessions: admin.ok,
  refreshsessions: admin.ok,
  startsession: admin.ok,
  create: ddl.create,
  drop: ddl.drop,
  dropdatabase: ddl.dropDatabase,
  listcollections: ddl.listCollections,
  listdatabases: ddl.listDatabases,
  createindexes: ddl.createIndexes,
  listindexes: ddl.listIndexes,
  dropindexes: ddl.dropIndexes,
  renamecollection: ddl.renameCollection,
  deleteindexes: ddl.dropIndexes,
  insert: write.insert,
  update: write.update,
  delete: write.remove,
  findandmodify: write.findAndModify,
  find: query.find,
  explain: query.explain,
  getmore: query.getMore,
  killcursors: query.killCursors,
  count: query.count,
  distinct: query.distinct,
  aggregate: query.aggregate,
  committransaction: refuse,
  aborttransaction: refuse,
};

export function runCommand(cmd: Document, ctx: CommandContext): Document {
  const name = Object.keys(cmd)[0] ?? '';
  // Own entries only: a command named `constructor` or `__proto__` is unknown, not Object's.
  const key = name.toLowerCase();
  const handler = Object.prototype.hasOwnProperty.call(HANDLERS, key) ? HANDLERS[key] : undefined;
  try {
    if (!handler) throw commandNotFound(name);
    if (cmd.startTransaction || cmd.autocommit !== undefined) throw illegalOperation(TRANSACTIONS_REFUSED);
    const reply = handler(cmd, ctx);
    ctx.engine.commit();
    return reply;
  } catch (err) {
    ctx.engine.commit(); // writes that succeeded before an error are kept, as in MongoDB
    return asMongoError(err).toReply();
  }
}
