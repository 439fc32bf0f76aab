/**
 * Driver-level behaviour the portal relies on, with MongoDB's documented behaviour as the oracle.
 * Runs on the embedded engine by default and, unchanged, against a real MongoDB when MONGODB_URI is set.
 */
import { Decimal128, Long, MongoBulkWriteError, MongoServerError, ObjectId } from 'mongodb';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('driver');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (name: string) => t.db.collection<any>(name);

describe('connection and commands', () => {
  it('answers ping and buildInfo', async () => {
    expect((await t.db.command({ ping: 1 })).ok).toBe(1);
    const info = await t.db.admin().command({ buildInfo: 1 });
    expect(typeof info.version).toBe('string');
  });

  it('fails an unknown command with code 59 (CommandNotFound)', async () => {
    await expect(t.db.command({ noSuchCommand: 1 })).rejects.toMatchObject({ code: 59 });
  });
});

describe('documents round-trip exactly', () => {
  it('keeps dates, ObjectIds, decimals, longs, nested documents and arrays', async () => {
    const doc = {
      _id: new ObjectId(),
      at: new Date('2026-01-02T03:04:05.678Z'),
      ref: new ObjectId(),
      price: Decimal128.fromString('1234.5678'),
      big: Long.fromString('9007199254740993'),
      nested: { a: [1, 'two', { three: 3 }], empty: {} },
      unicode: 'Zoë 東京 🚀',
      nothing: null,
    };
    await coll('roundtrip').insertOne(doc);
    const back = await coll('roundtrip').findOne({ _id: doc._id }, { promoteLongs: false });
    expect(back!.at).toEqual(doc.at);
    expect(back!.ref.equals(doc.ref)).toBe(true);
    expect(back!.price.toString()).toBe('1234.5678');
    expect(String(back!.big)).toBe('9007199254740993');
    expect(back!.nested).toEqual(doc.nested);
    expect(back!.unicode).toBe(doc.unicode);
    expect(back!.nothing).toBeNull();
    expect(Object.keys(back!)[0]).toBe('_id');
  });

  it('generates an ObjectId _id when none is given', async () => {
    const { insertedId } = await coll('ids').insertOne({ x: 1 });
    expect(insertedId).toBeInstanceOf(ObjectId);
    expect(await coll('ids').countDocuments({ _id: insertedId })).toBe(1);
  });
});

describe('queries', () => {
  beforeAll(async () => {
    await coll('q').insertMany([
      { n: 1, s: 'a', d: new Date(1000), tags: ['x', 'y'] },
      { n: 2, s: 'b', d: new Date(2000), maybe: null },
      { n: 3, s: 'c', d: new Date(3000), tags: [] },
    ]);
  });

  it('matches null against missing fields and explicit nulls', async () => {
    expect(await coll('q').countDocuments({ maybe: null })).toBe(3);
    expect(await coll('q').countDocuments({ maybe: { $ne: null } })).toBe(0);
    expect(await coll('q').countDocuments({ maybe: { $exists: true } })).toBe(1);
  });

  it('compares dates as dates and matches array elements', async () => {
    expect(await coll('q').countDocuments({ d: { $gt: new Date(1500) } })).toBe(2);
    expect(await coll('q').countDocuments({ tags: 'x' })).toBe(1);
    expect(await coll('q').countDocuments({ n: { $in: [1, 3] } })).toBe(2);
  });

  it('sorts, skips, limits and projects', async () => {
    const docs = await coll('q')
      .find({}, { projection: { _id: 0, n: 1 } })
      .sort({ d: -1 })
      .skip(1)
      .limit(1)
      .toArray();
    expect(docs).toEqual([{ n: 2 }]);
  });

  it('orders ObjectIds by creation and supports $lt on them (keyset pagination)', async () => {
    const ids = [new ObjectId(), new ObjectId(), new ObjectId()];
    await coll('keyset').insertMany(ids.map((_id, i) => ({ _id, i })));
    const page = await coll('keyset')
      .find({ _id: { $lt: ids[2] } })
      .sort({ _id: -1 })
      .toArray();
    expect(page.map((d) => d.i)).toEqual([1, 0]);
  });

  it('supports case-insensitive regex search', async () => {
    expect(await coll('q').countDocuments({ s: { $regex: /^B$/i } })).toBe(1);
  });

  it('counts and finds distinct values', async () => {
    expect(await coll('q').countDocuments({ n: { $gte: 2 } })).toBe(2);
    expect((await coll('q').distinct('s')).sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('cursors', () => {
  it('returns large results in batches through getMore', async () => {
    await coll('many').insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const cursor = coll('many').find({}).sort({ i: 1 }).batchSize(40);
    const seen: number[] = [];
    for await (const d of cursor) seen.push(d.i);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('kills a cursor, after which getMore fails with CursorNotFound (43)', async () => {
    const found = await t.db.command({ find: 'many', filter: {}, batchSize: 5 });
    const id = found.cursor.id;
    expect(found.cursor.firstBatch).toHaveLength(5);
    const killed = await t.db.command({ killCursors: 'many', cursors: [id] });
    expect(killed.cursorsKilled.map(String)).toEqual([String(id)]);
    await expect(t.db.command({ getMore: id, collection: 'many' })).rejects.toMatchObject({ code: 43 });
  });
});

describe('unique indexes', () => {
  it('refuses a duplicate with E11000, naming the key', async () => {
    await coll('u1').createIndex({ email: 1 }, { unique: true });
    await coll('u1').insertOne({ email: 'a@example.com' });
    const err = await coll('u1')
      .insertOne({ email: 'a@example.com' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.keyValue).toEqual({ email: 'a@example.com' });
  });

  it('treats a missing field as null in a unique index, unless sparse', async () => {
    await coll('u2').createIndex({ code: 1 }, { unique: true });
    await coll('u2').insertOne({ x: 1 });
    await expect(coll('u2').insertOne({ x: 2 })).rejects.toMatchObject({ code: 11000 });
    await coll('u3').createIndex({ code: 1 }, { unique: true, sparse: true });
    await coll('u3').insertMany([{ x: 1 }, { x: 2 }]);
    expect(await coll('u3').countDocuments()).toBe(2);
  });

  it('enforces compound unique indexes on the combination', async () => {
    await coll('u4').createIndex({ a: 1, b: 1 }, { unique: true });
    await coll('u4').insertMany([
      { a: 1, b: 1 },
      { a: 1, b: 2 },
    ]);
    await expect(coll('u4').insertOne({ a: 1, b: 2 })).rejects.toMatchObject({ code: 11000 });
  });

  it('enforces partial unique indexes only on matching documents', async () => {
    await coll('u5').createIndex(
      { contact: 1 },
      { unique: true, partialFilterExpression: { contact: { $type: 'objectId' } } },
    );
    const contact = new ObjectId();
    await coll('u5').insertMany([{ contact: null }, { contact: null }, { contact }]);
    await expect(coll('u5').insertOne({ contact })).rejects.toMatchObject({ code: 11000 });
  });

  it('with collation strength 2, refuses values that differ only by case', async () => {
    await coll('u6').createIndex({ nick: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await coll('u6').insertOne({ nick: 'Zoe' });
    await expect(coll('u6').insertOne({ nick: 'ZOE' })).rejects.toMatchObject({ code: 11000 });
    expect(await coll('u6').countDocuments({ nick: 'zoe' }, { collation: { locale: 'en', strength: 2 } })).toBe(1);
    expect(await coll('u6').countDocuments({ nick: 'zoe' })).toBe(0);
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    await coll('u7').insertMany([{ k: 1 }, { k: 1 }]);
    await expect(coll('u7').createIndex({ k: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
  });

  it('stops an ordered insertMany at the first duplicate and reports writeErrors', async () => {
    await coll('u8').createIndex({ k: 1 }, { unique: true });
    const err = await coll('u8')
      .insertMany([{ k: 1 }, { k: 1 }, { k: 2 }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    expect(err.writeErrors.length ?? err.writeErrors.size).toBe(1);
    expect(err.result.insertedCount).toBe(1);
    expect(await coll('u8').countDocuments()).toBe(1);
  });

  it('goes on with an unordered insertMany and reports each duplicate', async () => {
    await coll('u9').createIndex({ k: 1 }, { unique: true });
    const err = await coll('u9')
      .insertMany([{ k: 1 }, { k: 1 }, { k: 2 }, { k: 2 }, { k: 3 }], { ordered: false })
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [...err.writeErrors.values()];
    expect(errors.map((e: { index: number }) => e.index).sort()).toEqual([1, 3]);
    expect(errors.every((e: { code: number }) => e.code === 11000)).toBe(true);
    expect(await coll('u9').countDocuments()).toBe(3);
  });

  it('leaves the document unchanged when an update would create a duplicate', async () => {
    await coll('u10').createIndex({ k: 1 }, { unique: true });
    await coll('u10').insertMany([
      { k: 1, v: 'a' },
      { k: 2, v: 'b' },
    ]);
    await expect(coll('u10').updateOne({ k: 2 }, { $set: { k: 1, v: 'changed' } })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await coll('u10').findOne({ k: 2 }, { projection: { _id: 0 } })).toEqual({ k: 2, v: 'b' });
  });

  it('lists and drops indexes', async () => {
    await coll('u11').createIndex({ a: 1 }, { name: 'a_idx' });
    const names = (await coll('u11').listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['_id_', 'a_idx']));
    await coll('u11').dropIndex('a_idx');
    expect((await coll('u11').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_']);
  });
});

describe('updates', () => {
  it('applies the update operators', async () => {
    const { insertedId } = await coll('up').insertOne({ n: 1, arr: [1], set: [1], gone: true, old: 'x' });
    await coll('up').updateOne(
      { _id: insertedId },
      {
        $inc: { n: 2 },
        $push: { arr: 2 } as never,
        $addToSet: { set: 1 },
        $unset: { gone: '' },
        $rename: { old: 'renamed' },
        $max: { hi: 5 },
        $currentDate: { at: true },
      },
    );
    const d = await coll('up').findOne({ _id: insertedId });
    expect(d).toMatchObject({ n: 3, arr: [1, 2], set: [1], renamed: 'x', hi: 5 });
    expect(d!.gone).toBeUndefined();
    expect(d!.at).toBeInstanceOf(Date);
  });

  it('updates many, and counts matched versus modified', async () => {
    await coll('upm').insertMany([
      { g: 1, v: 0 },
      { g: 1, v: 1 },
      { g: 2, v: 0 },
    ]);
    const r = await coll('upm').updateMany({ g: 1 }, { $set: { v: 1 } });
    expect(r.matchedCount).toBe(2);
    expect(r.modifiedCount).toBe(1);
  });

  it('upserts from the query equality fields, with $setOnInsert only on insert', async () => {
    const first = await coll('ups').updateOne(
      { key: 'k1', $or: [{ expire: { $gt: new Date() } }, { expire: null }] },
      { $setOnInsert: { created: 1 }, $inc: { points: 1 } },
      { upsert: true },
    );
    expect(first.upsertedCount).toBe(1);
    await coll('ups').updateOne({ key: 'k1' }, { $setOnInsert: { created: 2 }, $inc: { points: 1 } }, { upsert: true });
    expect(await coll('ups').findOne({ key: 'k1' }, { projection: { _id: 0 } })).toEqual({
      key: 'k1',
      created: 1,
      points: 2,
    });
  });

  it('replaces a document, keeping its _id, and refuses to change _id', async () => {
    const { insertedId } = await coll('rep').insertOne({ a: 1, b: 2 });
    await coll('rep').replaceOne({ _id: insertedId }, { c: 3 });
    expect(await coll('rep').findOne({ _id: insertedId })).toEqual({ _id: insertedId, c: 3 });
    await expect(coll('rep').updateOne({ _id: insertedId }, { $set: { _id: new ObjectId() } })).rejects.toMatchObject({
      code: 66,
    });
  });

  it('allows $set of _id to its own value (connect-mongo does this)', async () => {
    await coll('sess').updateOne({ _id: 'sid1' }, { $set: { _id: 'sid1', v: 1 } }, { upsert: true });
    await coll('sess').updateOne({ _id: 'sid1' }, { $set: { _id: 'sid1', v: 2 } }, { upsert: true });
    expect(await coll('sess').findOne({ _id: 'sid1' })).toEqual({ _id: 'sid1', v: 2 });
  });

  it('findOneAndUpdate returns the document before or after, and upserts', async () => {
    await coll('fam').insertOne({ k: 'a', n: 1 });
    const before = await coll('fam').findOneAndUpdate({ k: 'a' }, { $inc: { n: 1 } });
    expect(before!.n).toBe(1);
    const after = await coll('fam').findOneAndUpdate({ k: 'a' }, { $inc: { n: 1 } }, { returnDocument: 'after' });
    expect(after!.n).toBe(3);
    const upserted = await coll('fam').findOneAndUpdate(
      { k: 'b' },
      { $setOnInsert: { n: 10 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(upserted!.n).toBe(10);
    const removed = await coll('fam').findOneAndDelete({ k: 'b' });
    expect(removed!.k).toBe('b');
    expect(await coll('fam').countDocuments({ k: 'b' })).toBe(0);
  });

  it('never oversells under concurrent conditional $inc (single-document atomicity)', async () => {
    const { insertedId } = await coll('seats').insertOne({ used: 0, total: 7 });
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        coll('seats').updateOne({ _id: insertedId, $expr: { $lt: ['$used', '$total'] } }, { $inc: { used: 1 } }),
      ),
    );
    expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(7);
    expect((await coll('seats').findOne({ _id: insertedId }))!.used).toBe(7);
  });

  it('deletes one or many', async () => {
    await coll('del').insertMany([{ g: 1 }, { g: 1 }, { g: 2 }]);
    expect((await coll('del').deleteOne({ g: 1 })).deletedCount).toBe(1);
    expect((await coll('del').deleteMany({})).deletedCount).toBe(2);
  });
});

describe('aggregation', () => {
  it('runs the stages the portal uses', async () => {
    await coll('agg_users').insertMany([
      { name: 'a', contact: null, license: 1, at: new Date('2026-01-01') },
      { name: 'b', contact: 'c1', license: 2, at: new Date('2026-01-01') },
      { name: 'c', contact: 'c2', license: 2, at: new Date('2026-01-02') },
    ]);
    await coll('agg_licenses').insertMany([
      { _id: 1 as never, name: 'EI' },
      { _id: 2 as never, name: 'CC' },
    ]);
    const grouped = await coll('agg_users')
      .aggregate([
        { $match: { at: { $gte: new Date('2026-01-01') } } },
        { $group: { _id: { $dateToString: { format: '%Y-%m-%d', date: '$at' } }, n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(grouped).toEqual([
      { _id: '2026-01-01', n: 2 },
      { _id: '2026-01-02', n: 1 },
    ]);
    const joined = await coll('agg_users')
      .aggregate([
        { $group: { _id: '$license', n: { $sum: 1 } } },
        { $lookup: { from: 'agg_licenses', localField: '_id', foreignField: '_id', as: 'license' } },
        { $unwind: '$license' },
        { $project: { _id: 0, name: '$license.name', n: 1 } },
        { $sort: { name: 1 } },
      ])
      .toArray();
    expect(joined).toEqual([
      { n: 2, name: 'CC' },
      { n: 1, name: 'EI' },
    ]);
    const [facets] = await coll('agg_users')
      .aggregate([
        {
          $facet: {
            contactless: [{ $match: { contact: null } }, { $count: 'n' }],
            qualified: [{ $match: { contact: { $ne: null } } }, { $count: 'n' }],
          },
        },
      ])
      .toArray();
    expect(facets).toEqual({ contactless: [{ n: 1 }], qualified: [{ n: 2 }] });
  });
});

describe('collections', () => {
  it('creates, lists and drops collections', async () => {
    await t.db.createCollection('made');
    await expect(t.db.createCollection('made')).rejects.toMatchObject({ code: 48 });
    expect((await t.db.listCollections({ name: 'made' }).toArray()).map((c) => c.name)).toEqual(['made']);
    expect(await coll('made').drop()).toBe(true);
    expect(await t.db.listCollections({ name: 'made' }).toArray()).toEqual([]);
  });

  it('answers listIndexes on a missing collection with NamespaceNotFound (26)', async () => {
    await expect(coll('never_made').listIndexes().toArray()).rejects.toMatchObject({ code: 26 });
  });
});
