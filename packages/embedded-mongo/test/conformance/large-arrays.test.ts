/**
 * Long arrays inside one document (well under 16 MB) are handled without spreading them into a call,
 * which would overflow the stack: $push with a long $each, a multikey index over them, a sort by them.
 */
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('large_arrays');
const LENGTH = 300_000;

it('pushes, indexes and sorts by an array of 300k elements', async () => {
  const c = t.db.collection<{ _id: number; a: number[] }>('big');
  await c.insertOne({ _id: 1, a: [] });
  await c.updateOne({ _id: 1 }, { $push: { a: { $each: Array.from({ length: LENGTH }, (_, i) => i) } } });
  await c.insertOne({ _id: 2, a: [-1] });
  await c.createIndex({ a: 1 });
  expect((await c.findOne({ a: LENGTH - 1 }, { projection: { _id: 1 } }))?._id).toBe(1);
  expect(
    (
      await c
        .find({}, { projection: { _id: 1 } })
        .sort({ a: -1 })
        .toArray()
    ).map((d) => d._id),
  ).toEqual([1, 2]);
  const doc = await c.findOne({ _id: 1 }, { projection: { a: { $slice: -2 } } });
  expect(doc?.a).toEqual([LENGTH - 2, LENGTH - 1]);
}, 60_000);
