/** The mongoose features the portal's models rely on, against the engine or MONGODB_URI's server. */
import mongoose, { Schema } from 'mongoose';
import { testMongoUri } from '../helpers/mongo';

let stop: () => Promise<void>;
const conn = mongoose.createConnection();

const Account = conn.model('Account', new Schema({ name: { type: String, required: true } }));
const personSchema = new Schema(
  {
    email: {
      type: String,
      required: [true, 'Enter an email.'],
      lowercase: true,
      trim: true,
      match: [/@/, 'Enter a valid email.'],
    },
    nick: { type: String, required: true },
    account: { type: Schema.Types.ObjectId, ref: 'Account', default: null },
    age: { type: Number, min: 0 },
  },
  { timestamps: true },
);
personSchema.index({ email: 1 }, { unique: true });
personSchema.index({ nick: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
const Person = conn.model('Person', personSchema);
const Counter = conn.model('Counter', new Schema({ used: Number, total: Number }));

beforeAll(async () => {
  const m = await testMongoUri(`conformance_mongoose_${process.pid}`);
  stop = m.stop;
  await conn.openUri(m.uri);
  await conn.dropDatabase();
  await Promise.all([Account.init(), Person.init(), Counter.init()]);
});
afterAll(async () => {
  await conn.dropDatabase();
  await conn.close();
  await stop();
});

it('creates the schema indexes, including the collation index', async () => {
  const indexes = await Person.collection.listIndexes().toArray();
  const nick = indexes.find((i) => i.key.nick === 1);
  expect(nick?.unique).toBe(true);
  expect(nick?.collation).toMatchObject({ locale: 'en', strength: 2 });
});

it('reports validation errors per field and writes nothing', async () => {
  const err = await Person.create({ email: 'nope', age: -1 }).catch((e) => e);
  expect(err).toBeInstanceOf(mongoose.Error.ValidationError);
  expect(Object.keys(err.errors).sort()).toEqual(['age', 'email', 'nick']);
  expect(await Person.countDocuments()).toBe(0);
});

it('maps a duplicate to E11000 with the key, case-insensitively for the collation index', async () => {
  await Person.create({ email: 'A@Example.com', nick: 'Zoe' });
  const byEmail = await Person.create({ email: 'a@example.com', nick: 'other' }).catch((e) => e);
  expect(byEmail.code).toBe(11000);
  expect(byEmail.keyPattern).toEqual({ email: 1 });
  const byNick = await Person.create({ email: 'b@example.com', nick: 'zOE' }).catch((e) => e);
  expect(byNick.code).toBe(11000);
  expect(byNick.keyPattern).toEqual({ nick: 1 });
  expect(await Person.findOne({ nick: 'ZOE' }).collation({ locale: 'en', strength: 2 }).lean()).toMatchObject({
    nick: 'Zoe',
  });
});

it('populates references', async () => {
  const account = await Account.create({ name: 'Acme' });
  await Person.create({ email: 'c@example.com', nick: 'c', account: account._id });
  const p = await Person.findOne({ email: 'c@example.com' }).populate<{ account: { name: string } }>('account').lean();
  expect(p!.account.name).toBe('Acme');
});

it('sets timestamps and keeps them on update', async () => {
  const p = await Person.create({ email: 'd@example.com', nick: 'd' });
  expect(p.createdAt).toBeInstanceOf(Date);
  await new Promise((r) => setTimeout(r, 5));
  const updated = await Person.findByIdAndUpdate(p._id, { $set: { age: 3 } }, { returnDocument: 'after' }).lean();
  expect(updated!.updatedAt.getTime()).toBeGreaterThan(p.updatedAt.getTime());
  expect(updated!.createdAt).toEqual(p.createdAt);
});

it('never oversells a counter under 50 concurrent conditional findOneAndUpdate', async () => {
  const c = await Counter.create({ used: 0, total: 10 });
  const results = await Promise.all(
    Array.from({ length: 50 }, () =>
      Counter.findOneAndUpdate(
        { _id: c._id, used: { $lt: 10 } },
        { $inc: { used: 1 } },
        { returnDocument: 'after' },
      ).lean(),
    ),
  );
  expect(results.filter(Boolean)).toHaveLength(10);
  expect((await Counter.findById(c._id).lean())!.used).toBe(10);
});

it('refuses an operator smuggled in as a value when sanitizeFilter is on, instead of obeying it', async () => {
  const attempt = Person.findOne({ email: { $ne: 'x' } as unknown as string })
    .setOptions({ sanitizeFilter: true })
    .lean();
  await expect(attempt).rejects.toBeInstanceOf(mongoose.Error.CastError);
});
