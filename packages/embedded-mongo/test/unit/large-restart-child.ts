/**
 * Child of persistence-large.test.ts (a plain Node process: jest's module sandbox slows this bulk work
 * about twofold). Writes a snapshot of RECORDS documents and a journal of RECORDS newer versions through
 * the engine's Persistence, restarts the engine on them, reads through the driver, and prints what it
 * found as one JSON line.
 */
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../src';
import { Persistence, type JournalRecord } from '../../src/persistence';
import fs from 'node:fs';
import path from 'node:path';

async function main(dir: string, records: number) {
  const p = new Persistence(dir);
  p.open(() => {
    throw new Error('a new folder has nothing to replay');
  });
  function* snapshot(): Generator<JournalRecord> {
    yield { op: 'createColl', db: 'big', coll: 'users', options: {} };
    yield { op: 'createIndex', db: 'big', coll: 'users', spec: { v: 2, key: { n: 1 }, name: 'n_1', unique: true } };
    for (let i = 0; i < records; i++) yield { op: 'put', db: 'big', coll: 'users', doc: { _id: i, n: i } };
  }
  p.compact(snapshot());
  // The journal holds a newer version of every document, written in command-sized batches.
  for (let from = 0; from < records; from += 10_000) {
    const batch: JournalRecord[] = [];
    for (let i = from; i < Math.min(records, from + 10_000); i++)
      batch.push({ op: 'put', db: 'big', coll: 'users', doc: { _id: i, n: i, v: 2 } });
    p.append(batch);
  }
  p.close();
  const files = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.statSync(path.join(dir, f)).size]));

  const engine = await startEmbeddedMongo({ dataDir: dir });
  const client = await MongoClient.connect(`${engine.uri}big`);
  try {
    const users = client.db().collection<{ _id: number; n: number; v?: number }>('users');
    const count = await users.estimatedDocumentCount();
    const samples = [];
    for (const n of [0, 1, records / 2, records - 1]) samples.push(await users.findOne({ n }));
    let duplicateCode: number | undefined;
    try {
      await users.insertOne({ _id: -1, n: 5 });
    } catch (err) {
      duplicateCode = (err as { code?: number }).code;
    }
    process.stdout.write(`${JSON.stringify({ files, count, samples, duplicateCode })}\n`);
  } finally {
    await client.close();
    await engine.stop();
  }
}

main(process.argv[2], Number(process.argv[3])).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
