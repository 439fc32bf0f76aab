/** /readyz follows the database: 503 while it is unreachable, 200 again once it is back; /healthz stays 200. */
import request from 'supertest';
import mongoose from 'mongoose';
import { startEmbeddedMongo, type EmbeddedMongo } from '@identity-portal/embedded-mongo';
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

/** Resolves on the connection's next `event` (the driver's own signal, however long it takes to come). */
const next = (event: 'disconnected' | 'connected' | 'reconnected') =>
  new Promise<void>((resolve) => mongoose.connection.once(event, () => resolve()));

it('answers 503 while the database is down and recovers when it returns', async () => {
  if (process.env.MONGODB_URI) return; // needs a database it can stop and start
  engine = await startEmbeddedMongo({ port: 0 });
  const port = engine.port;
  db = await connectDatabase({ mongoUri: `${engine.uri}readiness` });
  await seed();
  const app = createApp(
    loadConfig({
      NODE_ENV: 'test',
      SESSION_SECRET: 'x'.repeat(40),
      LOG_LEVEL: 'silent',
      DATA_DIR: '/tmp/portal-test-data',
    }),
    db,
    createLogger('silent'),
  );
  expect((await request(app).get('/readyz')).status).toBe(200);

  const down = next('disconnected');
  await engine.stop();
  await down;
  const whileDown = await request(app).get('/readyz');
  expect(whileDown.status).toBe(503);
  expect(whileDown.body).toEqual({ status: 'database unavailable' });
  expect((await request(app).get('/healthz')).status).toBe(200);

  const up = Promise.race([next('connected'), next('reconnected')]);
  engine = await startEmbeddedMongo({ port });
  await up;
  const back = await request(app).get('/readyz');
  expect(back.status).toBe(200);
  expect(back.body).toEqual({ status: 'ready' });
  expect(mongoose.connection.readyState).toBe(1);
}, 60_000);
