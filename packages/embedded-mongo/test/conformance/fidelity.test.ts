/**
 * Where the embedded engine used to answer differently from MongoDB (issue 14, items 1 to 11). Each test
 * states MongoDB's documented behaviour; it runs on the engine by default and, unchanged, against a real
 * MongoDB when MONGODB_URI is set.
 */
import { Binary, Double, Int32, Long, MongoBulkWriteError, MongoServerError, type Document } from 'mongodb';
import { failure, useTestDb } from '../helpers/mongo';

const t = useTestDb('fidelity');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (name: string) => t.db.collection<any>(name);

describe('1. several fields of one matched array element in one update', () => {
  beforeEach(async () => {
    await coll('pos').deleteMany({});
    await coll('pos').insertOne({
      _id: 1,
      a: [
        { x: 1, y: 0 },
        { x: 5, y: 0 },
      ],
    });
  });

  it('$set of two fields through the positional $ updates the matched element', async () => {
    const r = await coll('pos').updateOne({ 'a.x': 1 }, { $set: { 'a.$.x': 2, 'a.$.y': 2 } });
    expect(r.modifiedCount).toBe(1);
    expect((await coll('pos').findOne({ _id: 1 })).a).toEqual([
      { x: 2, y: 2 },
      { x: 5, y: 0 },
    ]);
  });

  it('$set of two fields through $[e] with arrayFilters updates every matching element', async () => {
    await coll('pos').updateOne(
      { _id: 1 },
      { $set: { 'a.$[e].y': 3, 'a.$[e].z': 3 } },
      { arrayFilters: [{ 'e.x': 5 }] },
    );
    expect((await coll('pos').findOne({ _id: 1 })).a).toEqual([
      { x: 1, y: 0 },
      { x: 5, y: 3, z: 3 },
    ]);
  });

  it('$inc and $set on the same matched element both apply', async () => {
    await coll('pos').updateOne({ 'a.x': 5 }, { $inc: { 'a.$.y': 4 }, $set: { 'a.$.seen': true } });
    expect((await coll('pos').findOne({ _id: 1 })).a).toEqual([
      { x: 1, y: 0 },
      { x: 5, y: 4, seen: true },
    ]);
  });

  it('still refuses two updates of the same path (code 40)', async () => {
    const err = await failure(coll('pos').updateOne({ 'a.x': 1 }, { $set: { 'a.$.y': 1 }, $inc: { 'a.$.y': 1 } }));
    expect(err.code).toBe(40);
  });
});

describe('2. type errors in updates are errors and change nothing', () => {
  const original = { _id: 1, s: 'text', n: 1, comments: [{ body: 'hi' }], name: 'Ann' };
  beforeEach(async () => {
    await coll('types').deleteMany({});
    await coll('types').insertOne(original);
  });
  afterEach(async () => {
    expect(await coll('types').findOne({ _id: 1 })).toEqual(original);
  });

  it('$inc on a string: code 14 (TypeMismatch)', async () => {
    const err = await failure(coll('types').updateOne({ _id: 1 }, { $inc: { s: 1 } }));
    expect(err.code).toBe(14);
  });

  it('$push on a non-array: code 2 (BadValue)', async () => {
    const err = await failure(coll('types').updateOne({ _id: 1 }, { $push: { n: 2 } } as never));
    expect(err.code).toBe(2);
  });

  it('$set of a field inside an array of documents by name: code 28 (PathNotViable)', async () => {
    const err = await failure(coll('types').updateOne({ _id: 1 }, { $set: { 'comments.body': 'x' } }));
    expect(err.code).toBe(28);
  });

  it('$set of a field inside a string: code 28 (PathNotViable)', async () => {
    const err = await failure(coll('types').updateOne({ _id: 1 }, { $set: { 'name.first': 'A' } }));
    expect(err.code).toBe(28);
  });
});

describe('3. $pull with a condition', () => {
  it('removes the elements an $or condition matches', async () => {
    await coll('pull').insertOne({
      _id: 1,
      members: [
        { name: 'a', role: 'b' },
        { name: 'c', role: 'd' },
        { name: 'a', role: 'x' },
      ],
    });
    await coll('pull').updateOne({ _id: 1 }, { $pull: { members: { $or: [{ name: 'a', role: 'b' }] } } } as never);
    expect((await coll('pull').findOne({ _id: 1 })).members).toEqual([
      { name: 'c', role: 'd' },
      { name: 'a', role: 'x' },
    ]);
  });

  it('removes the elements an operator condition matches among scalars', async () => {
    await coll('pull').insertOne({ _id: 2, n: [1, 5, 9, 12] });
    await coll('pull').updateOne({ _id: 2 }, { $pull: { n: { $gte: 9 } } } as never);
    expect((await coll('pull').findOne({ _id: 2 })).n).toEqual([1, 5]);
  });
});

describe('4. an invalid filter is an error even where there are no documents', () => {
  it('on a missing collection: code 2 (BadValue)', async () => {
    const err = await failure(
      coll('never_created')
        .find({ a: { $bogus: 1 } })
        .toArray(),
    );
    expect(err.code).toBe(2);
  });

  it('on an empty collection, for find, count and delete', async () => {
    await t.db.createCollection('empty');
    expect(
      (
        await failure(
          coll('empty')
            .find({ a: { $bogus: 1 } })
            .toArray(),
        )
      ).code,
    ).toBe(2);
    expect((await failure(coll('empty').countDocuments({ a: { $bogus: 1 } }))).code).toBe(2);
    expect((await failure(coll('empty').deleteMany({ a: { $bogus: 1 } }))).code).toBe(2);
  });
});

describe('5. collation', () => {
  beforeAll(async () => {
    await coll('names').insertMany([{ name: 'b' }, { name: 'B' }, { name: 'a' }, { name: 'Émile' }, { name: 'A' }]);
  });

  it("accepts MongoDB's spelling of locales (en_US) in a sort", async () => {
    const docs = await coll('names')
      .find({}, { projection: { _id: 0 } })
      .sort({ name: 1 })
      .collation({ locale: 'en_US' })
      .toArray();
    expect(docs.map((d) => d.name)).toEqual(['a', 'A', 'b', 'B', 'Émile']);
  });

  it('accepts en_US in an index collation', async () => {
    await coll('loc').createIndex({ name: 1 }, { unique: true, collation: { locale: 'en_US', strength: 2 } });
    await coll('loc').insertOne({ name: 'Zoë' });
    expect((await failure(coll('loc').insertOne({ name: 'ZOË' }))).code).toBe(11000);
  });

  it('strength 1 ignores accents as well as case in a find', async () => {
    const docs = await coll('names').find({ name: 'emile' }).collation({ locale: 'fr', strength: 1 }).toArray();
    expect(docs.map((d) => d.name)).toEqual(['Émile']);
  });

  it('strength 2 ignores case but not accents', async () => {
    expect(await coll('names').countDocuments({ name: 'emile' }, { collation: { locale: 'fr', strength: 2 } })).toBe(0);
    expect(await coll('names').countDocuments({ name: 'ÉMILE' }, { collation: { locale: 'fr', strength: 2 } })).toBe(1);
  });

  it('a strength-1 unique index refuses émile beside Emile', async () => {
    await coll('s1').createIndex({ name: 1 }, { unique: true, collation: { locale: 'fr', strength: 1 } });
    await coll('s1').insertOne({ name: 'Emile' });
    expect((await failure(coll('s1').insertOne({ name: 'émile' }))).code).toBe(11000);
  });

  it("a collection's default collation applies to its finds, sorts and new indexes", async () => {
    await t.db.createCollection('ci', { collation: { locale: 'en', strength: 2 } });
    await coll('ci').insertMany([{ name: 'bob' }, { name: 'Alice' }, { name: 'carol' }]);
    expect((await coll('ci').findOne({ name: 'ALICE' }))?.name).toBe('Alice');
    const sorted = await coll('ci').find({}).sort({ name: 1 }).toArray();
    expect(sorted.map((d) => d.name)).toEqual(['Alice', 'bob', 'carol']);
    await coll('ci').createIndex({ name: 1 }, { unique: true });
    expect((await failure(coll('ci').insertOne({ name: 'BOB' }))).code).toBe(11000);
    // An explicit simple collation overrides the default.
    expect(await coll('ci').countDocuments({ name: 'ALICE' }, { collation: { locale: 'simple' } })).toBe(0);
  });
});

describe('6. an unordered bulkWrite with failures', () => {
  it('applies every other operation and reports one writeError per failure with its index and code', async () => {
    await coll('bulk').insertOne({ _id: 's', s: 'text' });
    const err = (await failure(
      coll('bulk').bulkWrite(
        [
          { insertOne: { document: { _id: 1 } } },
          { updateOne: { filter: { x: { $bogus: 1 } }, update: { $set: { y: 1 } } } },
          { insertOne: { document: { _id: 1 } } },
          { updateOne: { filter: { _id: 's' }, update: { $inc: { s: 1 } } } },
          { insertOne: { document: { _id: 2 } } },
          { updateOne: { filter: { _id: 1 }, update: { $set: { done: true } } } },
        ],
        { ordered: false },
      ),
    )) as unknown as MongoBulkWriteError;
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const errors = (err.writeErrors as unknown as { index: number; code: number }[])
      .map((e) => [e.index, e.code])
      .sort((a, b) => a[0] - b[0]);
    expect(errors).toEqual([
      [1, 2],
      [2, 11000],
      [3, 14],
    ]);
    expect(await coll('bulk').find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, done: true },
      { _id: 2 },
      { _id: 's', s: 'text' },
    ]);
  });
});

describe('7. projections', () => {
  const d = (day: number) => new Date(Date.UTC(2026, 0, day));
  beforeAll(async () => {
    await coll('proj').insertOne({
      _id: 1,
      name: 'n',
      secret: 's',
      arr: [1, 2, 3, 4],
      tags: ['x', 'y', 'z'],
      dates: [d(1), d(5), d(9)],
    });
  });

  it('{arr: {$slice: 2}} returns every field with the array sliced', async () => {
    const doc = await coll('proj').findOne({ _id: 1 }, { projection: { arr: { $slice: 2 } } });
    expect(doc).toEqual({
      _id: 1,
      name: 'n',
      secret: 's',
      arr: [1, 2],
      tags: ['x', 'y', 'z'],
      dates: [d(1), d(5), d(9)],
    });
  });

  it('{arr: {$slice: [1, 2]}, secret: 0} is allowed and excludes the field', async () => {
    const doc = await coll('proj').findOne({ _id: 1 }, { projection: { arr: { $slice: [1, 2] }, secret: 0 } });
    expect(doc).toEqual({ _id: 1, name: 'n', arr: [2, 3], tags: ['x', 'y', 'z'], dates: [d(1), d(5), d(9)] });
  });

  it("the positional projection {'tags.$': 1} returns the matched element", async () => {
    const doc = await coll('proj').findOne({ tags: 'y' }, { projection: { 'tags.$': 1 } });
    expect(doc).toEqual({ _id: 1, tags: ['y'] });
  });

  it('an $elemMatch projection whose condition is only an operator returns the first matching element', async () => {
    const doc = await coll('proj').findOne({ _id: 1 }, { projection: { dates: { $elemMatch: { $gte: d(4) } } } });
    expect(doc).toEqual({ _id: 1, dates: [d(5)] });
  });
});

describe('8. numeric BSON types are kept', () => {
  beforeAll(async () => {
    await coll('nums').insertOne({ _id: 1, dbl: new Double(1), lng: Long.fromNumber(5), int: 3, frac: 2.5 });
  });

  it('a Double stays a Double and an Int64 an Int64, whatever the value', async () => {
    const doc = await coll('nums').findOne({ _id: 1 }, { promoteValues: false });
    expect(doc.dbl).toBeInstanceOf(Double);
    expect(doc.lng).toBeInstanceOf(Long);
    expect(doc.int).toBeInstanceOf(Int32);
    expect(doc.frac).toBeInstanceOf(Double);
  });

  it('$type finds them by their stored type', async () => {
    expect(await coll('nums').countDocuments({ dbl: { $type: 'double' } })).toBe(1);
    expect(await coll('nums').countDocuments({ dbl: { $type: 'int' } })).toBe(0);
    expect(await coll('nums').countDocuments({ lng: { $type: 'long' } })).toBe(1);
    expect(await coll('nums').countDocuments({ int: { $type: 'int' } })).toBe(1);
  });

  it('queries compare them by value across types', async () => {
    expect(await coll('nums').countDocuments({ dbl: 1, lng: 5, int: 3.0 })).toBe(1);
    expect(await coll('nums').countDocuments({ lng: { $gt: 4, $lt: Long.fromNumber(6) } })).toBe(1);
  });

  it('keeps the types through an update of other fields, and $inc follows MongoDB type rules', async () => {
    await coll('nums').updateOne({ _id: 1 }, { $inc: { dbl: 1, lng: 1, int: 1 } });
    const doc = await coll('nums').findOne({ _id: 1 }, { promoteValues: false });
    expect(doc.dbl).toBeInstanceOf(Double);
    expect(doc.dbl.valueOf()).toBe(2);
    expect(doc.lng).toBeInstanceOf(Long);
    expect(String(doc.lng)).toBe('6');
    expect(doc.int).toBeInstanceOf(Int32);
    expect(doc.int.valueOf()).toBe(4);
  });

  it('returns an Int64 as a bigint to a client that asks for it', async () => {
    const doc = await coll('nums').findOne({ _id: 1 }, { useBigInt64: true });
    expect(typeof doc.lng).toBe('bigint');
  });
});

describe('9. $all on a non-array field', () => {
  it('matches as if the field were a one-element array', async () => {
    await coll('all').insertMany([
      { _id: 1, tag: 'x' },
      { _id: 2, tag: ['x', 'y'] },
      { _id: 3, tag: 'y' },
    ]);
    const ids = (
      await coll('all')
        .find({ tag: { $all: ['x'] } })
        .sort({ _id: 1 })
        .toArray()
    ).map((d) => d._id);
    expect(ids).toEqual([1, 2]);
  });
});

describe('10. error codes', () => {
  beforeAll(async () => {
    await coll('codes').insertOne({ _id: 1, a: 1 });
  });

  it('conflicting update operators: 40', async () => {
    expect((await failure(coll('codes').updateOne({ _id: 1 }, { $set: { a: 2 }, $inc: { a: 1 } }))).code).toBe(40);
  });

  it('a path and its parent in one update: 40', async () => {
    expect((await failure(coll('codes').updateOne({ _id: 1 }, { $set: { b: { c: 1 }, 'b.c': 2 } }))).code).toBe(40);
  });

  it('unknown update modifier: 9', async () => {
    expect((await failure(coll('codes').updateOne({ _id: 1 }, { $bogus: { a: 1 } } as Document))).code).toBe(9);
  });

  it('unknown query operator: 2', async () => {
    expect(
      (
        await failure(
          coll('codes')
            .find({ a: { $bogus: 1 } })
            .toArray(),
        )
      ).code,
    ).toBe(2);
  });

  it('unknown pipeline stage: 40324', async () => {
    expect(
      (
        await failure(
          coll('codes')
            .aggregate([{ $bogus: {} }])
            .toArray(),
        )
      ).code,
    ).toBe(40324);
  });

  it('a document over 16 MB is refused with BSONObjectTooLarge (10334)', async () => {
    const big = 'x'.repeat(16 * 1024 * 1024 - 16);
    const err = await failure(coll('codes').insertOne({ _id: 'big', big }));
    expect(err.code).toBe(10334);
    expect(await coll('codes').countDocuments({ _id: 'big' })).toBe(0);
  });

  it('create with capped and no size: 72 (InvalidOptions)', async () => {
    const err = await failure(t.db.createCollection('capped_nosize', { capped: true }));
    expect(err.code).toBe(72);
  });

  it('errors from the query machinery are never code 1', async () => {
    const errs = await Promise.all([
      failure(coll('codes').find({ $and: [] }).toArray()),
      failure(
        coll('codes')
          .find({ a: { $in: 5 } })
          .toArray(),
      ),
      failure(
        coll('codes')
          .aggregate([{ $group: { total: { $sum: '$a' } } }])
          .toArray(),
      ),
      failure(
        coll('codes')
          .aggregate([{ $project: { x: { $bogusOp: 1 } } }])
          .toArray(),
      ),
    ]);
    for (const e of errs) {
      expect(e).toBeInstanceOf(MongoServerError);
      expect(e.code).not.toBe(1);
      expect(e.code).toBeGreaterThan(1);
    }
  });
});

describe('11. smaller differences', () => {
  it('embedded-document equality respects field order', async () => {
    await coll('order').insertOne({ _id: 1, o: { a: 1, b: 2 } });
    expect(await coll('order').countDocuments({ o: { a: 1, b: 2 } })).toBe(1);
    expect(await coll('order').countDocuments({ o: { b: 2, a: 1 } })).toBe(0);
    expect(await coll('order').countDocuments({ o: { $in: [{ b: 2, a: 1 }] } })).toBe(0);
  });

  it('BinData orders by length first, then subtype, then bytes', async () => {
    await coll('bin').insertMany([
      { _id: 'long', b: new Binary(Buffer.from([0, 0, 0])) },
      { _id: 'short', b: new Binary(Buffer.from([255])) },
      { _id: 'mid', b: new Binary(Buffer.from([1, 1])) },
    ]);
    expect((await coll('bin').find({}).sort({ b: 1 }).toArray()).map((d) => d._id)).toEqual(['short', 'mid', 'long']);
    const bigger = await coll('bin')
      .find({ b: { $gt: new Binary(Buffer.from([255])) } })
      .sort({ b: 1 })
      .toArray();
    expect(bigger.map((d) => d._id)).toEqual(['mid', 'long']);
  });

  it('$bitsAllSet and friends match array elements and binData', async () => {
    await coll('bits').insertMany([
      { _id: 'arr', v: [1, 6] },
      { _id: 'bin', v: new Binary(Buffer.from([0b00000110])) },
      { _id: 'no', v: 1 },
    ]);
    const ids = async (filter: Document) =>
      (await coll('bits').find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
    expect(await ids({ v: { $bitsAllSet: [1, 2] } })).toEqual(['arr', 'bin']);
    expect(await ids({ v: { $bitsAnySet: 4 } })).toEqual(['arr', 'bin']);
    expect(await ids({ v: { $bitsAllClear: [0] } })).toEqual(['arr', 'bin']);
    expect(await ids({ v: { $bitsAnyClear: [1] } })).toEqual(['arr', 'no']);
  });

  it('maxTimeMS is enforced on finds and aggregates (code 50)', async () => {
    const docs = Array.from({ length: 50_000 }, (_, i) => ({ i, s: `value ${i}` }));
    await coll('slow').insertMany(docs);
    const heavy = { $expr: { $eq: [{ $strLenCP: { $concat: ['$s', '$s', '$s'] } }, -1] } };
    expect((await failure(coll('slow').find(heavy).maxTimeMS(1).toArray())).code).toBe(50);
    expect(
      (
        await failure(
          coll('slow')
            .aggregate([{ $match: heavy }], { maxTimeMS: 1 })
            .toArray(),
        )
      ).code,
    ).toBe(50);
    expect(await coll('slow').countDocuments({ i: { $lt: 3 } }, { maxTimeMS: 60_000 })).toBe(3);
  });
});
