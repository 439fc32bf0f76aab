/**
 * Range queries over an array field with a multikey index, as MongoDB answers them: an index changes
 * how documents are found, never which. Each query runs on a collection with the index and on a copy
 * without any (a scan), and both must return the same documents in the same order. MongoDB's rules:
 * - `{f: {$elemMatch: {$gte: a, $lt: b}}}` needs one element within [a, b);
 * - `{f: {$gte: a, $lt: b}}` on an array may be satisfied by two different elements (['zzz', 'abc']
 *   matches ['ada', 'adb')), so a multikey index can bound only one side;
 * - comparisons with a string only match strings (type bracketing);
 * - a document with several elements in the range is returned once.
 * Then explain names the index for the prefix query (the stage's place in the document differs between
 * the engine and a server, so the plan is searched as a whole).
 */
import type { Collection, Document } from 'mongodb';
import { useTestDb } from '../helpers/mongo';

const t = useTestDb('multikey_ranges');
type Doc = { _id: number; terms?: unknown; at?: number; seen?: boolean };
let indexed: Collection<Doc>;
let plain: Collection<Doc>;

const DOCS: Doc[] = [
  { _id: 1, terms: ['ada', 'lovelace', 'ada@example.com'], at: 1 },
  { _id: 2, terms: ['adam', 'ada', 'smith'], at: 2 },
  { _id: 3, terms: ['zzz', 'abc'], at: 3 },
  { _id: 4, terms: ['bob', 'adb'], at: 4 },
  { _id: 5, terms: [], at: 5 },
  { _id: 6, terms: 'adamant', at: 6 },
  { _id: 7, terms: [42, 'grace'], at: 7 },
  { _id: 8, at: 8 },
  { _id: 9, terms: ['Ada', 'ADA'], at: 9 },
  { _id: 10, terms: ['ad', 'lovelock'], at: 10 },
];

beforeAll(async () => {
  indexed = t.db.collection<Doc>('indexed');
  plain = t.db.collection<Doc>('plain');
  await indexed.createIndex({ terms: 1 });
  await indexed.insertMany(DOCS.map((d) => ({ ...d })));
  await plain.insertMany(DOCS.map((d) => ({ ...d })));
});

async function same(filter: Document, sort: Document = { at: -1 }, limit = 0): Promise<number[]> {
  const a = (await indexed.find(filter).sort(sort).limit(limit).toArray()).map((d) => d._id);
  const b = (await plain.find(filter).sort(sort).limit(limit).toArray()).map((d) => d._id);
  expect(a).toEqual(b);
  return a;
}

const prefix = (w: string) => ({
  terms: { $elemMatch: { $gte: w, $lt: `${w.slice(0, -1)}${String.fromCharCode(w.charCodeAt(w.length - 1) + 1)}` } },
});

describe('range queries on a multikey index return what a scan returns', () => {
  it('$elemMatch bounds one element: a prefix, each document once', async () => {
    expect(await same(prefix('ada'))).toEqual([2, 1]);
    expect(await same(prefix('ad'))).toEqual([10, 4, 2, 1]);
    expect(await same(prefix('love'))).toEqual([10, 1]);
  });

  it('every word of a search: one $elemMatch per word', async () => {
    expect(await same({ $and: [prefix('ada'), prefix('love')] })).toEqual([1]);
    expect(await same({ $and: [prefix('ad'), prefix('love')] })).toEqual([10, 1]);
    expect(await same({ $and: [prefix('ada'), prefix('nobody')] })).toEqual([]);
  });

  it('without $elemMatch, two elements may satisfy the two bounds', async () => {
    expect(await same({ terms: { $gte: 'ada', $lt: 'adb' } })).toEqual([10, 6, 3, 2, 1]);
  });

  it('one-sided ranges and type bracketing', async () => {
    expect(await same({ terms: { $gte: 'lovelock' } })).toEqual([10, 3, 2]);
    expect(await same({ terms: { $lt: 'ab' } })).toEqual([9]);
    expect(await same({ terms: { $elemMatch: { $gte: 40, $lt: 50 } } })).toEqual([7]);
  });

  it('a sort and a limit pick the same first documents', async () => {
    expect(await same(prefix('ad'), { at: 1 }, 2)).toEqual([1, 2]);
    expect(await same(prefix('ad'), { at: -1 }, 1)).toEqual([10]);
  });

  it('counts and updates through the range find the same documents', async () => {
    expect(await indexed.countDocuments(prefix('ada'))).toBe(await plain.countDocuments(prefix('ada')));
    await indexed.updateMany(prefix('ada'), { $set: { seen: true } });
    await plain.updateMany(prefix('ada'), { $set: { seen: true } });
    expect(await same({ seen: true })).toEqual([2, 1]);
  });

  it('follows writes: a changed array is found by its new elements only', async () => {
    for (const c of [indexed, plain]) {
      await c.updateOne({ _id: 4 }, { $set: { terms: ['adalbert', 'bob'] } });
      await c.updateOne({ _id: 2 }, { $pull: { terms: 'ada' } } as Document);
      await c.deleteOne({ _id: 10 });
      await c.insertOne({ _id: 12, terms: ['adaline'], at: 12 });
    }
    expect(await same(prefix('ada'))).toEqual([12, 4, 2, 1]);
    expect(await same(prefix('adam'))).toEqual([2]);
    expect(await same(prefix('ad'))).toEqual([12, 4, 2, 1]);
  });
});

it('explain shows the prefix query on the multikey index', async () => {
  const plan = await indexed.find(prefix('adal')).sort({ at: -1 }).limit(10).explain('executionStats');
  const text = JSON.stringify(plan.queryPlanner);
  expect(text).toContain('"indexName":"terms_1"');
  expect(text).toContain('"isMultiKey":true');
  expect(plan.executionStats.nReturned).toBe(2);
});
