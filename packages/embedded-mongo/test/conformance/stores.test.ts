/**
 * The two libraries that keep state in MongoDB for the portal, used exactly as the portal uses them:
 * connect-mongo (sessions, TTL index with per-document expiry) and rate-limiter-flexible (RateLimiterMongo:
 * upserts keyed by `{ $or: [...], key }` with $setOnInsert and $inc, E11000 retries under concurrency).
 * Runs unchanged against MongoDB when MONGODB_URI is set.
 */
import { promisify } from 'node:util';
import MongoStore from 'connect-mongo';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { SessionData } from 'express-session';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('stores');

describe('connect-mongo', () => {
  const session = (user: string): SessionData =>
    ({
      cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) } as never,
      user,
    }) as unknown as SessionData;

  it('sets, gets, touches, counts and destroys sessions', async () => {
    const store = MongoStore.create({
      client: t.client as never,
      dbName: t.db.databaseName,
      collectionName: 'sessions',
      ttl: 60,
      autoRemove: 'native',
      stringify: false,
    });
    const set = promisify(store.set.bind(store));
    const get = promisify(store.get.bind(store));
    const touch = promisify(store.touch.bind(store));
    const destroy = promisify(store.destroy.bind(store));
    const length = promisify(store.length.bind(store));

    await set('sid-1', session('alice'));
    await set('sid-2', session('bob'));
    await set('sid-1', session('alice-again')); // overwrite: upsert with $set of _id to itself
    expect(((await get('sid-1')) as unknown as { user: string }).user).toBe('alice-again');
    await touch('sid-2', session('bob'));
    expect(await length()).toBe(2);
    await destroy('sid-1');
    expect(await get('sid-1')).toBeFalsy();
    expect(await length()).toBe(1);

    const indexes = await t.db.collection('sessions').listIndexes().toArray();
    expect(indexes.find((i) => i.key.expires === 1)?.expireAfterSeconds).toBe(0);
    const raw = await t.db.collection('sessions').findOne({ _id: 'sid-2' as never });
    expect(raw!.expires).toBeInstanceOf(Date);
    // No store.close(): it would close the shared t.client.
  });

  it('does not return a session whose expiry date has passed, even before the TTL monitor runs', async () => {
    await t.db
      .collection('sessions')
      .insertOne({ _id: 'old' as never, expires: new Date(Date.now() - 1000), session: { user: 'x' } });
    const store = MongoStore.create({
      client: t.client as never,
      dbName: t.db.databaseName,
      collectionName: 'sessions',
      stringify: false,
    });
    expect(await promisify(store.get.bind(store))('old')).toBeFalsy();
  });
});

describe('rate-limiter-flexible (RateLimiterMongo)', () => {
  const limiter = (keyPrefix: string, points: number) =>
    new RateLimiterMongo({
      storeClient: t.client,
      dbName: t.db.databaseName,
      tableName: 'login_throttle',
      keyPrefix,
      points,
      duration: 60,
      blockDuration: 60,
    });

  it('counts consumed points per key and refuses over the limit', async () => {
    const rl = limiter('seq', 3);
    const results: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await rl.consume('user|1.2.3.4').then(
        (res) => res.remainingPoints,
        (res: RateLimiterRes) => -res.consumedPoints,
      );
      results.push(r);
    }
    expect(results).toEqual([2, 1, 0, -4, -5]);
    expect((await rl.get('user|1.2.3.4'))!.consumedPoints).toBe(5);
    await rl.delete('user|1.2.3.4');
    expect(await rl.get('user|1.2.3.4')).toBeNull();
    expect((await rl.consume('user|1.2.3.4')).remainingPoints).toBe(2);
  });

  it('lets exactly `points` concurrent first requests through on a new key', async () => {
    const rl = limiter('burst', 5);
    // Let the limiter create its indexes first, as a running portal has.
    await rl.consume('warmup');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        rl.consume('spray|5.6.7.8').then(
          () => 'ok',
          (e) => (e instanceof Error ? e.message : 'limited'),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'limited')).toHaveLength(15);
    const docs = await t.db.collection('login_throttle').find({ key: 'burst:spray|5.6.7.8' }).toArray();
    expect(docs).toHaveLength(1);
    // Over the limit the limiter also blocks the key (rewriting points), so only "more than 5" is stable.
    expect(docs[0].points).toBeGreaterThan(5);
  });
});
