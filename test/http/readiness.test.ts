/** /readyz follows the database: 503 while it is unreachable, 200 again once it is back; /healthz stays 200. */
import request from 'supertest';
import mongoose from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '../../src/embedded-mongo';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connectDatabase, type Database } from '../../src/data/connection';
import { seed } from '../../src/data/seed';
import { createApp } from '../../src/app';

let engine: EmbeddedMongo;
let db: Database;

afterAll(async () => {
  await db?.close().catch(() => undefined);
  await engine?.stop();
});

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

it('answers 503 while the database is down and recovers when it returns', async () => {
  if (process.env.MONGODB_URI) return; // needs a database it can stop and start
  engine = await startEmbeddedMongo({ port: 0 });
  const port = engine.port;
  db = await connectDatabase({ mongoUri: `${engine.uri}readiness` });
  await seed();
  const app = createApp(loadConfig({ NODE_ENV: 'test', SESSION_SECRET: 'x'.repeat(40), LOG_LEVEL: 'silent', DATA_DIR: '/tmp/portal-test-data' }), db, createLogger('silent'));
  expect((await request(app).get('/readyz')).status).toBe(200);

  await engine.stop();
  expect(await eventually(async () => (await request(app).get('/readyz')).status === 503, 15_000)).toBe(true);
  expect((await request(app).get('/healthz')).status).toBe(200);

  engine = await startEmbeddedMongo({ port });
  expect(await eventually(async () => (await request(app).get('/readyz')).status === 200, 30_000)).toBe(true);
  expect(mongoose.connection.readyState).toBe(1);
}, 60_000);
