/**
 * Shapes mongoose sends by itself, which the embedded engine used to answer differently from MongoDB
 * (issue 14): positional updates of timestamped subdocuments, `doc.arr.pull()` of `_id: false`
 * subdocuments, a schema's collation, and BigInt paths. Runs on the engine or MONGODB_URI's server.
 */
import mongoose, { Schema } from 'mongoose';
import { testMongoUri } from '../helpers/mongo';

let stop: () => Promise<void>;
const conn = mongoose.createConnection();

const Thread = conn.model(
  'Thread',
  new Schema({ title: String, comments: [new Schema({ body: String }, { timestamps: true })] }),
);
const Team = conn.model('Team', new Schema({ members: [new Schema({ name: String, role: String }, { _id: false })] }));
const Nick = conn.model('Nick', new Schema({ name: String }, { collation: { locale: 'en', strength: 2 } }));
const Big = conn.model('Big', new Schema({ n: BigInt }));

beforeAll(async () => {
  const m = await testMongoUri(`conformance_mongoose_fidelity_${process.pid}`);
  stop = m.stop;
  await conn.openUri(m.uri);
  await conn.dropDatabase();
  await Promise.all([Thread.init(), Team.init(), Nick.init(), Big.init()]);
});
afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
  await stop();
});

it('updates a timestamped subdocument through the positional operator (mongoose adds comments.$.updatedAt)', async () => {
  const thread = await Thread.create({ title: 't', comments: [{ body: 'first' }, { body: 'second' }] });
  const target = thread.comments[1];
  const before = target.get('updatedAt') as Date;
  const r = await Thread.updateOne(
    { _id: thread._id, 'comments._id': target._id },
    { $set: { 'comments.$.body': 'edited' } },
  );
  expect(r.modifiedCount).toBe(1);
  const back = await Thread.findById(thread._id).lean();
  expect(back!.comments.map((c) => c.body)).toEqual(['first', 'edited']);
  expect((back!.comments[1] as { updatedAt: Date }).updatedAt.getTime()).toBeGreaterThanOrEqual(before.getTime());
});

it('removes an _id-less subdocument with doc.arr.pull()', async () => {
  const team = await Team.create({
    members: [
      { name: 'a', role: 'b' },
      { name: 'c', role: 'd' },
    ],
  });
  team.members.pull({ name: 'a', role: 'b' });
  await team.save();
  expect((await Team.findById(team._id).lean())!.members).toEqual([{ name: 'c', role: 'd' }]);
});

it("applies the schema's collation to the collection's queries", async () => {
  await Nick.create({ name: 'Alice' });
  expect((await Nick.findOne({ name: 'ALICE' }).lean())?.name).toBe('Alice');
});

it('keeps a BigInt path an Int64 whatever its value: $type long finds it, lean() with useBigInt64 returns a bigint', async () => {
  const small = await Big.create({ n: 5n });
  const big = await Big.create({ n: 2n ** 60n + 1n });
  expect(await Big.countDocuments({ n: { $type: 'long' } })).toBe(2);
  expect(await Big.countDocuments({ n: { $type: 'int' } })).toBe(0);
  const lean = async (id: unknown) => (await Big.findById(id, null, { useBigInt64: true }).lean())!.n;
  expect(await lean(small._id)).toBe(5n);
  expect(await lean(big._id)).toBe(2n ** 60n + 1n);
  expect((await Big.findById(small._id))!.n).toBe(5n); // a hydrated document casts to bigint anyway
});
