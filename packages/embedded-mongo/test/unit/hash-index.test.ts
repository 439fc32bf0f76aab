/**
 * Indexes keep a 32-bit hash of each key, not the key (hash-ids.ts): collisions must give exact answers,
 * not just be rare. Here the hash maps every key to one of 3 values, so every index is all collisions:
 * unique checks refuse only real duplicates, and inserts, updates, deletes, equality lookups, string
 * ranges and collation indexes answer as a scan of the documents does; the store finds each document
 * by its _id (its own hash table of slots) whatever ids share a hash.
 */
import { Double, ObjectId, type Document } from 'bson';
import { Collection } from '../../src/collection';
import { findDocs, matching } from '../../src/commands/query';
import { matcher } from '../../src/matcher';
import { HashIds, fnv1a } from '../../src/hash-ids';

const threeBuckets = (k: string) => (fnv1a(k) >>> 0) % 3 || 3;

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const ids = (docs: Document[]) => docs.map((d) => d._id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const scan = (coll: Collection, filter: Document, collation?: Document) =>
  ids([...coll.docs.values()].filter((d) => matcher(filter, collation).test(d)));

describe('HashIds', () => {
  it('answers as a Map of Sets through random adds and removes, with long probe runs and wraparound', () => {
    const rand = rng(7);
    const table = new HashIds();
    const model = new Map<number, Set<number>>();
    for (let step = 0; step < 20000; step++) {
      // Hashes from a small range: many share a home bucket; removals must shift runs back correctly.
      const h = 1 + Math.floor(rand() * 400) * 0x10000;
      const id = Math.floor(rand() * 30);
      if (rand() < 0.55) {
        table.add(h, id);
        if (!model.has(h)) model.set(h, new Set());
        model.get(h)!.add(id);
      } else {
        table.remove(h, id);
        model.get(h)?.delete(id);
        if (model.get(h)?.size === 0) model.delete(h);
      }
      if (step % 500 === 0) {
        for (let k = 0; k < 400; k++) {
          const hk = 1 + k * 0x10000;
          expect([...table.get(hk)].sort((a, b) => a - b)).toEqual([...(model.get(hk) ?? [])].sort((a, b) => a - b));
        }
        expect(table.size).toBe(model.size);
      }
    }
    const pairs = [...table.entries()].map(([h, id]) => `${h} ${id}`).sort();
    expect(pairs).toEqual([...model].flatMap(([h, s]) => [...s].map((id) => `${h} ${id}`)).sort());
  });
});

describe('indexes where every key collides (3 hash values)', () => {
  function users() {
    const coll = new Collection('t', 'users', {}, threeBuckets);
    coll.createIndex({ key: { username: 1 }, name: 'username_1', unique: true });
    coll.createIndex({ key: { nick: 1 }, name: 'nick_1', unique: true, collation: { locale: 'en', strength: 2 } });
    coll.createIndex({ key: { team: 1, at: -1 }, name: 'team_at' });
    for (let i = 0; i < 60; i++) coll.insert({ _id: i, username: `u${i}`, nick: `Nick${i}`, team: i % 4, at: i });
    return coll;
  }

  it('refuses only a real duplicate on insert, whatever shares its hash', () => {
    const coll = users();
    expect(() => coll.insert({ _id: 100, username: 'u7', nick: 'other' })).toThrow(/duplicate key.*username_1/);
    expect(() => coll.insert({ _id: 101, username: 'fresh', nick: 'NICK7' })).toThrow(/duplicate key.*nick_1/);
    expect(coll.getById(100)).toBeUndefined();
    expect(coll.getById(101)).toBeUndefined();
    coll.insert({ _id: 102, username: 'u60', nick: 'Nick60' }); // same buckets as many others: accepted
    expect(findDocs(coll, { username: 'u60' }, {}).map((d) => d._id)).toEqual([102]);
  });

  it('answers equality lookups exactly (the hash group holds a third of the documents)', () => {
    const coll = users();
    for (const filter of [
      { username: 'u13' },
      { username: { $in: ['u1', 'u2', 'nobody'] } },
      { team: 2, at: 10 },
      { team: 2, at: 11 },
      { username: 'nobody' },
    ])
      expect(ids(matching(coll, filter))).toEqual(scan(coll, filter));
    const ci = { locale: 'en', strength: 2 };
    expect(ids(matching(coll, { nick: 'NICK5' }, ci))).toEqual([5]);
    expect(ids(matching(coll, { nick: 'NICK5' }))).toEqual([]); // no collation: exact case
  });

  it('keeps keys right through updates and deletes', () => {
    const coll = users();
    const old = coll.getById(3)!;
    coll.replace(old, { ...old, username: 'renamed', nick: 'Renamed' });
    // The old values are free, the new ones taken, lookups follow.
    coll.insert({ _id: 200, username: 'u3', nick: 'nick3' });
    expect(() => coll.insert({ _id: 201, username: 'renamed' })).toThrow(/duplicate key/);
    expect(() => coll.insert({ _id: 202, username: 'x202', nick: 'RENAMED' })).toThrow(/duplicate key/);
    expect(ids(matching(coll, { username: 'renamed' }))).toEqual([3]);
    expect(ids(matching(coll, { username: 'u3' }))).toEqual([200]);
    // A document may not take a key another holds, but keeps its own.
    const four = coll.getById(4)!;
    expect(() => coll.replace(four, { ...four, username: 'u5' })).toThrow(/duplicate key/);
    coll.replace(four, { ...four, at: 1000 });
    expect(ids(matching(coll, { team: 0, at: 1000 }))).toEqual([4]);
    expect(ids(matching(coll, { team: 0, at: 4 }))).toEqual([]);
    coll.remove(coll.getById(5)!);
    coll.insert({ _id: 203, username: 'u5', nick: 'Nick5' });
    expect(ids(matching(coll, { username: 'u5' }))).toEqual([203]);
  });

  it('keeps a document under a hash while another of its keys still has it (multikey)', () => {
    const coll = new Collection('t', 'tags', {}, () => 1); // one hash for everything
    coll.createIndex({ key: { tags: 1 }, name: 'tags_1' });
    coll.insert({ _id: 1, tags: ['a', 'b'] });
    coll.insert({ _id: 2, tags: ['c'] });
    const one = coll.getById(1)!;
    coll.replace(one, { _id: 1, tags: ['b'] }); // 'a' goes, 'b' stays: same hash
    expect(ids(matching(coll, { tags: 'b' }))).toEqual([1]);
    expect(ids(matching(coll, { tags: 'a' }))).toEqual([]);
    coll.remove(coll.getById(2)!);
    expect(ids(matching(coll, { tags: 'c' }))).toEqual([]);
    expect(ids(matching(coll, { tags: 'b' }))).toEqual([1]);
  });

  it('reads string ranges as a scan does, under random writes', () => {
    const rand = rng(11);
    const coll = new Collection('t', 'terms', {}, threeBuckets);
    coll.createIndex({ key: { terms: 1 }, name: 'terms_1' });
    const words = ['ada', 'adam', 'bob', 'bobby', 'cy', 'dan'];
    const pick = () => words.filter(() => rand() < 0.4);
    for (let i = 0; i < 300; i++) coll.insert({ _id: i, terms: pick() });
    for (let round = 0; round < 5; round++) {
      for (const w of ['ad', 'bo', 'c']) {
        const filter = { terms: { $elemMatch: { $gte: w, $lt: `${w}\uffff` } } };
        expect(ids(findDocs(coll, filter, { limit: 0 }))).toEqual(scan(coll, filter));
      }
      for (let k = 0; k < 50; k++) {
        const id = Math.floor(rand() * 300);
        const d = coll.getById(id);
        if (d && rand() < 0.3) coll.remove(d);
        else if (d) coll.replace(d, { _id: id, terms: pick() });
        else coll.insert({ _id: id, terms: pick() });
      }
    }
  });
});

describe('the store finds documents by _id when every id shares 3 hash values', () => {
  it('gets, refuses a second equal _id, replaces and deletes the right document', () => {
    const coll = new Collection('t', 'ids', {}, threeBuckets);
    const oids = Array.from({ length: 20 }, () => new ObjectId());
    oids.forEach((_id, i) => coll.insert({ _id, n: i }));
    for (let i = 0; i < 10; i++) coll.insert({ _id: i, n: 100 + i });
    coll.insert({ _id: 'text', n: 200 });
    coll.insert({ _id: 'naïve', n: 201 }); // not ASCII: compared through its decoded key
    coll.insert({ _id: 'nai', n: 202 });
    oids.forEach((_id, i) => expect(coll.getById(_id)!.n).toBe(i));
    expect(coll.getById(new Double(3))!.n).toBe(103); // 3.0 and 3 are one _id, as in MongoDB
    expect(coll.getById(new ObjectId())).toBeUndefined();
    expect(coll.getById('Text')).toBeUndefined();
    expect(coll.getById('texts')).toBeUndefined();
    expect(coll.getById('naïve')!.n).toBe(201);
    expect(coll.getById('nai')!.n).toBe(202);
    expect(coll.getById('naïvé')).toBeUndefined();
    expect(() => coll.insert({ _id: new Double(4) })).toThrow(/duplicate key/);
    expect(() => coll.insert({ _id: oids[7] })).toThrow(/duplicate key/);
    coll.replace(coll.getById(oids[7])!, { _id: oids[7], n: 'seven' });
    coll.remove(coll.getById(5)!);
    expect(coll.getById(oids[7])!.n).toBe('seven');
    expect(coll.getById(5)).toBeUndefined();
    expect(coll.docs.size).toBe(32);
    expect(ids(findDocs(coll, { _id: { $in: [5, 6, oids[7]] } }, {}))).toEqual(ids([{ _id: 6 }, { _id: oids[7] }]));
    coll.insert({ _id: 5, n: 'again' });
    expect(coll.getById(5)!.n).toBe('again');
    // A scan still returns documents in insertion order (the new document may reuse a freed slot).
    expect([...coll.docs.values()].map((d) => d.n).slice(-3)).toEqual([201, 202, 'again']);
  });

  it('reuses freed slots under churn and still scans in insertion order', () => {
    const coll = new Collection('t', 'sessions', {}, threeBuckets);
    coll.createIndex({ key: { expires: 1 }, name: 'expires_1' });
    const live: string[] = [];
    for (let i = 0; i < 100; i++) {
      coll.insert({ _id: `s${i}`, expires: i });
      live.push(`s${i}`);
    }
    for (let i = 100; i < 2100; i++) {
      // Drop an old session (oldest, or one in the middle), add a new one.
      const gone = live.splice(i % 3 === 0 ? 0 : 50, 1)[0];
      coll.remove(coll.getById(gone)!);
      coll.insert({ _id: `s${i}`, expires: i });
      live.push(`s${i}`);
    }
    expect([...coll.docs.values()].map((d) => d._id)).toEqual(live);
    expect(Reflect.get(coll.docs, 'top')).toBe(100); // each insert took the slot the delete before it freed
    expect(ids(matching(coll, { expires: 2099 }))).toEqual(['s2099']);
    expect(coll.getById('s150')).toBeUndefined();
    expect(ids(findDocs(coll, { expires: { $gte: 2095 } }, { sort: { expires: 1 } }))).toEqual(live.slice(-5).sort());
  });
});
