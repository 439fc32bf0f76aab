/**
 * The (key, document) pairs an index keeps in order for range reads (key-ranges.ts, SortedEntries): they
 * stay exactly the index's string keys through inserts, updates that change the terms (and those that do
 * not), deletes, and a restart from the journal and snapshot; ranges read from them and their
 * intersections equal what a scan of the documents finds, on random data large enough to split leaves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Document } from 'bson';
import { MongoClient } from 'mongodb';
import { Collection, type Index } from '../../src/collection';
import { findDocs } from '../../src/commands/query';
import { firstSorted, sortDocuments } from '../../src/compare';
import { matcher } from '../../src/matcher';
import { SortedEntries, type StringRange } from '../../src/key-ranges';
import { startEmbeddedMongo } from '../../src';

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const next = (w: string) => w.slice(0, -1) + String.fromCharCode(w.charCodeAt(w.length - 1) + 1);
const range = (w: string): StringRange => ({ lower: w, lowerInclusive: true, upper: next(w), upperInclusive: false });
const prefix = (w: string) => ({ terms: { $elemMatch: { $gte: w, $lt: next(w) } } });
const SYLLABLES = ['a', 'da', 'ma', 'bv', 're', 'le', 'ro', 'sa'];

/** A few random words over a small alphabet: prefixes shared by hundreds of documents. */
function termsOf(rand: () => number, id: number): unknown[] {
  const out: unknown[] = [`u${id}`];
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++)
    out.push(
      Array.from({ length: 1 + Math.floor(rand() * 3) }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join(
        '',
      ),
    );
  if (rand() < 0.05) out.push(42); // not a string: never in a string range
  return out;
}

/** The pairs a scan of the documents gives for a range, sorted. */
function scanPairs(coll: Collection, r: StringRange): string[] {
  const out = new Set<string>();
  const inR = (v: string) => (r.lower === undefined || v >= r.lower) && (r.upper === undefined || v < r.upper);
  for (const [id, d] of coll.docs)
    for (const t of Array.isArray(d.terms) ? d.terms : [d.terms])
      if (typeof t === 'string' && inR(t)) out.add(`s:${t} ${id}`);
  return [...out].sort();
}

const treePairs = (e: SortedEntries, r: StringRange) =>
  e
    .pairsIn(r)
    .map(([k, id]) => `${k} ${id}`)
    .sort();

function scanIds(coll: Collection, words: string[]): string[] {
  const q = matcher({ $and: words.map(prefix) });
  return [...coll.docs]
    .filter(([, d]) => q.test(d))
    .map(([id]) => id)
    .sort();
}

function oracle(coll: Collection, filter: Document, sort: Document, limit: number): Document[] {
  const q = matcher(filter);
  return sortDocuments(
    [...coll.docs.values()].filter((d) => q.test(d)),
    sort,
  ).slice(0, limit || undefined);
}

interface UserDoc {
  _id: number;
  at: number;
  terms: unknown[];
}

const WORDS = ['a', 'da', 'dam', 'ma', 'mab', 'bv', 'bvre', 're', 'rol', 'sa', 'sale', 'u1', 'u2', 'z'];

describe('SortedEntries kept by the index', () => {
  const rand = rng(3);
  const coll = new Collection('t', 'users');
  coll.createIndex({ key: { at: -1 }, name: 'at_-1' });
  coll.createIndex({ key: { terms: 1 }, name: 'terms_1' });
  const index = coll.indexes.find((i) => i.name === 'terms_1') as Index;
  let nextId = 0;
  for (; nextId < 1500; nextId++) coll.insert({ _id: nextId, at: nextId, terms: termsOf(rand, nextId) });
  const entries = index.sortedEntries(); // built from the documents here, then kept by every write below

  function check() {
    for (const w of WORDS) expect(treePairs(entries, range(w))).toEqual(scanPairs(coll, range(w)));
    expect(treePairs(entries, { lowerInclusive: false, upperInclusive: false })).toEqual(
      scanPairs(coll, { lowerInclusive: false, upperInclusive: false }),
    );
    // Rebuilt from the stored documents, the tree holds the same pairs as the one kept through the writes.
    expect(treePairs(new SortedEntries(index.stringKeys()), { lowerInclusive: false, upperInclusive: false })).toEqual(
      treePairs(entries, { lowerInclusive: false, upperInclusive: false }),
    );
    for (let i = 0; i < 12; i++) {
      const words = [
        WORDS[Math.floor(rand() * WORDS.length)],
        WORDS[Math.floor(rand() * WORDS.length)],
        ...(rand() < 0.3 ? [WORDS[Math.floor(rand() * WORDS.length)]] : []),
      ];
      expect(entries.intersect(words.map(range)).ids.sort()).toEqual(scanIds(coll, words));
      const filter = { $and: words.map(prefix) };
      expect(findDocs(coll, filter, { sort: { at: -1 }, limit: 20 })).toEqual(oracle(coll, filter, { at: -1 }, 20));
      expect(findDocs(coll, filter, {}).length).toBe(oracle(coll, filter, { at: -1 }, 0).length);
    }
    for (const w of WORDS) expect(entries.count(range(w), 1e9)).toBe(scanPairs(coll, range(w)).length);
  }

  it('starts equal to a scan, with ranges wider than a leaf', () => {
    expect(scanPairs(coll, range('a')).length).toBeGreaterThan(400); // more than two leaves as built
    check();
  });

  it('stays equal through inserts, updates that change the terms or not, and deletes', () => {
    for (let round = 0; round < 2000; round++) {
      const r = rand();
      if (r < 0.35) {
        coll.insert({ _id: nextId, at: nextId, terms: termsOf(rand, nextId) });
        nextId++;
        continue;
      }
      const doc = coll.getById(Math.floor(rand() * nextId));
      if (!doc) continue;
      if (r < 0.55) coll.remove(doc);
      else if (r < 0.85) coll.replace(doc, { ...doc, terms: termsOf(rand, doc._id) });
      else coll.replace(doc, { ...doc, seen: round }); // same terms: the index is left alone
      if (round % 500 === 0) check();
    }
    check();
  });

  it('empties and refills, a few pairs at a time and in bulk', () => {
    for (const d of [...coll.docs.values()]) coll.remove(d);
    expect(entries.entries).toBe(0);
    expect(entries.intersect([range('a')]).ids).toEqual([]);
    for (let i = 0; i < 300; i++) coll.insert({ _id: nextId, at: nextId, terms: termsOf(rand, nextId++) });
    check(); // few new pairs: inserted one by one at the next read
    for (let i = 0; i < 2500; i++) coll.insert({ _id: nextId, at: nextId, terms: termsOf(rand, nextId++) });
    check(); // many: merged with the leaves in one pass
  });
});

it('answers like a scan after a restart from the journal and the snapshot, and through writes after it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-'));
  const rand = rng(5);
  const docs = Array.from({ length: 800 }, (_, i) => ({ _id: i, at: i, terms: termsOf(rand, i) }));
  const expectSame = async (c: MongoClient) => {
    const users = c.db().collection<UserDoc>('users');
    const all = await users.find({}).toArray();
    for (const words of [['a'], ['da', 'ma'], ['bv', 're', 'a'], ['sale'], ['u1', 'a']]) {
      const q = matcher({ $and: words.map(prefix) });
      const want = sortDocuments(
        all.filter((d) => q.test(d)),
        { at: -1 },
      ).map((d) => d._id);
      expect(
        (
          await users
            .find({ $and: words.map(prefix) })
            .sort({ at: -1 })
            .toArray()
        ).map((d) => d._id),
      ).toEqual(want);
      expect(
        (
          await users
            .find({ $and: words.map(prefix) })
            .sort({ at: -1 })
            .limit(5)
            .toArray()
        ).map((d) => d._id),
      ).toEqual(want.slice(0, 5));
    }
  };
  const run = async (fn: (c: MongoClient) => Promise<void>) => {
    const engine = await startEmbeddedMongo({ dataDir: dir });
    const client = await MongoClient.connect(`${engine.uri}restart`);
    try {
      await fn(client);
    } finally {
      await client.close();
      await engine.stop();
    }
  };
  await run(async (c) => {
    const users = c.db().collection<UserDoc>('users');
    await users.createIndex({ terms: 1 });
    await users.createIndex({ at: -1 });
    await users.insertMany(docs);
    await expectSame(c); // builds the tree
    await users.updateMany({ _id: { $lt: 100 } }, { $set: { terms: ['dama', 'rebv'] } });
    await users.deleteMany({ _id: { $gte: 700 } });
    await expectSame(c);
  });
  await run(async (c) => {
    await expectSame(c);
    const users = c.db().collection<UserDoc>('users');
    await users.updateMany({ _id: { $lt: 50 } }, { $push: { terms: 'salero' } });
    await users.insertOne({ _id: 5000, at: 5000, terms: ['dab', 'mar'] });
    await expectSame(c);
  });
  await run(expectSame);
});

it('firstSorted gives the first k of a full sort, ties in input order', () => {
  const rand = rng(9);
  const docs = Array.from({ length: 500 }, (_, i) => ({
    i,
    a: Math.floor(rand() * 20),
    b: rand() < 0.1 ? undefined : Math.floor(rand() * 5),
    c: rand() < 0.2 ? [3, 1] : 2,
  }));
  for (const spec of [{ a: -1, i: -1 }, { a: 1 }, { b: 1, a: -1 }, { c: 1, a: 1 }] as Record<string, number>[]) {
    for (const k of [1, 7, 51, 499, 500, 600])
      expect(firstSorted(docs, spec, null, k)).toEqual(sortDocuments(docs, spec).slice(0, k));
  }
});
