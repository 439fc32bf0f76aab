/**
 * Features the embedded engine does not have answer with the error a standalone MongoDB server gives
 * (or, where MongoDB has the feature, in MongoDB's own "not supported" style), never with a wrong
 * result. Engine only: a real MongoDB supports these, so the file is skipped when MONGODB_URI is set.
 */
import { MongoServerError } from 'mongodb';
import { failure, useTestDb } from '../helpers/mongo';

const t = useTestDb('unsupported');
const onEngine = !process.env.MONGODB_URI;
const engineIt = onEngine ? it : it.skip;

beforeAll(async () => {
  if (onEngine)
    await t.db
      .collection('docs')
      .insertMany([{ _id: 1 as never, bio: 'hello world', loc: { type: 'Point', coordinates: [0, 0] } }]);
});

engineIt('transactions: IllegalOperation (20), as a standalone server answers, and nothing is written', async () => {
  const session = t.client.startSession();
  try {
    const err = await failure(
      session.withTransaction(async () => {
        await t.db.collection('docs').insertOne({ _id: 2 as never }, { session });
      }),
    );
    // The server's code 20 "Transaction numbers are only allowed on a replica set member or mongos",
    // which the driver reports, as for any standalone MongoDB, with a hint about retryable writes.
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.message).toMatch(/does not support retryable writes/);
    expect((err.errorResponse as { originalError?: { code?: number } }).originalError?.code ?? err.code).toBe(20);
  } finally {
    await session.endSession();
  }
  expect(await t.db.collection('docs').countDocuments({ _id: 2 as never })).toBe(0);
});

engineIt('change streams: 40573, only supported on replica sets', async () => {
  const err = await failure(
    t.db
      .collection('docs')
      .aggregate([{ $changeStream: {} }])
      .toArray(),
  );
  expect(err.code).toBe(40573);
});

engineIt('$text: 27 (IndexNotFound), text index required; text indexes cannot be created (67)', async () => {
  expect(
    (
      await failure(
        t.db
          .collection('docs')
          .find({ $text: { $search: 'hello' } })
          .toArray(),
      )
    ).code,
  ).toBe(27);
  expect((await failure(t.db.collection('docs').createIndex({ bio: 'text' }))).code).toBe(67);
});

engineIt(
  'geospatial queries: 291 (NoQueryExecutionPlans), no geo index; 2dsphere indexes cannot be created (67)',
  async () => {
    const near = { loc: { $near: { $geometry: { type: 'Point', coordinates: [0, 0] } } } };
    expect((await failure(t.db.collection('docs').find(near).toArray())).code).toBe(291);
    expect(
      (
        await failure(
          t.db
            .collection('docs')
            .find({ loc: { $geoWithin: { $centerSphere: [[0, 0], 1] } } })
            .toArray(),
        )
      ).code,
    ).toBe(291);
    expect(
      (
        await failure(
          t.db
            .collection('docs')
            .aggregate([{ $geoNear: { near: [0, 0], distanceField: 'd' } }])
            .toArray(),
        )
      ).code,
    ).toBe(291);
    expect((await failure(t.db.collection('docs').createIndex({ loc: '2dsphere' }))).code).toBe(67);
  },
);

engineIt('$where and server-side JavaScript: BadValue (2), never run', async () => {
  expect((await failure(t.db.collection('docs').find({ $where: 'this._id == 1' }).toArray())).code).toBe(2);
  const fn = { $function: { body: 'function() { return 1 }', args: [], lang: 'js' } };
  const err = await failure(
    t.db
      .collection('docs')
      .aggregate([{ $project: { x: fn } }])
      .toArray(),
  );
  expect(err.code).not.toBe(1);
});

engineIt('capped collections and $out: CommandNotSupported (115)', async () => {
  expect((await failure(t.db.createCollection('capped', { capped: true, size: 4096 }))).code).toBe(115);
  expect(
    (
      await failure(
        t.db
          .collection('docs')
          .aggregate([{ $out: 'copy' }])
          .toArray(),
      )
    ).code,
  ).toBe(115);
});
