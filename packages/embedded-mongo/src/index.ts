/**
 * The embedded MongoDB-compatible engine: a development and test database that speaks MongoDB's wire
 * protocol, so the official driver, mongoose, connect-mongo and mongosh use it by URI exactly as they
 * would a MongoDB server. Built on `bson` (encoding) and `mingo` (queries, updates, aggregation).
 * Production runs on MongoDB; the conformance suite (test/conformance) runs against both.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { EngineThreadData, EngineThreadMessage } from './thread';

export interface EmbeddedMongoOptions {
  /** A folder for the data; null or undefined keeps everything in memory (tests). */
  dataDir?: string | null;
  /** A loopback address only (the engine has no authentication); anything else is refused. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How often expired documents are removed (MongoDB: 60 s). */
  ttlMonitorIntervalMs?: number;
  logger?: { info(o: object | string, msg?: string): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
}

/** The engine has no authentication, so it listens only where nobody else can connect. */
export class NonLoopbackRefused extends Error {
  constructor(readonly host: string) {
    super(
      `Refusing to listen on ${host}: the embedded engine has no authentication, so it only binds to a loopback address (127.0.0.1, ::1 or localhost). Reach it from other machines through an SSH tunnel, or use a real MongoDB with authentication.`,
    );
  }
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 (and its IPv4-mapped forms), localhost. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  const parts = v4.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export interface EmbeddedMongo {
  uri: string;
  host: string;
  port: number;
  /** Forces the journal to disk. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedMongo(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongo> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host)) throw new NonLoopbackRefused(host);
  // Required here, not at the top: a process that runs the engine in its thread (the portal's default)
  // imports this file for startEmbeddedMongoThread only, and should not carry the query engine's code
  // (mingo, ajv: ~4 MB of heap) in its own isolate as well as in the thread's.
  const { Engine } = require('./engine') as typeof import('./engine');
  const { Persistence } = require('./persistence') as typeof import('./persistence');
  const { createWireServer } = require('./server') as typeof import('./server');
  const { removeExpired } = require('./ttl') as typeof import('./ttl');
  const persistence = opts.dataDir ? new Persistence(path.resolve(opts.dataDir)) : null;
  const engine = new Engine(persistence);
  if (persistence) {
    const { truncatedBytes } = persistence.open((rec, fromSnapshot) =>
      fromSnapshot ? engine.load(rec) : engine.apply(rec),
    );
    if (truncatedBytes)
      opts.logger?.warn({ truncatedBytes }, 'embedded database: cut a torn record at the end of the journal');
    // A journal with records (a crash, a kill) or a torn tail is folded into a new snapshot; after a
    // clean stop the snapshot is already the state and is kept as it is.
    if (!persistence.resume()) persistence.compact(engine.stateRecords());
  }
  const server = createWireServer(engine, (err) =>
    opts.logger?.error({ err }, 'embedded database: bad message from a client'),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const ttlTimer = setInterval(() => {
    removeExpired(engine);
    engine.sweepCursors();
  }, opts.ttlMonitorIntervalMs ?? 60_000);
  ttlTimer.unref();
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let stopped = false;
  return {
    uri: `mongodb://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    host,
    port,
    flush: async () => persistence?.sync(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(ttlTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      if (persistence) {
        persistence.compact(engine.stateRecords());
        persistence.close();
      }
    },
  };
}

export interface EmbeddedMongoThread extends EmbeddedMongo {
  /** Settles when the thread has ended: after stop(), or with the error that ended it unexpectedly. */
  readonly ended: Promise<Error | null>;
  /** The thread itself (tests end it to check that a crash is reported). */
  readonly worker: Worker;
}

/** Data folders opened by engine threads of this process: every thread shares the process's pid, so the LOCK file alone cannot tell them apart. */
const threadDirs = new Set<string>();

/** The thread's code: the compiled file, or, from TypeScript sources (tests, npm run dev), through tsx. */
function threadSource(): { source: string; evaluate: boolean } {
  const file = path.join(__dirname, `thread${path.extname(__filename)}`);
  if (file.endsWith('.js')) return { source: file, evaluate: false };
  return {
    source: `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`,
    evaluate: true,
  };
}

/**
 * The engine in a worker thread of this process (the default for `npm start`): see ./thread.ts for why.
 * Same options and handle as startEmbeddedMongo; the engine's log lines come to opts.logger, and a thread
 * that ends without stop() (an exception, out of memory) is logged as an error and settles `ended` with it.
 */
export async function startEmbeddedMongoThread(opts: EmbeddedMongoOptions = {}): Promise<EmbeddedMongoThread> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host)) throw new NonLoopbackRefused(host);
  const dir = opts.dataDir ? path.resolve(opts.dataDir) : null;
  if (dir && threadDirs.has(dir))
    throw new Error(
      `The database folder ${dir} is in use by process ${process.pid}. Stop it first, or connect to it (npm run db) instead of opening the files twice.`,
    );
  if (dir) threadDirs.add(dir);
  const { logger, ...data } = opts;
  const { source, evaluate } = threadSource();
  const worker = new Worker(source, {
    eval: evaluate,
    workerData: { ...data, host, dataDir: dir } satisfies EngineThreadData,
  });
  const calls = new Map<number, { resolve(): void; reject(err: Error): void }>();
  let nextId = 0;
  let stopping = false;
  let ready: ((m: { uri: string; host: string; port: number }) => void) | null = null;
  let failed: ((err: Error) => void) | null = null;
  let lastError: Error | null = null;
  let exited: Error | null = null;
  const started = new Promise<{ uri: string; host: string; port: number }>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  worker.on('message', (m: EngineThreadMessage) => {
    if (m.type === 'ready') ready?.(m);
    else if (m.type === 'failed') failed?.(Object.assign(new Error(m.message), { stack: m.stack }));
    else if (m.type === 'log') logger?.[m.level](m.obj as object, m.msg);
    else if (m.type === 'done') {
      const call = calls.get(m.id);
      calls.delete(m.id);
      if (m.error) call?.reject(new Error(m.error));
      else call?.resolve();
    }
  });
  worker.on('error', (err) => {
    lastError = err;
  });
  const ended = new Promise<Error | null>((resolve) => {
    worker.once('exit', (code) => {
      if (dir) threadDirs.delete(dir);
      const err = stopping
        ? null
        : (lastError ?? new Error(`The embedded database thread stopped unexpectedly (exit code ${code})`));
      exited = err ?? new Error('The embedded database thread has stopped');
      for (const call of calls.values()) call.reject(err ?? new Error('The embedded database thread has stopped'));
      calls.clear();
      failed?.(err ?? new Error('The embedded database thread has stopped'));
      if (err && ready === null) logger?.error({ err }, 'embedded database: the engine thread died');
      resolve(err);
    });
  });
  const where = await started;
  ready = null; // from here on, an unexpected exit is a crash to report
  failed = null;
  const call = (op: 'flush' | 'stop') =>
    new Promise<void>((resolve, reject) => {
      // A thread that has ended answers nothing: refuse at once rather than wait forever.
      if (exited) return reject(exited);
      const id = ++nextId;
      calls.set(id, { resolve, reject });
      worker.postMessage({ id, op });
    });
  return {
    ...where,
    worker,
    ended,
    flush: () => call('flush'),
    stop: async () => {
      if (stopping) return;
      stopping = true;
      try {
        await call('stop');
      } catch {
        /* the thread had already ended: nothing left to stop */
      }
      await ended;
    },
  };
}
