/**
 * Starts the real app on a fresh database (the embedded engine in memory, or MONGODB_URI's server with a
 * database of its own), seeded like a first start. One per test file: mongoose is a per-file singleton.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import mongoose from 'mongoose';
import type express from 'express';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connectDatabase, type Database } from '../../src/data/connection';
import { seed } from '../../src/data/seed';
import { createApp } from '../../src/app';
import { testMongoUri } from './mongo';

export interface TestApp {
  app: express.Express;
  db: Database;
  config: Config;
  /** Base URL when started with listen: true (browser tests). */
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * `localhost`: listen first and serve the app at http://localhost:<port> with PUBLIC_URL set to it (the
 * passkey tests: WebAuthn needs a host name as its rpID, never an IP, and the origin the portal expects).
 */
export async function startTestApp(name: string, opts: { env?: Record<string, string>; listen?: boolean; localhost?: boolean; now?: () => Date } = {}): Promise<TestApp> {
  const dbName = `test_${name.replace(/[^a-z0-9]/gi, '_')}_${process.pid}`;
  const mongo = await testMongoUri(dbName);
  let early: Server | undefined;
  if (opts.localhost) {
    early = createServer();
    await new Promise<void>((resolve) => early!.listen(0, '127.0.0.1', resolve));
    opts = { ...opts, env: { PUBLIC_URL: `http://localhost:${(early.address() as AddressInfo).port}`, ...opts.env } };
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    SESSION_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATA_DIR: '/tmp/portal-test-data',
    // A cheap proof of work (the real check, a smaller search): forms solve it in a few milliseconds.
    POW_MAX_NUMBER: '2000',
    ...opts.env,
  });
  const logger = createLogger(config.logLevel);
  const db = await connectDatabase({ mongoUri: mongo.uri });
  await mongoose.connection.db!.dropDatabase();
  await Promise.all(Object.values(mongoose.models).map((m) => m.syncIndexes()));
  await seed();
  const app = createApp(config, db, logger, { now: opts.now });
  let server: Server | undefined;
  let baseUrl = '';
  if (early) {
    server = early;
    server.on('request', app);
    baseUrl = config.publicUrl;
  } else if (opts.listen) {
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    app,
    db,
    config,
    baseUrl,
    async stop() {
      if (server) {
        server.closeAllConnections();
        await new Promise((r) => server!.close(r));
      }
      if (process.env.MONGODB_URI) await mongoose.connection.db?.dropDatabase();
      await db.close();
      await mongo.stop();
    },
  };
}
