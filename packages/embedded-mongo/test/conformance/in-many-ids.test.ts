/**
 * `$in` and `$nin` with many ObjectIds (a bulk job's batch reads `_id: {$in: [1,000 ids]}`): the engine
 * tests them through a set (issue 21 item 4); the answer must stay MongoDB's: an ObjectId matches only
 * an equal ObjectId (not its hex string), an array field matches when one element is in the list, and
 * the other values of a mixed list still match by BSON equality.
 */
import { ObjectId } from 'mongodb';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('in_many_ids');

const ids = Array.from({ length: 300 }, () => new ObjectId());
const docs = ids.map((id, i) => ({
  _id: i,
  ref: i % 3 === 0 ? id : i % 3 === 1 ? id.toHexString() : [new ObjectId(), id],
}));

beforeAll(async () => {
  await t.db.collection<{ _id: number }>('c').insertMany(docs);
});

const sorted = (xs: { _id: unknown }[]) => xs.map((d) => d._id as number).sort((a, b) => a - b);

it('$in with 150 ObjectIds and a string matches equal ObjectIds, array elements and the string, not hex strings of the ids', async () => {
  const wanted = ids.filter((_, i) => i % 2 === 0);
  const found = await t.db
    .collection<{ _id: number }>('c')
    .find({ ref: { $in: [...wanted, ids[1].toHexString()] } })
    .toArray();
  // Even positions: an ObjectId (i % 3 == 0) or an array holding it (i % 3 == 2); a hex string (i % 3 == 1) only for 1.
  const expected = docs.filter((d, i) => (i % 2 === 0 && i % 3 !== 1) || i === 1).map((d) => d._id);
  expect(sorted(found)).toEqual(expected);
});

it('$nin with the same list matches exactly the other documents', async () => {
  const wanted = ids.filter((_, i) => i % 2 === 0);
  const found = await t.db
    .collection<{ _id: number }>('c')
    .find({ ref: { $nin: [...wanted, ids[1].toHexString()] } })
    .toArray();
  const expected = docs.filter((d, i) => !((i % 2 === 0 && i % 3 !== 1) || i === 1)).map((d) => d._id);
  expect(sorted(found)).toEqual(expected);
});

it('$in on _id with 200 ids finds those documents', async () => {
  const coll = t.db.collection<{ _id: ObjectId; n: number }>('by_id');
  await coll.insertMany(ids.map((_id, n) => ({ _id, n })));
  const found = await coll.find({ _id: { $in: ids.slice(50, 250) } }).toArray();
  expect(found.map((d) => d.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 50));
});
