/**
 * Options the engine used to accept and ignore (issue 21, item 3) now get MongoDB's answer: a hint
 * naming no index is refused (2 BadValue), a positional `$` update without a condition on the array is
 * refused (2), `$elemMatch` on DBRef fields ($ref, $id) matches, and collection validators are enforced
 * (121 DocumentValidationFailure). Runs on the engine, or unchanged on MONGODB_URI's server.
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
    await c()
      .drop()
      .catch(() => undefined);
    await c().insertMany([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
    await c().createIndex({ a: 1 }, { name: 'a_idx' });
  });
  afterEach(async () => {
    // No refused command changed anything.
    expect(await c().find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
  });

  it('an existing index by name or by key pattern is accepted and the answer is unchanged', async () => {
    expect(await c().find({ a: 2 }, { hint: 'a_idx' }).toArray()).toEqual([{ _id: 2, a: 2 }]);
    expect(
      await c()
        .find({ a: 2 }, { hint: { a: 1 } })
        .toArray(),
    ).toEqual([{ _id: 2, a: 2 }]);
    expect(
      await c()
        .find({}, { hint: { $natural: 1 } })
        .toArray(),
    ).toHaveLength(2);
    expect(await c().countDocuments({ a: 1 }, { hint: '_id_' })).toBe(1);
  });

  it.each([
    ['find by name', () => c().find({ a: 1 }, { hint: 'nope' }).toArray()],
    [
      'find by key pattern',
      () =>
        c()
          .find({ a: 1 }, { hint: { b: 1 } })
          .toArray(),
    ],
    [
      'find by a key pattern of the wrong direction',
      () =>
        c()
          .find({ a: 1 }, { hint: { a: -1 } })
          .toArray(),
    ],
    ['count', () => t.db.command({ count: 'hinted', query: { a: 1 }, hint: 'nope' })],
    ['countDocuments', () => c().countDocuments({ a: 1 }, { hint: 'nope' })],
    [
      'aggregate',
      () =>
        c()
          .aggregate([{ $match: { a: 1 } }], { hint: 'nope' })
          .toArray(),
    ],
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
    await c.insertMany([
      { _id: 1, q: 4, name: 'Andrew' },
      { _id: 2, q: 5, name: 'Betty' },
      { _id: 3, q: 4, name: 'Charlie' },
    ]);
    await c.createIndex({ q: -1, name: -1 });
    const names = (docs: Document[]) => docs.map((d) => d.name);
    expect(names(await c.find({}, { hint: { q: -1, name: -1 } }).toArray())).toEqual(['Betty', 'Charlie', 'Andrew']);
    expect(names(await c.aggregate([{ $match: {} }], { hint: { q: -1, name: -1 } }).toArray())).toEqual([
      'Betty',
      'Charlie',
      'Andrew',
    ]);
    expect(
      names(
        await c
          .find({}, { hint: { q: -1, name: -1 } })
          .sort({ name: 1 })
          .toArray(),
      ),
    ).toEqual(['Andrew', 'Betty', 'Charlie']);
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

  it('the $elemMatch projection and $pull read $ref and $id of the elements', async () => {
    const doc = await c().findOne({ _id: 1 }, { projection: { refs: { $elemMatch: { $ref: 'groups', $id: group } } } });
    expect(doc).toEqual({ _id: 1, refs: [new DBRef('groups', group)] });
    const other = coll('dbref_pull');
    await other.deleteMany({});
    await other.insertOne({ _id: 1, refs: [new DBRef('users', users), new DBRef('groups', group)] });
    await other.updateOne({ _id: 1 }, { $pull: { refs: { $ref: 'users' } } } as never);
    expect(await other.findOne({ _id: 1 })).toEqual({ _id: 1, refs: [new DBRef('groups', group)] });
  });

  it('a DBRef compares equal to the same DBRef', async () => {
    expect(await ids({ owner: new DBRef('users', users) })).toEqual([1]);
  });
});

describe('document validators', () => {
  const schema = {
    $jsonSchema: {
      bsonType: 'object',
      required: ['email'],
      properties: {
        email: { bsonType: 'string' },
        age: { bsonType: ['int', 'null'], minimum: 0 },
        tags: { bsonType: 'array', items: { bsonType: 'string' } },
      },
    },
  };
  let n = 0;
  const fresh = async (options: object) => {
    const name = `validated_${++n}`;
    await t.db.createCollection(name, options);
    return coll(name);
  };
  const refused121 = async (p: Promise<unknown>) => {
    const err = await failure(p);
    expect(err.code).toBe(121);
    expect(err.message).toMatch(/Document failed validation/);
  };

  it('$jsonSchema: an invalid insert is 121 and nothing is written; a valid one is stored', async () => {
    const c = await fresh({ validator: schema });
    await refused121(c.insertOne({ _id: 1, email: 42 }));
    await refused121(c.insertOne({ _id: 2 }));
    await refused121(c.insertOne({ _id: 3, email: 'a@x', age: -1 }));
    await refused121(c.insertOne({ _id: 4, email: 'a@x', tags: [1] }));
    await c.insertOne({ _id: 5, email: 'a@x', age: null, tags: ['t'] });
    expect(await c.find().toArray()).toEqual([{ _id: 5, email: 'a@x', age: null, tags: ['t'] }]);
  });

  it('an update, an upsert and findOneAndUpdate that would make the document invalid are 121 and change nothing', async () => {
    const c = await fresh({ validator: schema });
    await c.insertOne({ _id: 1, email: 'a@x' });
    await refused121(c.updateOne({ _id: 1 }, { $set: { email: 7 } }));
    await refused121(c.updateMany({}, { $unset: { email: '' } }));
    await refused121(c.replaceOne({ _id: 1 }, { name: 'no email' }));
    await refused121(c.updateOne({ _id: 2 }, { $set: { age: 3 } }, { upsert: true }));
    await refused121(c.findOneAndUpdate({ _id: 1 }, { $set: { age: 'old' } }));
    expect(await c.find().toArray()).toEqual([{ _id: 1, email: 'a@x' }]);
    await c.updateOne({ _id: 1 }, { $set: { age: 30 } });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, email: 'a@x', age: 30 });
  });

  it('query conditions as a validator are enforced too', async () => {
    const c = await fresh({ validator: { qty: { $gte: 0 }, $or: [{ kind: 'a' }, { kind: 'b' }] } });
    await refused121(c.insertOne({ qty: -1, kind: 'a' }));
    await refused121(c.insertOne({ qty: 1, kind: 'z' }));
    await c.insertOne({ _id: 1, qty: 1, kind: 'b' });
    expect(await c.countDocuments()).toBe(1);
  });

  it('bypassDocumentValidation skips the check; validationLevel moderate then lets updates of invalid documents through', async () => {
    const strict = await fresh({ validator: schema });
    await strict.insertOne({ _id: 1, email: 5 }, { bypassDocumentValidation: true });
    await refused121(strict.updateOne({ _id: 1 }, { $set: { note: 'x' } }));
    const moderate = await fresh({ validator: schema, validationLevel: 'moderate' });
    await moderate.insertOne({ _id: 1, email: 5 }, { bypassDocumentValidation: true });
    await moderate.insertOne({ _id: 2, email: 'ok' });
    await moderate.updateOne({ _id: 1 }, { $set: { note: 'x' } });
    await refused121(moderate.updateOne({ _id: 2 }, { $set: { email: 9 } }));
    expect(await moderate.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, email: 5, note: 'x' },
      { _id: 2, email: 'ok' },
    ]);
  });

  it('validationLevel off checks nothing', async () => {
    const c = await fresh({ validator: schema, validationLevel: 'off' });
    await c.insertOne({ _id: 1, email: 5 });
    expect(await c.countDocuments()).toBe(1);
  });

  (onEngine ? it : it.skip)(
    "validationAction 'warn' is refused at create (115): the engine keeps no server log to warn in",
    async () => {
      const err = await failure(
        t.db.createCollection('validated_warn', { validator: schema, validationAction: 'warn' }),
      );
      expect(err.code).toBe(115);
      expect(await t.db.listCollections({ name: 'validated_warn' }).toArray()).toEqual([]);
    },
  );

  (onEngine ? it.skip : it)("MongoDB's validationAction 'warn' lets the invalid document in", async () => {
    const c = await fresh({ validator: schema, validationAction: 'warn' });
    await c.insertOne({ _id: 1, email: 5 });
    expect(await c.countDocuments()).toBe(1);
  });
});
