/**
 * A projection naming only `_id` returns only `_id` (issue 21, item 2): `Model.exists()` and
 * `select({_id: 1})` used to get every field. Runs on the engine, or unchanged on MONGODB_URI's server.
 */
import mongoose, { Schema } from 'mongoose';
import { testMongoUri, useTestDb } from '../helpers/mongo';

const t = useTestDb('projection_id');

describe('through the driver', () => {
  beforeAll(async () => {
    await t.db.collection('p').insertOne({ _id: 1 as never, name: 'Ann', tags: ['a'], sub: { x: 1 } });
  });
  const one = (projection: Record<string, unknown>) =>
    t.db.collection('p').findOne({ _id: 1 as never }, { projection });

  it('{_id: 1} returns only _id', async () => {
    expect(await one({ _id: 1 })).toEqual({ _id: 1 });
  });

  it('{_id: true} returns only _id too', async () => {
    expect(await one({ _id: true })).toEqual({ _id: 1 });
  });

  it('{_id: 0} returns every other field', async () => {
    expect(await one({ _id: 0 })).toEqual({ name: 'Ann', tags: ['a'], sub: { x: 1 } });
  });

  it('findOneAndUpdate with fields {_id: 1} returns only _id', async () => {
    const doc = await t.db
      .collection('p')
      .findOneAndUpdate(
        { _id: 1 as never },
        { $set: { seen: true } },
        { projection: { _id: 1 }, returnDocument: 'after' },
      );
    expect(doc).toEqual({ _id: 1 });
  });

  it('an aggregation $project keeps _id first, before the included and computed fields', async () => {
    const [included] = await t.db
      .collection('p')
      .aggregate([{ $match: { _id: 1 } }, { $project: { sub: 1 } }])
      .toArray();
    expect(Object.keys(included)).toEqual(['_id', 'sub']);
    const [computed] = await t.db
      .collection('p')
      .aggregate([{ $match: { _id: 1 } }, { $project: { n: '$name' } }])
      .toArray();
    expect(Object.keys(computed)).toEqual(['_id', 'n']);
  });

  it('an aggregation $project {_id: 1} returns only _id', async () => {
    expect(
      await t.db
        .collection('p')
        .aggregate([{ $project: { _id: 1 } }])
        .toArray(),
    ).toEqual([{ _id: 1 }]);
  });
});

describe('through mongoose', () => {
  const conn = mongoose.createConnection();
  const Item = conn.model('Item', new Schema({ name: String, secret: String }));
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const m = await testMongoUri(`conformance_projection_id_mongoose_${process.pid}`);
    stop = m.stop;
    await conn.openUri(m.uri);
    await conn.dropDatabase();
    await Item.create({ name: 'widget', secret: 's3cret' });
  });
  afterAll(async () => {
    await conn.dropDatabase();
    await conn.close();
    await stop();
  });

  it('Model.exists() returns a document holding only _id', async () => {
    const found = await Item.exists({ name: 'widget' });
    expect(found).not.toBeNull();
    expect(Object.keys(found!)).toEqual(['_id']);
  });

  it('select({_id: 1}) loads only _id', async () => {
    const doc = await Item.findOne({ name: 'widget' }).select({ _id: 1 }).lean();
    expect(Object.keys(doc!)).toEqual(['_id']);
  });
});
