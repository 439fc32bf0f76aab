/** Child process for the crash test: inserts numbered documents and prints each acknowledged number. */
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../src';

(async () => {
  const engine = await startEmbeddedMongo({ dataDir: process.argv[2] });
  const client = await MongoClient.connect(`${engine.uri}crash`);
  const coll = client.db().collection('items');
  await coll.createIndex({ n: 1 }, { unique: true });
  for (let n = 0; ; n++) {
    await coll.insertOne({ n, payload: 'x'.repeat(200) });
    process.stdout.write(`${n}\n`);
  }
})();
