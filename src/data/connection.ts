/**
 * Opens the database: a real MongoDB when MONGODB_URI is set, otherwise the embedded development
 * engine, started in its own worker thread of this process (so its work never holds the requests'
 * event loop) with its files in DATA_DIR/db. The only place that knows the difference.
 */
import path from 'node:path';
import mongoose from 'mongoose';
import type { Logger } from 'pino';
import { startEmbeddedMongoThread, type EmbeddedMongoThread } from '@identity-portal/embedded-mongo';

// Queries never take operators from request data: a filter value that is an object is cast, not obeyed.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', true);

export interface Database {
  connection: mongoose.Connection;
  /** The URI this process connected to (with the database name), for the ingest thread's own pool. */
  uri: string;
  kind: 'mongodb' | 'embedded';
  /** Flushes the embedded engine to disk (no-op on MongoDB). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions {
  mongoUri?: string;
  /** Where the embedded engine keeps its files; null keeps it in memory (tests). */
  embeddedDataDir?: string | null;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export async function connectDatabase(opts: ConnectOptions): Promise<Database> {
  let embedded: EmbeddedMongoThread | undefined;
  let closing = false;
  let uri = opts.mongoUri;
  /**
   * A thread that dies is logged and started again on the same files and the same port, so the
   * driver's pool reconnects by itself (requests in flight meanwhile fail and are retried by the user).
   */
  const superviseEngine = (engine: EmbeddedMongoThread) => {
    void engine.ended.then(async (err) => {
      if (!err || closing) return;
      opts.logger?.error({ err }, 'The embedded database thread died; starting it again on the same data');
      try {
        embedded = await startEmbeddedMongoThread({ dataDir: opts.embeddedDataDir ?? null, port: engine.port, logger: opts.logger });
        superviseEngine(embedded);
      } catch (restartErr) {
        opts.logger?.error({ err: restartErr }, 'The embedded database could not be started again');
      }
    });
  };
  if (!uri) {
    embedded = await startEmbeddedMongoThread({
      dataDir: opts.embeddedDataDir ?? null,
      port: 0,
      logger: opts.logger,
    });
    superviseEngine(embedded);
    uri = `${embedded.uri.replace(/\/$/, '')}/portal`;
    opts.logger?.warn(
      { database: 'embedded', dataDir: opts.embeddedDataDir ?? '(memory)' },
      'Using the embedded MongoDB-compatible engine: for development and tests only. Set MONGODB_URI for production.',
    );
  } else {
    opts.logger?.info({ database: 'mongodb' }, 'Using MongoDB from MONGODB_URI');
  }
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: true });
  await Promise.all(Object.values(mongoose.models).map((m) => m.init()));
  return {
    connection: mongoose.connection,
    uri,
    kind: embedded ? 'embedded' : 'mongodb',
    flush: async () => {
      await embedded?.flush();
    },
    close: async () => {
      closing = true;
      await mongoose.disconnect();
      await embedded?.stop();
    },
  };
}

export function embeddedDataDir(dataDir: string): string {
  return path.join(dataDir, 'db');
}

/** True when the database answers a ping (readiness probe). */
export async function databaseIsUp(): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db || mongoose.connection.readyState !== 1) return false;
  try {
    await db.admin().ping({ timeoutMS: 2000 } as never);
    return true;
  } catch {
    return false;
  }
}

/**
 * Connects a worker thread's own mongoose (each thread has its own module instances) to the database
 * the server opened: the same settings above, no index builds (the server made them), a small pool.
 */
export async function connectWorkerThread(uri: string): Promise<() => Promise<void>> {
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000, autoIndex: false, autoCreate: false, maxPoolSize: 4 });
  return () => mongoose.disconnect();
}
