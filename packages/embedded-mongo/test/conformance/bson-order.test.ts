/**
 * BSON values through the driver: equality and ordering of ObjectId, Decimal128, Binary/UUID, dates and
 * mixed types as MongoDB documents them, keyset pagination over ties, positional updates and the field
 * order of projections. Runs unchanged against MongoDB when MONGODB_URI is set.
 */
import { Binary, Decimal128, Long, ObjectId, UUID, type Document } from 'mongodb';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('bson');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (name: string) => t.db.collection<any>(name);

describe('numbers across BSON types', () => {
  beforeAll(async () => {
    await coll('nums').insertMany([
      { _id: 1, v: Decimal128.fromString('1.50') },
      { _id: 2, v: Decimal128.fromString('10') },
      { _id: 3, v: 9 },
      { _id: 4, v: 2.25 },
      { _id: 5, v: Long.fromString('9007199254740993') },
    ]);
  });

  it('matches Decimal128 by value, whatever its representation or the query number type', async () => {
    expect(await coll('nums').countDocuments({ v: Decimal128.fromString('1.5') })).toBe(1);
    expect(await coll('nums').countDocuments({ v: 10 })).toBe(1);
    expect(await coll('nums').countDocuments({ v: { $gt: Decimal128.fromString('2.5'), $lt: 100 } })).toBe(2);
  });

  it('sorts numbers by value across int, double, decimal and long', async () => {
    const asc = await coll('nums').find({}).sort({ v: 1 }).toArray();
    expect(asc.map((d) => d._id)).toEqual([1, 4, 3, 2, 5]);
  });

  it('keeps a long that does not fit a double exactly', async () => {
    const d = await coll('nums').findOne({ _id: 5 }, { promoteLongs: false });
    expect(d!.v).toBeInstanceOf(Long);
    expect(d!.v.toString()).toBe('9007199254740993');
  });
});

describe('binary values', () => {
  it('round-trips Binary and UUID and finds them by equality and $in', async () => {
    const uuid = new UUID();
    const bin = new Binary(Buffer.from([0, 1, 2, 255]));
    await coll('bin').insertMany([
      { _id: 1, uuid, bin },
      { _id: 2, uuid: new UUID(), bin: new Binary(Buffer.from([9])) },
    ]);
    const back = await coll('bin').findOne({ uuid });
    expect(back!._id).toBe(1);
    expect(Buffer.from(back!.bin.buffer).equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    expect(await coll('bin').countDocuments({ bin: { $in: [bin] } })).toBe(1);
  });
});

describe('ordering', () => {
  it('sorts mixed types in BSON order: null/missing, numbers, strings, objects, arrays, ObjectId, bool, date', async () => {
    const oid = new ObjectId();
    await coll('mixed').insertMany([
      { _id: 'date', v: new Date(0) },
      { _id: 'bool', v: true },
      { _id: 'oid', v: oid },
      { _id: 'obj', v: { a: 1 } },
      { _id: 'str', v: 'a' },
      { _id: 'num', v: 5 },
      { _id: 'null', v: null },
    ]);
    const order = (await coll('mixed').find({}).sort({ v: 1 }).toArray()).map((d) => d._id);
    expect(order).toEqual(['null', 'num', 'str', 'obj', 'oid', 'bool', 'date']);
  });

  it('sorts ObjectIds by their bytes, not by creation in this process', async () => {
    const ids = [
      '000000000000000000000002',
      '00000000000000000000000a',
      '0000000000000000000000ff',
      '100000000000000000000000',
    ].map((h) => new ObjectId(h));
    await coll('oids').insertMany([ids[2], ids[0], ids[3], ids[1]].map((_id) => ({ _id })));
    const asc = (await coll('oids').find({}).sort({ _id: 1 }).toArray()).map((d) => d._id.toHexString());
    expect(asc).toEqual(ids.map((i) => i.toHexString()));
    expect(await coll('oids').countDocuments({ _id: { $gt: ids[1] } })).toBe(2);
  });

  it('pages by keyset over ties on the date, newest first, without gaps or repeats', async () => {
    const base = Date.UTC(2026, 0, 1);
    // 5 documents share each timestamp, so pages split ties and must fall back on _id.
    await coll('pages').createIndex({ createdAt: -1, _id: -1 });
    await coll('pages').insertMany(
      Array.from({ length: 230 }, (_, i) => ({ i, createdAt: new Date(base + Math.floor(i / 5) * 1000) })),
    );
    const all = await coll('pages').find({}).sort({ createdAt: -1, _id: -1 }).toArray();
    const seen: number[] = [];
    let last: Document | null = null;
    for (;;) {
      const filter: Document = last
        ? { $or: [{ createdAt: { $lt: last.createdAt } }, { createdAt: last.createdAt, _id: { $lt: last._id } }] }
        : {};
      const page: Document[] = await coll('pages').find(filter).sort({ createdAt: -1, _id: -1 }).limit(50).toArray();
      if (page.length === 0) break;
      seen.push(...page.map((d) => d.i));
      last = page[page.length - 1];
    }
    expect(seen).toEqual(all.map((d) => d.i));
    expect(new Set(seen).size).toBe(230);
    // A range on the leading field alone, with a limit that splits a tie.
    const cut = new Date(base + 20 * 1000);
    const ranged = await coll('pages')
      .find({ createdAt: { $lt: cut } })
      .sort({ createdAt: -1, _id: -1 })
      .limit(7)
      .toArray();
    expect(ranged.map((d) => d.i)).toEqual(
      all
        .filter((d) => d.createdAt < cut)
        .slice(0, 7)
        .map((d) => d.i),
    );
  });

  it('sees updates and deletes in range queries on an indexed field', async () => {
    await coll('moving').createIndex({ at: 1 });
    await coll('moving').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, at: i })));
    expect(
      (
        await coll('moving')
          .find({ at: { $gte: 15 } })
          .sort({ at: 1 })
          .toArray()
      ).map((d) => d._id),
    ).toEqual([15, 16, 17, 18, 19]);
    await coll('moving').updateOne({ _id: 0 }, { $set: { at: 100 } });
    await coll('moving').deleteOne({ _id: 16 });
    await coll('moving').insertOne({ _id: 50, at: 15.5 });
    expect(
      (
        await coll('moving')
          .find({ at: { $gte: 15 } })
          .sort({ at: 1 })
          .toArray()
      ).map((d) => d._id),
    ).toEqual([15, 50, 17, 18, 19, 0]);
    expect(
      (
        await coll('moving')
          .find({ at: { $gte: 15 } })
          .sort({ at: -1 })
          .limit(2)
          .toArray()
      ).map((d) => d._id),
    ).toEqual([0, 19]);
  });

  it('sorts strings with a collation case-insensitively', async () => {
    await coll('names').insertMany([{ n: 'bob' }, { n: 'Alice' }, { n: 'alan' }, { n: 'Bea' }]);
    const sorted = await coll('names').find({}).sort({ n: 1 }).collation({ locale: 'en', strength: 2 }).toArray();
    expect(sorted.map((d) => d.n)).toEqual(['alan', 'Alice', 'Bea', 'bob']);
    const binary = await coll('names').find({}).sort({ n: 1 }).toArray();
    expect(binary.map((d) => d.n)).toEqual(['Alice', 'Bea', 'alan', 'bob']);
  });
});

describe('updates and projections', () => {
  it('updates the matched array element with the positional operator and arrayFilters', async () => {
    await coll('pos').insertOne({
      _id: 1,
      items: [
        { k: 'a', v: 0 },
        { k: 'b', v: 0 },
      ],
    });
    await coll('pos').updateOne({ _id: 1, 'items.k': 'b' }, { $set: { 'items.$.v': 5 } });
    await coll('pos').updateOne({ _id: 1 }, { $inc: { 'items.$[e].v': 2 } }, { arrayFilters: [{ 'e.k': 'a' }] });
    expect((await coll('pos').findOne({ _id: 1 }))!.items).toEqual([
      { k: 'a', v: 2 },
      { k: 'b', v: 5 },
    ]);
  });

  it('returns projected fields in the stored order, _id first', async () => {
    await coll('proj').insertOne({ _id: 1, a: 1, b: 2, c: 3 });
    expect(Object.keys((await coll('proj').findOne({ _id: 1 }, { projection: { c: 1, a: 1 } }))!)).toEqual([
      '_id',
      'a',
      'c',
    ]);
    expect(Object.keys((await coll('proj').findOne({ _id: 1 }, { projection: { b: 0 } }))!)).toEqual(['_id', 'a', 'c']);
  });

  it('keeps field order on update: existing fields in place, new ones appended', async () => {
    await coll('order').insertOne({ _id: 1, a: 1, b: 2 });
    await coll('order').updateOne({ _id: 1 }, { $set: { c: 3, a: 9 } });
    const d = await coll('order').findOne({ _id: 1 });
    expect(Object.entries(d!)).toEqual([
      ['_id', 1],
      ['a', 9],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('sorts with a leading $match/$sort/$limit in aggregate like find', async () => {
    const out = await coll('nums')
      .aggregate([{ $match: { v: { $gte: 2 } } }, { $sort: { v: -1 } }, { $limit: 2 }, { $project: { _id: 1 } }])
      .toArray();
    expect(out.map((d) => d._id)).toEqual([5, 2]);
  });

  it('renames a collection with its indexes', async () => {
    await coll('before').createIndex({ k: 1 }, { unique: true });
    await coll('before').insertOne({ k: 1 });
    await coll('before').rename('after');
    expect(await coll('after').countDocuments()).toBe(1);
    await expect(coll('after').insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000 });
    expect((await t.db.listCollections({ name: 'before' }).toArray()).length).toBe(0);
  });
});
