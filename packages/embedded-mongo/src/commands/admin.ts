/** Handshake and server information. The engine presents itself as a standalone MongoDB 7.0. */
import { Long, ObjectId } from 'bson';
import type { CommandHandler } from './context';

const processId = new ObjectId();
export const MAX_WIRE_VERSION = 21;

export const hello: CommandHandler = (cmd, ctx) => ({
  helloOk: true,
  ismaster: true,
  isWritablePrimary: true,
  topologyVersion: { processId, counter: Long.ZERO },
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  logicalSessionTimeoutMinutes: 30,
  connectionId: ctx.connectionId,
  minWireVersion: 0,
  maxWireVersion: MAX_WIRE_VERSION,
  readOnly: false,
  ok: 1,
  ...(cmd.compression ? { compression: [] } : {}),
});

export const ping: CommandHandler = () => ({ ok: 1 });

export const buildInfo: CommandHandler = () => ({
  version: '7.0.0',
  gitVersion: 'embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  maxBsonObjectSize: 16 * 1024 * 1024,
  storageEngines: ['embedded'],
  ok: 1,
});

export const ok: CommandHandler = () => ({ ok: 1 });

export const serverStatus: CommandHandler = (_cmd, ctx) => ({
  host: 'embedded',
  version: '7.0.0',
  process: 'embedded-mongo',
  uptime: Math.floor(process.uptime()),
  localTime: new Date(),
  connections: { current: ctx.connectionId },
  ok: 1,
});

export const hostInfo: CommandHandler = () => ({
  system: { hostname: 'localhost' },
  os: { type: process.platform },
  ok: 1,
});
export const getParameter: CommandHandler = () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 });
export const getCmdLineOpts: CommandHandler = () => ({ argv: [], parsed: {}, ok: 1 });
export const connectionStatus: CommandHandler = () => ({
  authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] },
  ok: 1,
});
export const whatsmyuri: CommandHandler = () => ({ you: '127.0.0.1', ok: 1 });
export const getLog: CommandHandler = () => ({ totalLinesWritten: 0, log: [], ok: 1 });
