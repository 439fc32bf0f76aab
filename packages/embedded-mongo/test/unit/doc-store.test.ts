/**
 * Documents stored as BSON bytes (issue 21, item 5): what a read returns is a copy the caller may
 * change without changing the store; a snapshot written from the stored bytes (no re-encoding) and
 * loaded back keeps every BSON type, value and field order byte for byte; an ordered view over the
 * stored bytes answers with the current version only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BSONRegExp,
  BSONSymbol,
  Binary,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  serialize,
  type Document,
} from 'bson';
import { decodeFields } from '../../src/bson-fields';
import { Engine } from '../../src/engine';
import { Persistence } from '../../src/persistence';
import { decode } from '../../src/wire';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'doc-store-'));

// As a client sends it: decoded from the wire, so numbers carry the types the engine keeps.
const sample = () =>
  decode(
    serialize({
      _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      z: 'first field not sorted',
      i32: new Int32(7),
      i64: Long.fromString('9007199254740993'),
      dblInt: new Double(1),
      dbl: 1.5,
      dec: Decimal128.fromString('1.10'),
      at: new Date(1_700_000_000_123),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 4),
      nested: { b: [1, { c: new Int32(2) }], a: null },
    }),
  );

it('returns copies: a caller mutating a read document or the inserted one leaves the store unchanged', () => {
  const engine = new Engine(null);
  const coll = engine.ensureCollection('db', 'c');
  const inserted = coll.insert(sample());
  const before = Buffer.from(serialize(coll.getById(inserted._id)!));
  inserted.z = 'changed by the writer';
  const read = coll.getById(inserted._id)!;
  read.z = 'changed by a reader';
  (read.nested as Document).b.push(99);
  for (const d of coll.docs.values()) d.extra = true;
  expect(coll.getById(inserted._id)!.z).toBe('first field not sorted');
  expect(Buffer.from(serialize(coll.getById(inserted._id)!)).equals(before)).toBe(true);
  expect(coll.getById(inserted._id)).not.toBe(coll.getById(inserted._id));
});

it('writes a snapshot from the stored bytes and loads it back with every type and field order kept', () => {
  const dir = tmpDir();
  const first = new Engine(new Persistence(dir));
  first.persistence!.open((rec) => first.apply(rec));
  const coll = first.ensureCollection('db', 'c');
  coll.createIndex({ key: { at: 1 }, name: 'at_1' });
  coll.insert(sample());
  coll.insert({ _id: 2, at: new Date(5) });
  const expected = Buffer.from(serialize(coll.getById(new ObjectId('65a1b2c3d4e5f60718293a4b'))!));
  first.persistence!.compact(first.stateRecords());
  first.persistence!.close();

  const second = new Engine(new Persistence(dir));
  second.persistence!.open((rec) => second.apply(rec));
  const again = second.collection('db', 'c')!;
  const loaded = again.getById(new ObjectId('65a1b2c3d4e5f60718293a4b'))!;
  expect(Buffer.from(serialize(loaded)).equals(expected)).toBe(true);
  expect(Object.keys(loaded)).toEqual(['_id', 'z', 'i32', 'i64', 'dblInt', 'dbl', 'dec', 'at', 'bin', 'nested']);
  expect(loaded.i64).toBeInstanceOf(Long);
  expect(loaded.dblInt).toBeInstanceOf(Double);
  // The index was rebuilt from the loaded documents: an equality lookup finds the second one.
  expect(again.indexedCandidates({ at: new Date(5) })!.map((d) => d._id)).toEqual([2]);
  second.persistence!.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('an ordered view yields only the current version of a replaced document, decoded', () => {
  const engine = new Engine(null);
  const coll = engine.ensureCollection('db', 'c');
  coll.createIndex({ key: { n: 1 }, name: 'n_1' });
  for (let n = 0; n < 5; n++) coll.insert({ _id: n, n });
  const view = coll.orderedView('n')!;
  coll.replace(coll.getById(2)!, { _id: 2, n: 10 });
  const walked = [...view.walk({}, 1)].map((e) => e.doc);
  expect(walked.map((d) => [d._id, d.n])).toEqual([
    [0, 0],
    [1, 1],
    [3, 3],
    [4, 4],
    [2, 10],
  ]);
  walked[0].n = 'mutated';
  expect(coll.getById(0)!.n).toBe(0);
});

it('reclaims the space of replaced versions and keeps every document and ordered view right after it', () => {
  const engine = new Engine(null);
  const coll = engine.ensureCollection('db', 'c');
  coll.createIndex({ key: { n: 1 }, name: 'n_1' });
  for (let n = 0; n < 3; n++) coll.insert({ _id: n, n, pad: '' });
  const before = [...coll.orderedView('n')!.walk({}, 1)].map((e) => e.doc._id);
  const epoch = coll.docs.epoch;
  // 40 versions of 1 MB: their garbage passes both the live bytes and the 32 MB floor.
  for (let v = 0; v < 40; v++) coll.replace(coll.getById(1)!, { _id: 1, n: 1, pad: 'x'.repeat(1024 * 1024), v });
  expect(coll.docs.epoch).toBeGreaterThan(epoch);
  expect(coll.getById(1)!.v).toBe(39);
  expect([0, 2].map((id) => coll.getById(id)!.n)).toEqual([0, 2]);
  const after = [...coll.orderedView('n')!.walk({}, 1)].map((e) => [e.doc._id, e.doc.v]);
  expect(before).toEqual([0, 1, 2]);
  expect(after).toEqual([
    [0, undefined],
    [1, 39],
    [2, undefined],
  ]);
});

it('a partial read decodes exactly the named top-level fields, stepping over every BSON type', () => {
  const all = {
    _id: 1,
    dbl: 1.5,
    str: 'é',
    obj: { a: 1 },
    arr: [1, 'x'],
    bin: new Binary(Buffer.from([1, 2]), 0),
    undef: undefined,
    oid: new ObjectId(),
    bool: true,
    date: new Date(3),
    nul: null,
    re: new BSONRegExp('a.c', 'i'),
    code: new Code('x()'),
    sym: new BSONSymbol('s'),
    scoped: new Code('y()', { z: 1 }),
    i32: new Int32(4),
    ts: new Timestamp({ t: 1, i: 2 }),
    i64: Long.fromNumber(5),
    dec: Decimal128.fromString('6.0'),
    min: new MinKey(),
    max: new MaxKey(),
    ref: new DBRef('c', new ObjectId()),
    last: 'kept',
  };
  const bytes = serialize(all, { ignoreUndefined: false });
  const full = decode(bytes);
  const partial = decodeFields(bytes, new Set(['_id', 'contact', 'i64', 'last', 'str', 'date']));
  expect(Object.keys(partial)).toEqual(['_id', 'str', 'date', 'i64', 'last']);
  expect(
    Buffer.from(serialize(partial)).equals(
      Buffer.from(serialize({ _id: full._id, str: full.str, date: full.date, i64: full.i64, last: full.last })),
    ),
  ).toBe(true);
});

it('rebuilds the same index keys from partial reads at a restart (partial filter and collation included)', () => {
  const dir = tmpDir();
  const first = new Engine(new Persistence(dir));
  first.persistence!.open((rec) => first.apply(rec));
  const coll = first.ensureCollection('db', 'users');
  coll.createIndex({ key: { nick: 1 }, name: 'nick', unique: true, collation: { locale: 'en', strength: 2 } });
  coll.createIndex({
    key: { contact: 1 },
    name: 'contact',
    unique: true,
    partialFilterExpression: { contact: { $type: 'objectId' } },
  });
  coll.createIndex({ key: { 'tags.k': 1 }, name: 'tags' });
  const contact = new ObjectId();
  coll.insert({ _id: 1, nick: 'Ann', contact, tags: [{ k: 'a' }, { k: 'b' }], other: 'x' });
  coll.insert({ _id: 2, nick: 'Bob', contact: 'not an id' });
  coll.insert({ _id: 3, nick: 'Cy', contact: 'not an id' });
  first.persistence!.compact(first.stateRecords());
  first.persistence!.close();
  const second = new Engine(new Persistence(dir));
  second.persistence!.open((rec) => second.apply(rec));
  const again = second.collection('db', 'users')!;
  for (const name of ['_id_', 'nick', 'contact', 'tags']) {
    const [a, b] = [coll, again].map((c) => [...c.indexes.find((i) => i.name === name)!.entries()].map(String).sort());
    expect(b).toEqual(a);
  }
  expect(() => again.insert({ _id: 4, nick: 'ANN' })).toThrow(/duplicate key/);
  expect(again.getById(1)!.other).toBe('x');
  second.persistence!.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
