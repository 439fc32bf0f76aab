/**
 * The engine in its own worker thread (the default for npm start): it answers the driver by URI, flush
 * and stop keep their meaning, data survives a restart on the same folder, the LOCK still refuses a
 * second owner, and a thread that dies is reported (logged, `ended` settles with the error), after
 * which the same folder opens again with every acknowledged write.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongoThread } from '../../src';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'engine-thread-'));

function recordingLogger() {
  const lines: { level: string; obj: unknown; msg?: string }[] = [];
  const at = (level: string) => (obj: unknown, msg?: unknown) =>
    void lines.push({ level, obj, msg: msg as string | undefined });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

it('answers queries from its own thread and ends on stop()', async () => {
  const engine = await startEmbeddedMongoThread({ port: 0 });
  expect(engine.worker.threadId).toBeGreaterThan(0);
  const client = await MongoClient.connect(`${engine.uri}thread`);
  try {
    const items = client.db().collection('items');
    await items.createIndex({ n: 1 }, { unique: true });
    await items.insertMany([{ n: 2 }, { n: 1 }]);
    expect(
      await items
        .find({ n: { $gte: 1 } }, { projection: { _id: 0 } })
        .sort({ n: 1 })
        .toArray(),
    ).toEqual([{ n: 1 }, { n: 2 }]);
    await expect(items.insertOne({ n: 1 })).rejects.toMatchObject({ code: 11000 });
  } finally {
    await client.close();
    await engine.stop();
  }
  expect(await engine.ended).toBeNull();
});

it('flushes, stops and opens the same folder again with the data', async () => {
  const dir = tmpDir();
  const first = await startEmbeddedMongoThread({ dataDir: dir });
  const c1 = await MongoClient.connect(`${first.uri}persist`);
  await c1.db().collection('users').insertOne({ username: 'kept' });
  await first.flush();
  await c1.close();
  await first.stop();
  expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);

  const second = await startEmbeddedMongoThread({ dataDir: dir });
  const c2 = await MongoClient.connect(`${second.uri}persist`);
  try {
    expect(
      await c2
        .db()
        .collection('users')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ username: 'kept' }]);
  } finally {
    await c2.close();
    await second.stop();
  }
});

it('refuses a folder another thread of this process has open, and one another process holds', async () => {
  const dir = tmpDir();
  const engine = await startEmbeddedMongoThread({ dataDir: dir });
  try {
    await expect(startEmbeddedMongoThread({ dataDir: dir })).rejects.toThrow(/in use by process/);
  } finally {
    await engine.stop();
  }
  const other = tmpDir();
  fs.writeFileSync(path.join(other, 'LOCK'), String(process.ppid));
  await expect(startEmbeddedMongoThread({ dataDir: other })).rejects.toThrow(/in use by process/);
});

it('reports a thread that dies, and the same folder opens again with every acknowledged write', async () => {
  const dir = tmpDir();
  const { lines, logger } = recordingLogger();
  const engine = await startEmbeddedMongoThread({ dataDir: dir, logger });
  const client = await MongoClient.connect(`${engine.uri}crash`, { serverSelectionTimeoutMS: 500 });
  await client
    .db()
    .collection('items')
    .insertMany([{ n: 1 }, { n: 2 }]);
  await engine.worker.terminate(); // as an uncaught exception or out-of-memory would end it
  const err = await engine.ended;
  expect(err?.message).toMatch(/stopped unexpectedly/);
  expect(lines).toEqual([
    expect.objectContaining({ level: 'error', msg: 'embedded database: the engine thread died' }),
  ]);
  await expect(engine.flush()).rejects.toThrow(/stopped/);
  await client.close();

  const again = await startEmbeddedMongoThread({ dataDir: dir });
  const c2 = await MongoClient.connect(`${again.uri}crash`);
  try {
    expect(await c2.db().collection('items').countDocuments()).toBe(2);
  } finally {
    await c2.close();
    await again.stop();
  }
});

it('passes an error at start (a damaged folder) back to the caller', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'snapshot.bson'), Buffer.from('not a snapshot at all'));
  const failure = startEmbeddedMongoThread({ dataDir: dir });
  await expect(failure).rejects.toThrow(/./);
  expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
});
