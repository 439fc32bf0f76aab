/**
 * `__proto__`, `constructor` and `prototype` are ordinary field names in MongoDB (issue 21, item 1).
 * The engine holds documents as JavaScript objects, where those names reach Object.prototype: an update
 * such as `$rename: {hello: '__proto__.polluted'}` (from mongoose's own test suite) used to write into
 * the engine process's Object.prototype and break every later command. Each test states MongoDB's
 * answer (the field stored and returned like any other) and, after it, checks that the prototypes of
 * the process are untouched and that an ordinary insert, update and query still answer exactly. It runs
 * on the engine by default and, unchanged, against a real MongoDB when MONGODB_URI is set.
 */
import { BSON, type Document } from 'mongodb';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('reserved_names');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const coll = (name: string) => t.db.collection<any>(name);

const NAMES = ['__proto__', 'constructor', 'prototype'] as const;

/** A template with the field name N (in keys, paths and `$N` expressions) replaced by `name`. */
function named<T>(template: T, name: string): T {
  // JSON.parse makes `__proto__` an own field, never the prototype.
  return JSON.parse(JSON.stringify(template).replace(/\bN\b/g, name)) as T;
}

/**
 * The driver (bson's deserialize) hands back the elements of an array field named `constructor` or
 * `__proto__` as raw BSON bytes (it looks the name up in a plain `fieldsAsRaw` object), against any
 * server: they are decoded here so the comparison is about what the server sent.
 */
function decoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return BSON.deserialize(v);
  if (Array.isArray(v)) return v.map(decoded);
  if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return v;
  return JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decoded(x)]))));
}

/** A document as text, with its own fields in their order (the way MongoDB returns them). */
const text = (doc: unknown) => JSON.stringify(decoded(doc));

function prototypeShape() {
  return [Object.prototype, Object, Array.prototype, Function.prototype].map((o) =>
    Object.getOwnPropertyNames(o).sort().join(),
  );
}
const pristine = prototypeShape();

afterEach(async () => {
  // Nothing leaked into the process's prototypes...
  expect(prototypeShape()).toEqual(pristine);
  expect(({} as Document).polluted).toBeUndefined();
  // ...and an ordinary write and read still answer exactly.
  const probe = coll('probe');
  await probe.deleteMany({});
  await probe.insertOne({ _id: 'p', a: 1 });
  const r = await probe.updateOne({ _id: 'p' }, { $inc: { a: 1 } });
  expect(r.modifiedCount).toBe(1);
  expect(text(await probe.find({ a: { $in: [2] } }).toArray())).toBe('[{"_id":"p","a":2}]');
});

const BASE = { _id: 1, hello: 'world', sub: { k: 1 }, arr: [{ k: 1 }, { k: 2 }], N: { n: 5, list: [1, 2, 3], d: 'x' } };
const HEAD = '"_id":1,"hello":"world","sub":{"k":1},"arr":[{"k":1},{"k":2}]';
const NF = '"N":{"n":5,"list":[1,2,3],"d":"x"}';

interface UpdateCase {
  title: string;
  update: Document | Document[];
  filter?: Document;
  arrayFilters?: Document[];
  expected: string;
}

const UPDATES: UpdateCase[] = [
  { title: '$set of the top-level field', update: { $set: { N: 1 } }, expected: `{${HEAD},"N":1}` },
  {
    title: '$set of a new field inside it',
    update: { $set: { 'N.y': 1 } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,2,3],"d":"x","y":1}}`,
  },
  {
    title: '$set of a field inside it under an existing subdocument',
    update: { $set: { 'sub.N.x': 1 } },
    expected: `{"_id":1,"hello":"world","sub":{"k":1,"N":{"x":1}},"arr":[{"k":1},{"k":2}],${NF}}`,
  },
  {
    title: '$set of a field inside it under a missing subdocument',
    update: { $set: { 'missing.N.x': 1 } },
    expected: `{${HEAD},${NF},"missing":{"N":{"x":1}}}`,
  },
  {
    title: '$set through an array index',
    update: { $set: { 'arr.0.N': 1 } },
    expected: `{"_id":1,"hello":"world","sub":{"k":1},"arr":[{"k":1,"N":1},{"k":2}],${NF}}`,
  },
  {
    title: '$set through the positional $',
    filter: { 'arr.k': 2 },
    update: { $set: { 'arr.$.N.x': 1 } },
    expected: `{"_id":1,"hello":"world","sub":{"k":1},"arr":[{"k":1},{"k":2,"N":{"x":1}}],${NF}}`,
  },
  {
    title: '$set through $[]',
    update: { $set: { 'arr.$[].N': 1 } },
    expected: `{"_id":1,"hello":"world","sub":{"k":1},"arr":[{"k":1,"N":1},{"k":2,"N":1}],${NF}}`,
  },
  {
    title: '$set through $[e] with arrayFilters',
    update: { $set: { 'arr.$[e].N': 1 } },
    arrayFilters: [{ 'e.k': 1 }],
    expected: `{"_id":1,"hello":"world","sub":{"k":1},"arr":[{"k":1,"N":1},{"k":2}],${NF}}`,
  },
  { title: '$unset of the field', update: { $unset: { N: '' } }, expected: `{${HEAD}}` },
  {
    title: '$unset of a field inside it',
    update: { $unset: { 'N.d': '' } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,2,3]}}`,
  },
  {
    title: '$unset of a missing field under it (no change)',
    update: { $unset: { 'sub.N.x': '' } },
    expected: `{${HEAD},${NF}}`,
  },
  { title: '$inc inside it', update: { $inc: { 'N.n': 1 } }, expected: `{${HEAD},"N":{"n":6,"list":[1,2,3],"d":"x"}}` },
  {
    title: '$inc of a new field under a missing subdocument',
    update: { $inc: { 'other.N.c': 2 } },
    expected: `{${HEAD},${NF},"other":{"N":{"c":2}}}`,
  },
  {
    title: '$mul inside it',
    update: { $mul: { 'N.n': 2 } },
    expected: `{${HEAD},"N":{"n":10,"list":[1,2,3],"d":"x"}}`,
  },
  { title: '$min inside it', update: { $min: { 'N.n': 1 } }, expected: `{${HEAD},"N":{"n":1,"list":[1,2,3],"d":"x"}}` },
  { title: '$max inside it', update: { $max: { 'N.n': 9 } }, expected: `{${HEAD},"N":{"n":9,"list":[1,2,3],"d":"x"}}` },
  {
    title: "$rename into it (mongoose's prototype pollution test)",
    update: { $rename: { hello: 'N.polluted' } },
    expected: '{"_id":1,"sub":{"k":1},"arr":[{"k":1},{"k":2}],"N":{"n":5,"list":[1,2,3],"d":"x","polluted":"world"}}',
  },
  {
    title: '$rename into it under a missing subdocument',
    update: { $rename: { hello: 'fresh.N.p' } },
    expected: `{"_id":1,"sub":{"k":1},"arr":[{"k":1},{"k":2}],${NF},"fresh":{"N":{"p":"world"}}}`,
  },
  {
    title: '$rename of the field itself',
    update: { $rename: { N: 'renamed' } },
    expected: `{${HEAD},"renamed":{"n":5,"list":[1,2,3],"d":"x"}}`,
  },
  {
    title: '$push into an array inside it',
    update: { $push: { 'N.list': 4 } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,2,3,4],"d":"x"}}`,
  },
  {
    title: '$push creating the field under a missing subdocument',
    update: { $push: { 'newarr.N': 1 } },
    expected: `{${HEAD},${NF},"newarr":{"N":[1]}}`,
  },
  {
    title: '$addToSet inside it',
    update: { $addToSet: { 'N.list': 9 } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,2,3,9],"d":"x"}}`,
  },
  {
    title: '$pull inside it',
    update: { $pull: { 'N.list': 2 } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,3],"d":"x"}}`,
  },
  {
    title: '$pullAll inside it',
    update: { $pullAll: { 'N.list': [1, 3] } },
    expected: `{${HEAD},"N":{"n":5,"list":[2],"d":"x"}}`,
  },
  {
    title: '$pop inside it',
    update: { $pop: { 'N.list': 1 } },
    expected: `{${HEAD},"N":{"n":5,"list":[1,2],"d":"x"}}`,
  },
  {
    title: '$setOnInsert is skipped on an update',
    update: { $setOnInsert: { 'N.z': 1 }, $set: { hello: 'again' } },
    expected: `{"_id":1,"hello":"again","sub":{"k":1},"arr":[{"k":1},{"k":2}],${NF}}`,
  },
  {
    title: 'a pipeline update ($set stage) inside it',
    update: [{ $set: { 'N.p': 1 } }],
    expected: `{${HEAD},"N":{"n":5,"list":[1,2,3],"d":"x","p":1}}`,
  },
  { title: 'a replacement holding the field', update: { N: { a: 1 } }, expected: '{"_id":1,"N":{"a":1}}' },
];

describe.each(NAMES)('a field named %s', (name) => {
  const c = () => coll(`u_${name.replace(/_/g, '')}`);

  describe('update operators and path forms', () => {
    beforeEach(async () => {
      await c().deleteMany({});
      await c().insertOne(named(BASE, name));
    });

    it.each(UPDATES)('$title', async ({ update, filter, arrayFilters, expected }) => {
      const u = named(update, name);
      const f = named(filter ?? { _id: 1 }, name);
      const r =
        Array.isArray(u) || Object.keys(u).some((k) => k.startsWith('$'))
          ? await c().updateOne(f, u, arrayFilters ? { arrayFilters: named(arrayFilters, name) } : {})
          : await c().replaceOne(f, u);
      expect(r.matchedCount).toBe(1);
      expect(text(await c().findOne({ _id: 1 }))).toBe(named(expected, name));
    });

    it('$currentDate inside it stores a date there', async () => {
      await c().updateOne({ _id: 1 }, named({ $currentDate: { 'N.at': true } }, name));
      const doc = await c().findOne({ _id: 1 });
      const inner = Object.getOwnPropertyDescriptor(doc, name)?.value;
      expect(Object.keys(inner)).toEqual(['n', 'list', 'd', 'at']);
      expect(inner.at).toBeInstanceOf(Date);
    });

    it('findOneAndUpdate returns the new document with the field', async () => {
      const doc = await c().findOneAndUpdate({ _id: 1 }, named({ $set: { 'N.n': 7 } }, name), {
        returnDocument: 'after',
      });
      expect(text(doc)).toBe(named(`{${HEAD},"N":{"n":7,"list":[1,2,3],"d":"x"}}`, name));
    });
  });

  describe('upserts', () => {
    beforeEach(() => c().deleteMany({}));

    it('seed the new document from a dotted equality in the filter', async () => {
      const r = await c().updateOne(named({ _id: 2, 'N.x': 1 }, name), { $set: { y: 2 } }, { upsert: true });
      expect(r.upsertedId).toBe(2);
      expect(text(await c().findOne({ _id: 2 }))).toBe(named('{"_id":2,"N":{"x":1},"y":2}', name));
    });

    it('seed it from a top-level equality in the filter', async () => {
      await c().updateOne(named({ _id: 3, N: 'v' }, name), { $set: { other: 1 } }, { upsert: true });
      expect(text(await c().findOne({ _id: 3 }))).toBe(named('{"_id":3,"N":"v","other":1}', name));
    });

    it('apply $setOnInsert and $set under the field', async () => {
      await c().updateOne({ _id: 4 }, named({ $setOnInsert: { 'N.z': 1 }, $set: { 'sub.N': 2 } }, name), {
        upsert: true,
      });
      expect(text(await c().findOne({ _id: 4 }))).toBe(named('{"_id":4,"N":{"z":1},"sub":{"N":2}}', name));
    });

    it('findOneAndUpdate with upsert seeds and returns it', async () => {
      const doc = await c().findOneAndUpdate(named({ _id: 5, 'N.q': 1 }, name), named({ $inc: { 'N.r': 1 } }, name), {
        upsert: true,
        returnDocument: 'after',
      });
      expect(text(doc)).toBe(named('{"_id":5,"N":{"q":1,"r":1}}', name));
    });
  });

  describe('queries, sorts, indexes and projections', () => {
    beforeEach(async () => {
      await c().deleteMany({});
      await c().insertMany([
        named(BASE, name),
        { _id: 2, a: 1 },
        named({ _id: 3, N: [{ k: 1 }, { k: 2 }], n: 0 }, name),
      ]);
    });

    it('filters on it like any field ($exists, null for missing, dotted equality)', async () => {
      const ids = async (f: Document) => (await c().find(named(f, name)).toArray()).map((d) => d._id);
      expect(await ids({ 'N.n': 5 })).toEqual([1]);
      expect(await ids({ N: { $exists: false } })).toEqual([2]);
      expect(await ids({ N: null })).toEqual([2]);
      expect(await ids({ 'N.k': 2 })).toEqual([3]);
      expect(await ids({ N: { $elemMatch: { k: 2 } } })).toEqual([3]);
      expect(await ids({ 'N.d': { $regex: '^x' } })).toEqual([1]);
    });

    it('sorts by it (missing sorts first)', async () => {
      const docs = await c()
        .find({})
        .sort(named({ 'N.n': -1, _id: 1 }, name))
        .toArray();
      expect(docs.map((d) => d._id)).toEqual([1, 2, 3]);
    });

    it('indexes it: a unique index refuses a duplicate and serves the query', async () => {
      await c().createIndex(named({ 'N.n': 1 }, name), {
        unique: true,
        partialFilterExpression: named({ 'N.n': { $exists: true } }, name),
      });
      await expect(c().insertOne(named({ _id: 4, N: { n: 5 } }, name))).rejects.toMatchObject({ code: 11000 });
      expect(
        (
          await c()
            .find(named({ 'N.n': 5 }, name))
            .toArray()
        ).map((d) => d._id),
      ).toEqual([1]);
    });

    it('distinct reads its values and nothing for documents without it', async () => {
      expect(await c().distinct(named('N.n', name))).toEqual([5]);
    });

    it('projection including it, a field inside it, or excluding it', async () => {
      const one = async (p: Document, id = 1) => text(await c().findOne({ _id: id }, { projection: named(p, name) }));
      expect(await one({ N: 1 })).toBe(named(`{"_id":1,${NF}}`, name));
      expect(await one({ 'N.n': 1, _id: 0 })).toBe(named('{"N":{"n":5}}', name));
      expect(await one({ N: 0 })).toBe(`{${HEAD}}`);
      expect(await one({ 'N.list': 0, hello: 0, arr: 0, sub: 0 })).toBe(named('{"_id":1,"N":{"n":5,"d":"x"}}', name));
      expect(await one({ N: 1 }, 2)).toBe('{"_id":2}');
      expect(await one({ N: 0 }, 2)).toBe('{"_id":2,"a":1}');
    });

    it('projection with $slice and $elemMatch on it', async () => {
      const one = async (p: Document, id: number) =>
        text(await c().findOne({ _id: id }, { projection: named(p, name) }));
      expect(await one({ 'N.list': { $slice: 1 }, hello: 0, sub: 0, arr: 0 }, 1)).toBe(
        named('{"_id":1,"N":{"n":5,"list":[1],"d":"x"}}', name),
      );
      expect(await one({ N: { $slice: -1 } }, 3)).toBe(named('{"_id":3,"N":[{"k":2}],"n":0}', name));
      expect(await one({ N: { $elemMatch: { k: 2 } } }, 3)).toBe(named('{"_id":3,"N":[{"k":2}]}', name));
      expect(await one({ N: { $elemMatch: { k: 2 } } }, 2)).toBe('{"_id":2}');
    });

    it('the positional projection on it', async () => {
      const doc = await c().findOne(named({ 'N.k': 2 }, name), { projection: named({ 'N.$': 1 }, name) });
      expect(text(doc)).toBe(named('{"_id":3,"N":[{"k":2}]}', name));
    });
  });

  describe('aggregation stages', () => {
    beforeEach(async () => {
      await c().deleteMany({});
      await c().insertMany([named(BASE, name), { _id: 2, a: 1 }]);
    });
    const run = async (pipeline: Document[]) =>
      text(
        await c()
          .aggregate([...named(pipeline, name), { $sort: { _id: 1 } }])
          .toArray(),
      );
    const expected = (json: string) => named(json, name);

    it('$project includes it, reads inside it, or leaves documents without it bare', async () => {
      expect(await run([{ $project: { N: 1 } }])).toBe(expected(`[{"_id":1,${NF}},{"_id":2}]`));
      expect(await run([{ $project: { v: '$N.n' } }])).toBe(expected('[{"_id":1,"v":5},{"_id":2}]'));
      expect(await run([{ $project: { 'N.d': 0, hello: 0, sub: 0, arr: 0 } }])).toBe(
        expected('[{"_id":1,"N":{"n":5,"list":[1,2,3]}},{"_id":2,"a":1}]'),
      );
    });

    it('$addFields and $set write inside it, creating it where missing', async () => {
      expect(await run([{ $addFields: { 'N.added': 1 } }, { $project: { N: 1 } }])).toBe(
        expected('[{"_id":1,"N":{"n":5,"list":[1,2,3],"d":"x","added":1}},{"_id":2,"N":{"added":1}}]'),
      );
      expect(await run([{ $set: { N: { $ifNull: ['$a', 'none'] } } }, { $project: { N: 1 } }])).toBe(
        expected('[{"_id":1,"N":"none"},{"_id":2,"N":1}]'),
      );
    });

    it('$group by it and into an output field of that name', async () => {
      const out = await c()
        .aggregate(named([{ $group: { _id: '$N.d', N: { $sum: '$N.n' } } }, { $sort: { _id: 1 } }], name))
        .toArray();
      expect(text(out)).toBe(named('[{"_id":null,"N":0},{"_id":"x","N":5}]', name));
    });

    it('$unwind, $replaceRoot, $sort and $match on it', async () => {
      expect(await run([{ $match: { 'N.n': 5 } }, { $unwind: '$N.list' }, { $project: { v: '$N.list' } }])).toBe(
        expected('[{"_id":1,"v":1},{"_id":1,"v":2},{"_id":1,"v":3}]'),
      );
      expect(
        text(
          await c()
            .aggregate(named([{ $match: { _id: 1 } }, { $replaceRoot: { newRoot: '$N' } }], name))
            .toArray(),
        ),
      ).toBe('[{"n":5,"list":[1,2,3],"d":"x"}]');
      expect(
        text(
          await c()
            .aggregate(named([{ $sort: { 'N.n': -1 } }, { $project: { _id: 1 } }], name))
            .toArray(),
        ),
      ).toBe('[{"_id":1},{"_id":2}]');
      expect(await run([{ $match: { N: { $exists: true } } }, { $project: { _id: 1 } }])).toBe(expected('[{"_id":1}]'));
    });
  });
});

describe('commands named like Object.prototype properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s is an unknown command (59)', async (name) => {
    const err = await t.db.command(JSON.parse(`{${JSON.stringify(name)}: 1}`)).then(
      () => null,
      (e: { code?: number }) => e,
    );
    expect(err?.code).toBe(59);
  });
});

describe("mongoose's prototype pollution test, through the driver", () => {
  it('$rename of a field to __proto__.polluted then to constructor.polluted leaves the process clean', async () => {
    const c = coll('mongoose_case');
    await c.deleteMany({});
    await c.insertMany([
      { _id: 1, hello: 'world!' },
      { _id: 2, hello: 'world!' },
    ]);
    await c.findOneAndUpdate({ _id: 1 }, { $rename: { hello: '__proto__.polluted' } });
    await c.findOneAndUpdate({ _id: 2 }, { $rename: { hello: 'constructor.polluted' } });
    const docs = await c.find().toArray();
    expect(text(docs)).toBe(
      '[{"_id":1,"__proto__":{"polluted":"world!"}},{"_id":2,"constructor":{"polluted":"world!"}}]',
    );
    expect(({} as Document).polluted).toBeUndefined();
    expect((Object as unknown as Document).polluted).toBeUndefined();
  });
});
