import type { MongoServerError } from 'mongodb';
/**
 * A database for one test file: the embedded engine in memory by default, or, when MONGODB_URI is set,
 * a database of that name on the real server, so the same tests run against MongoDB itself.
 */
import { MongoClient, type Db } from 'mongodb';
import { startEmbeddedMongo } from '../../src';

export async function testMongoUri(
  dbName: string,
  opts: { ttlMonitorIntervalMs?: number } = {},
): Promise<{ uri: string; stop(): Promise<void>; embedded: boolean }> {
  const external = process.env.MONGODB_URI;
  if (external) {
    const url = new URL(external);
    url.pathname = `/${dbName}`;
    return { uri: url.toString(), stop: async () => {}, embedded: false };
  }
  const engine = await startEmbeddedMongo({ port: 0, ttlMonitorIntervalMs: opts.ttlMonitorIntervalMs });
  return { uri: `${engine.uri}${dbName}`, stop: () => engine.stop(), embedded: true };
}

export interface TestDb {
  client: MongoClient;
  db: Db;
  embedded: boolean;
}

/**
 * Registers beforeAll/afterAll that give the file a fresh, dropped database and a driver client, and
 * clean both up. Read the fields inside tests or hooks (they are set once beforeAll has run).
 */
export function useTestDb(name: string, opts: { ttlMonitorIntervalMs?: number } = {}): TestDb {
  const holder = {} as TestDb & { stop?: () => Promise<void> };
  beforeAll(async () => {
    const m = await testMongoUri(`conformance_${name}_${process.pid}`, opts);
    holder.stop = m.stop;
    holder.embedded = m.embedded;
    holder.client = await MongoClient.connect(m.uri);
    holder.db = holder.client.db();
    await holder.db.dropDatabase();
  });
  afterAll(async () => {
    try {
      await holder.db?.dropDatabase();
      await holder.client?.close();
    } finally {
      await holder.stop?.();
    }
  });
  return holder;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function failure(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    return err as MongoServerError;
  }
  throw new Error('expected the operation to fail');
}
