/**
 * Options the engine used to accept and ignore (issue 21, item 3) now get MongoDB's answer: a hint
 * naming no index is refused (2 BadValue), a positional `$` update without a condition on the array is
 * refused (2), and `$elemMatch` on DBRef fields ($ref, $id) matches. Document validators are MongoDB's
 * 121 DocumentValidationFailure on a real server; the engine refuses to create them (115) rather than
 * store a rule it would not apply. Runs on the engine, or unchanged on MONGODB_URI's server.
 */
import { DBRef, ObjectId, type Document } from 'mongodb';
import { failure, useTestDb } from '../helpers/mongo';

const t = useTestDb('options_enforced');
const onEngine = !process.env.MONGODB_URI;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (name: string) => t.db.collection<any>(name);

describe('hint', () => {
  const c = () => coll('hinted');
  beforeEach(async () => {
    await c().drop().catch(() => undefined);
    await c().insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
    await c().createIndex({ a: 1 }, { name: 'a_idx' });
  });
  afterEach(async () => {
    // No refused command changed anything.
    expect(await c().find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
  });

  it('an existing index by name or by key pattern is accepted and the answer is unchanged', async () => {
    expect(await c().find({ a: 2 }, { hint: 'a_idx' }).toArray()).toEqual([{ _id: 2, a: 2 }]);
    expect(await c().find({ a: 2 }, { hint: { a: 1 } }).toArray()).toEqual([{ _id: 2, a: 2 }]);
    expect(await c().find({}, { hint: { $natural: 1 } }).toArray()).toHaveLength(2);
    expect(await c().countDocuments({ a: 1 }, { hint: '_id_' })).toBe(1);
  });

  it.each([
    ['find by name', () => c().find({ a: 1 }, { hint: 'nope' }).toArray()],
    ['find by key pattern', () => c().find({ a: 1 }, { hint: { b: 1 } }).toArray()],
    ['find by a key pattern of the wrong direction', () => c().find({ a: 1 }, { hint: { a: -1 } }).toArray()],
    ['count', () => t.db.command({ count: 'hinted', query: { a: 1 }, hint: 'nope' })],
    ['countDocuments', () => c().countDocuments({ a: 1 }, { hint: 'nope' })],
    ['aggregate', () => c().aggregate([{ $match: { a: 1 } }], { hint: 'nope' }).toArray()],
    ['updateOne', () => c().updateOne({ a: 1 }, { $set: { a: 9 } }, { hint: 'nope' })],
    ['updateMany', () => c().updateMany({}, { $set: { a: 9 } }, { hint: { nope: 1 } })],
    ['deleteOne', () => c().deleteOne({ a: 1 }, { hint: 'nope' })],
    ['deleteMany', () => c().deleteMany({}, { hint: { nope: 1 } })],
    ['findOneAndUpdate', () => c().findOneAndUpdate({ a: 1 }, { $set: { a: 9 } }, { hint: { nope: 1 } })],
    ['findOneAndDelete', () => c().findOneAndDelete({ a: 1 }, { hint: { nope: 1 } })],
  ])('naming no index is BadValue (2) on %s', async (_name, op) => {
    const err = await failure(op());
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/hint provided does not correspond to an existing index/);
  });
});

describe('hint without a sort', () => {
  it("answers in the hinted index's order, as MongoDB's index scan does (find and aggregate)", async () => {
    const c = coll('hint_order');
    await c.deleteMany({});
    await c.insertMany([{ _id: 1, q: 4, name: 'Andrew' }, { _id: 2, q: 5, name: 'Betty' }, { _id: 3, q: 4, name: 'Charlie' }]);
    await c.createIndex({ q: -1, name: -1 });
    const names = (docs: Document[]) => docs.map((d) => d.name);
    expect(names(await c.find({}, { hint: { q: -1, name: -1 } }).toArray())).toEqual(['Betty', 'Charlie', 'Andrew']);
    expect(names(await c.aggregate([{ $match: {} }], { hint: { q: -1, name: -1 } }).toArray())).toEqual(['Betty', 'Charlie', 'Andrew']);
    expect(names(await c.find({}, { hint: { q: -1, name: -1 } }).sort({ name: 1 }).toArray())).toEqual(['Andrew', 'Betty', 'Charlie']);
  });
});

describe('positional $ update', () => {
  const c = () => coll('positional');
  beforeEach(async () => {
    await c().deleteMany({});
    await c().insertOne({ _id: 1, a: [{ x: 1 }, { x: 2 }], tags: ['p', 'q'] });
  });

  it('without a condition on the array in the filter: 2, and element 0 is not changed', async () => {
    const err = await failure(c().updateOne({ _id: 1 }, { $set: { 'a.$.x': 9 } }));
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/The positional operator did not find the match needed from the query/);
    const err2 = await failure(c().updateOne({ _id: 1 }, { $set: { 'tags.$': 'z' } }));
    expect(err2.code).toBe(2);
    expect(await c().findOne({ _id: 1 })).toEqual({ _id: 1, a: [{ x: 1 }, { x: 2 }], tags: ['p', 'q'] });
  });

  it('with a condition on the array changes the matched element (also inside $and)', async () => {
    await c().updateOne({ _id: 1, 'a.x': 2 }, { $set: { 'a.$.x': 9 } });
    await c().updateOne({ $and: [{ _id: 1 }, { tags: 'q' }] }, { $set: { 'tags.$': 'z' } });
    expect(await c().findOne({ _id: 1 })).toEqual({ _id: 1, a: [{ x: 1 }, { x: 9 }], tags: ['p', 'z'] });
  });
});

describe('$elemMatch on DBRef fields', () => {
  const c = () => coll('dbrefs');
  const users = new ObjectId();
  const group = new ObjectId();
  beforeAll(async () => {
    await c().deleteMany({});
    await c().insertMany([
      { _id: 1, refs: [new DBRef('users', users), new DBRef('groups', group)], owner: new DBRef('users', users) },
      { _id: 2, refs: [new DBRef('users', group)], owner: new DBRef('groups', group) },
    ]);
  });
  const ids = async (filter: object) => (await c().find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);

  it('matches on $ref and $id of one element', async () => {
    expect(await ids({ refs: { $elemMatch: { $ref: 'groups', $id: group } } })).toEqual([1]);
    expect(await ids({ refs: { $elemMatch: { $ref: 'users', $id: group } } })).toEqual([2]);
    expect(await ids({ refs: { $elemMatch: { $id: users } } })).toEqual([1]);
    expect(await ids({ refs: { $elemMatch: { $ref: 'nope' } } })).toEqual([]);
  });

  it('dotted paths into a DBRef ($id, $ref) match', async () => {
    expect(await ids({ 'refs.$id': group })).toEqual([1, 2]);
    expect(await ids({ 'owner.$ref': 'groups' })).toEqual([2]);
  });

  it('a DBRef compares equal to the same DBRef', async () => {
    expect(await ids({ owner: new DBRef('users', users) })).toEqual([1]);
  });
});

describe('document validators', () => {
  const schema = { $jsonSchema: { bsonType: 'object', required: ['email'], properties: { email: { bsonType: 'string' } } } };

  (onEngine ? it : it.skip)('the engine refuses to create one (115) instead of storing a rule it would not apply', async () => {
    const err = await failure(t.db.createCollection('validated', { validator: schema }));
    expect(err.code).toBe(115);
    expect(err.message).toMatch(/validator/);
    expect(await t.db.listCollections({ name: 'validated' }).toArray()).toEqual([]);
  });

  (onEngine ? it.skip : it)('MongoDB refuses an invalid document with 121 DocumentValidationFailure and writes nothing', async () => {
    await t.db.createCollection('validated', { validator: schema });
    const err = await failure(t.db.collection('validated').insertOne({ email: 42 }));
    expect(err.code).toBe(121);
    expect(await t.db.collection('validated').countDocuments()).toBe(0);
  });
});
