/**
 * A restart after a large job: a snapshot of a million records and a journal of a million more are
 * loaded record by record (no spread of a whole file into push(...), which overflowed the stack at about
 * 130k records), and every document comes back with its latest version and its unique index.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../../src/embedded-mongo';
import { Persistence, type JournalRecord } from '../../../src/embedded-mongo/persistence';

const RECORDS = 1_000_000;

it('restarts from a snapshot of a million records and a journal of a million records', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-large-'));
  const p = new Persistence(dir);
  p.open(() => {
    throw new Error('a new folder has nothing to replay');
  });
  function* snapshot(): Generator<JournalRecord> {
    yield { op: 'createColl', db: 'big', coll: 'users', options: {} };
    yield { op: 'createIndex', db: 'big', coll: 'users', spec: { v: 2, key: { n: 1 }, name: 'n_1', unique: true } };
    for (let i = 0; i < RECORDS; i++) yield { op: 'put', db: 'big', coll: 'users', doc: { _id: i, n: i } };
  }
  p.compact(snapshot());
  // The journal holds a newer version of every document, written in command-sized batches.
  for (let from = 0; from < RECORDS; from += 10_000) {
    const batch: JournalRecord[] = [];
    for (let i = from; i < from + 10_000; i++) batch.push({ op: 'put', db: 'big', coll: 'users', doc: { _id: i, n: i, v: 2 } });
    p.append(batch);
  }
  p.close();
  expect(fs.statSync(path.join(dir, 'journal-1.bin')).size).toBeGreaterThan(RECORDS * 20);

  const engine = await startEmbeddedMongo({ dataDir: dir });
  const client = await MongoClient.connect(`${engine.uri}big`);
  try {
    const users = client.db().collection<{ _id: number; n: number; v?: number }>('users');
    expect(await users.estimatedDocumentCount()).toBe(RECORDS);
    // Documents from the start, the middle and the end of the files carry their journal version.
    for (const n of [0, 1, RECORDS / 2, RECORDS - 1]) expect(await users.findOne({ n })).toEqual({ _id: n, n, v: 2 });
    await expect(users.insertOne({ _id: -1, n: 5 })).rejects.toMatchObject({ code: 11000 });
  } finally {
    await client.close();
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
