/**
 * The embedded MongoDB-compatible engine: a development and test database that speaks MongoDB's wire
 * protocol, so the official driver, mongoose, connect-mongo and mongosh use it by URI exactly as they
 * would a MongoDB server. Built on `bson` (encoding) and `mingo` (queries, updates, aggregation).
 * Production runs on MongoDB; the conformance suite (test/conformance) runs against both.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Engine } from './engine';
import { Persistence } from './persistence';
import { createWireServer } from './server';
import { removeExpired } from './ttl';

export interface EmbeddedMongoOptions {
  /** A folder for the data; null or undefined keeps everything in memory (tests). */
  dataDir?: string | null;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How often expired documents are removed (MongoDB: 60 s). */
  ttlMonitorIntervalMs?: number;
  logger?: { info(o: object | string, msg?: string): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
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
  const persistence = opts.dataDir ? new Persistence(path.resolve(opts.dataDir)) : null;
  const engine = new Engine(persistence);
  if (persistence) {
    const { records, truncatedBytes } = persistence.open();
    for (const r of records) engine.apply(r);
    if (truncatedBytes) opts.logger?.warn({ truncatedBytes }, 'embedded database: cut a torn record at the end of the journal');
    persistence.compact(engine.stateRecords());
  }
  const server = createWireServer(engine, (err) => opts.logger?.error({ err }, 'embedded database: bad message from a client'));
  const host = opts.host ?? '127.0.0.1';
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
