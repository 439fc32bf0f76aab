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
 * `listen: true` serves the app on a random loopback port, which is also its PUBLIC_URL (so links, and
 * the OpenID Connect issuer, name the address the tests reach): the port is taken before the app is built.
 * `localhost`: the same at http://localhost:<port> (the passkey tests: WebAuthn needs a host name as its
 * rpID, never an IP, and the origin the portal expects).
 */
export async function startTestApp(
  name: string,
  opts: { env?: Record<string, string>; listen?: boolean; localhost?: boolean; now?: () => Date } = {},
): Promise<TestApp> {
  const dbName = `test_${name.replace(/[^a-z0-9]/gi, '_')}_${process.pid}`;
  const mongo = await testMongoUri(dbName);
  let server: Server | undefined;
  let baseUrl = '';
  if (opts.listen || opts.localhost) {
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://${opts.localhost ? 'localhost' : '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  }
  const config = loadConfig({
    ...(baseUrl ? { PUBLIC_URL: baseUrl } : {}),
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
  server?.on('request', app);
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
