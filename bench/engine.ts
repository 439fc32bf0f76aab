/**
 * Embedded engine throughput through the official driver: 100k users inserted (insertMany batches of
 * 1,000) with the portal's user indexes (username unique, communityNickname unique with a case-insensitive
 * collation, contact unique partial, createdAt/_id for keyset pages), then 10k lookups by username.
 * Baselines measured in the same run so figures read as ratios:
 * - the same lookups against a plain JS Map of the documents (the floor for an in-memory store);
 * - a driver `ping` round trip (the wire + driver cost that every command pays, whatever the engine does).
 * Also the same find command run directly against an engine holding the same documents (no socket, no
 * BSON encoding), which is the engine's own share of a lookup.
 * Run: npm run bench (all benchmarks) or npx tsx bench/engine.ts.
 */
import { MongoClient, ObjectId, type Document } from 'mongodb';
import { startEmbeddedMongo } from '@identity-portal/embedded-mongo';
// Internals, only to time a lookup inside the engine without the wire and the driver.
import { Engine } from '../packages/embedded-mongo/src/engine';
import { runCommand } from '../packages/embedded-mongo/src/commands';

const USERS = Number(process.env.BENCH_USERS || 100_000);
const LOOKUPS = 10_000;
const BATCH = 1_000;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export function makeUser(i: number): Document {
  return {
    _id: new ObjectId(),
    username: `user${i}@example.com`,
    communityNickname: `Nick${i}`,
    contact: new ObjectId(),
    firstName: 'Bench',
    lastName: `User ${i}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo',
    createdAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000),
    roles: ['user'],
  };
}

/** Sequential lookups: one in flight at a time, so the figure is latency. */
async function timeLoop(count: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await fn(i);
  return seconds(start);
}

export async function run(): Promise<Record<string, number | string>> {
  const engine = await startEmbeddedMongo({ port: 0 });
  const client = await MongoClient.connect(`${engine.uri}bench_engine`);
  try {
    const users = client.db().collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    await users.createIndex({ communityNickname: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await users.createIndex(
      { contact: 1 },
      { unique: true, partialFilterExpression: { contact: { $type: 'objectId' } } },
    );
    await users.createIndex({ createdAt: -1, _id: -1 });

    const all: Document[] = [];
    const insertStart = process.hrtime.bigint();
    for (let from = 0; from < USERS; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, USERS - from) }, (_, k) => makeUser(from + k));
      for (const u of batch) all.push(u);
      await users.insertMany(batch);
    }
    const insertSeconds = seconds(insertStart);

    // Pseudo-random but reproducible usernames to look up.
    const pick = (i: number) => (i * 7919) % USERS;

    const baselineMap = new Map(all.map((d) => [d.username as string, d]));
    const mapSeconds =
      (await timeLoop(LOOKUPS * 10, (i) => {
        if (!baselineMap.get(`user${pick(i % LOOKUPS)}@example.com`)) throw new Error('baseline miss');
      })) / 10;

    await timeLoop(500, () => client.db().command({ ping: 1 })); // warm up
    const pingSeconds = await timeLoop(LOOKUPS, () => client.db().command({ ping: 1 }));

    await timeLoop(500, (i) => users.findOne({ username: `user${pick(i)}@example.com` }));
    const lookupSeconds = await timeLoop(LOOKUPS, async (i) => {
      const doc = await users.findOne({ username: `user${pick(i)}@example.com` });
      if (!doc) throw new Error('lookup miss');
    });

    const nickSeconds = await timeLoop(LOOKUPS, async (i) => {
      const doc = await users.findOne(
        { communityNickname: `NICK${pick(i)}` },
        { collation: { locale: 'en', strength: 2 } },
      );
      if (!doc) throw new Error('collation lookup miss');
    });

    // Keyset pages over the whole collection: newest first, 50 at a time, from a point in the middle.
    const pages = 200;
    const pageSeconds = await timeLoop(pages, async (i) => {
      const before = new Date(Date.UTC(2025, 0, 1) + ((pick(i) + 100) % USERS) * 60_000);
      const page = await users
        .find({ createdAt: { $lt: before } })
        .sort({ createdAt: -1, _id: -1 })
        .limit(50)
        .toArray();
      if (page.length === 0) throw new Error('empty page');
    });

    const direct = new Engine(null);
    const ctx = { engine: direct, db: 'bench', connectionId: 0 };
    runCommand(
      { createIndexes: 'users', indexes: [{ key: { username: 1 }, name: 'username_1', unique: true }], $db: 'bench' },
      ctx,
    );
    runCommand({ insert: 'users', documents: all, $db: 'bench' }, ctx);
    const directSeconds = await timeLoop(LOOKUPS, (i) => {
      const r = runCommand(
        {
          find: 'users',
          filter: { username: `user${pick(i)}@example.com` },
          limit: 1,
          singleBatch: true,
          $db: 'bench',
        },
        ctx,
      );
      if (r.cursor.firstBatch.length !== 1) throw new Error('direct lookup miss');
    });

    const ms = (s: number, n: number) => Number(((s / n) * 1000).toFixed(4));
    return {
      users: USERS,
      uniqueIndexes: 3,
      insertSeconds: Number(insertSeconds.toFixed(2)),
      insertsPerSec: Math.round(USERS / insertSeconds),
      lookups: LOOKUPS,
      lookupsPerSec: Math.round(LOOKUPS / lookupSeconds),
      msPerLookup: ms(lookupSeconds, LOOKUPS),
      collationLookupsPerSec: Math.round(LOOKUPS / nickSeconds),
      msPerCollationLookup: ms(nickSeconds, LOOKUPS),
      pingsPerSec: Math.round(LOOKUPS / pingSeconds),
      msPerPing: ms(pingSeconds, LOOKUPS),
      msPerLookupInsideEngine: ms(directSeconds, LOOKUPS),
      mapLookupsPerSec: Math.round(LOOKUPS / mapSeconds),
      msPerMapLookup: ms(mapSeconds, LOOKUPS),
      lookupVsPing: Number((lookupSeconds / pingSeconds).toFixed(2)),
      lookupVsMap: Math.round(lookupSeconds / mapSeconds),
      msPerKeysetPage50: ms(pageSeconds, pages),
    };
  } finally {
    await client.close();
    await engine.stop();
  }
}

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify({ engine: r }, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
