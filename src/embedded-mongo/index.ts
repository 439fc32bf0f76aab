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
    super(`Refusing to listen on ${host}: the embedded engine has no authentication, so it only binds to a loopback address (127.0.0.1, ::1 or localhost). Reach it from other machines through an SSH tunnel, or use a real MongoDB with authentication.`);
  }
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 (and its IPv4-mapped forms), localhost. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
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
  const persistence = opts.dataDir ? new Persistence(path.resolve(opts.dataDir)) : null;
  const engine = new Engine(persistence);
  if (persistence) {
    const { truncatedBytes } = persistence.open((rec) => engine.apply(rec));
    if (truncatedBytes) opts.logger?.warn({ truncatedBytes }, 'embedded database: cut a torn record at the end of the journal');
    persistence.compact(engine.stateRecords());
  }
  const server = createWireServer(engine, (err) => opts.logger?.error({ err }, 'embedded database: bad message from a client'));
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
