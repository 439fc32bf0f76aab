/** The real app on an in-memory embedded database, for benchmarks (no test framework needed). */
import type { Server } from 'node:http';
import type express from 'express';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { connectDatabase, type Database } from '../src/data/connection';
import { seed } from '../src/data/seed';
import { createApp } from '../src/app';

export async function startBenchApp(
  name: string,
  env: Record<string, string> = {},
): Promise<{ app: express.Express; server: Server; db: Database; stop(): Promise<void> }> {
  const config = loadConfig({
    NODE_ENV: 'test',
    SESSION_SECRET: `bench-secret-${name}-0123456789abcdefghijklmnop`,
    LOG_LEVEL: 'silent',
    DATA_DIR: '/tmp/portal-bench-data',
    // Benchmarks log in far more often than a person: keep the throttle out of the measurement.
    LOGIN_MAX_FAILS_PER_USER_IP: '1000000',
    ...env,
  });
  // Always the in-memory embedded engine: a benchmark must never write into a real database.
  const db = await connectDatabase({ embeddedDataDir: null });
  await seed();
  const app = createApp(config, db, createLogger('silent'));
  // One listening server for the whole run, as in production (supertest would otherwise listen per request).
  const server = await listenLocal(app);
  return {
    app,
    server,
    db,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await db.close();
    },
  };
}

/** Listens on a free loopback port. */
export function listenLocal(app: express.Express): Promise<Server> {
  return new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
}
