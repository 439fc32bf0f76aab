/**
 * String range reads over an index's keys (key-ranges.ts) and the choice between them and the ordered
 * walk (range-plan.ts): the same documents as a scan and sort, whichever plan runs, through writes; a
 * rare prefix read from the multikey index, a common one walked in sort order, and a walk that turns
 * out to be a bad bet handing over to the range before it has stepped through the collection.
 */
import { type Document } from 'bson';
import { Collection } from '../../src/collection';
import { findDocs } from '../../src/commands/query';
import { sortDocuments } from '../../src/compare';
import { matcher } from '../../src/matcher';
import { SortedEntries, stringRangesFor } from '../../src/key-ranges';
import { rangeThreshold, type PlanTrace } from '../../src/range-plan';

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const prefix = (w: string, end: string) => ({ terms: { $elemMatch: { $gte: w, $lt: end } } });

function oracle(coll: Collection, filter: Document, sort: Document, limit: number): Document[] {
  const q = matcher(filter);
  return sortDocuments(
    [...coll.docs.values()].filter((d) => q.test(d)),
    sort,
  ).slice(0, limit || undefined);
}

function traced(coll: Collection, filter: Document, sort: Document, limit: number) {
  const trace: PlanTrace = { keysExamined: 0, docsExamined: 0 };
  const docs = findDocs(coll, filter, { sort, limit, trace });
  return { docs, trace, index: JSON.stringify(trace.winningPlan).match(/"indexName":"([^"]+)"/)?.[1] };
}

describe('SortedEntries', () => {
  it('lists the string pairs of a range in order, following insertions and deletions', () => {
    const map = new Map<string, string | Set<string>>([
      ['s:ada', '1'],
      ['s:adam', new Set(['1', '2'])],
      ['s:bob', '3'],
      ['d:5', '4'],
    ]);
    const entries = new SortedEntries(map);
    const range = { lower: 'ada', lowerInclusive: true, upper: 'adb', upperInclusive: false };
    expect(entries.pairsIn(range)).toEqual([
      ['s:ada', '1'],
      ['s:adam', '1'],
      ['s:adam', '2'],
    ]);
    expect([...entries.ids(range)].sort()).toEqual(['1', '2']);
    expect(entries.count(range, 10)).toBe(3);
    expect(entries.count(range, 1)).toBe(2); // capped: cap + 1
    entries.delete('s:ada', '1');
    entries.insert('s:adalbert', '5');
    entries.insert('s:adalbert', '5'); // held once
    entries.insert('d:6', '5'); // not a string key: not held
    expect(entries.pairsIn(range)).toEqual([
      ['s:adalbert', '5'],
      ['s:adam', '1'],
      ['s:adam', '2'],
    ]);
    entries.insert('s:ada', '6');
    expect(entries.pairsIn(range).map(([k]) => k)).toEqual(['s:ada', 's:adalbert', 's:adam', 's:adam']);
    expect(entries.pairsIn({ lowerInclusive: false, upperInclusive: false }).map(([k]) => k)).toEqual([
      's:ada',
      's:adalbert',
      's:adam',
      's:adam',
      's:bob',
    ]);
    expect(entries.entries).toBe(5);
  });

  it('intersects ranges: ids with a pair in every range, each once', () => {
    const entries = new SortedEntries(new Map());
    const terms: Record<string, string[]> = {
      a: ['ada', 'adam', 'bvre'],
      b: ['ada', 'carl'],
      c: ['bvrele', 'bvre', 'adalbert'],
      d: ['bob'],
    };
    for (const [id, ts] of Object.entries(terms)) for (const t of ts) entries.insert(`s:${t}`, id);
    const p = (w: string) => ({
      lower: w,
      lowerInclusive: true,
      upper: w.slice(0, -1) + String.fromCharCode(w.charCodeAt(w.length - 1) + 1),
      upperInclusive: false,
    });
    expect(entries.intersect([p('ada'), p('bvr')]).ids.sort()).toEqual(['a', 'c']);
    expect(entries.intersect([p('bvr'), p('ada'), p('adam')]).ids).toEqual(['a']);
    expect(entries.intersect([p('ada'), p('zed')]).ids).toEqual([]);
    expect(entries.intersect([p('ad')]).ids.sort()).toEqual(['a', 'b', 'c']);
    expect(entries.intersect([p('ada'), p('ada')]).ids.sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('stringRangesFor', () => {
  it('intersects the bounds of one $elemMatch, keeps a plain range one-sided, and skips other types', () => {
    expect(stringRangesFor({ $and: [prefix('ada', 'adb')] }, 'terms')).toEqual([
      { lower: 'ada', lowerInclusive: true, upper: 'adb', upperInclusive: false },
    ]);
    expect(stringRangesFor({ terms: { $gte: 'a', $lt: 'b' } }, 'terms')).toEqual([
      { lower: 'a', lowerInclusive: true, upperInclusive: false },
      { upper: 'b', upperInclusive: false, lowerInclusive: false },
    ]);
    expect(stringRangesFor({ terms: { $elemMatch: { $gte: 'a', $lt: 5 } } }, 'terms')).toEqual([]);
    expect(stringRangesFor({ terms: 'ada' }, 'terms')).toEqual([]);
    expect(stringRangesFor({ $or: [prefix('a', 'b')] }, 'terms')).toEqual([]);
  });
});

describe('plans over a multikey index', () => {
  const N = 20_000;
  const coll = new Collection('t', 'users');
  coll.createIndex({ key: { at: -1 }, name: 'at_-1' });
  coll.createIndex({ key: { terms: 1 }, name: 'terms_1' });
  const rand = rng(7);
  for (let i = 0; i < N; i++) {
    // 'common' on every other user, 'rare' on 20 spread out, 'old' on the 2,000 oldest only.
    const terms = [
      `user${i}`,
      i % 2 ? 'common' : 'other',
      ...(i % 1000 === 0 ? ['rare'] : []),
      ...(i < 2000 ? ['old'] : []),
      rand() < 0.5 ? 'ada' : 'bob',
    ];
    coll.insert({ _id: i, at: i, terms });
  }
  const sort = { at: -1 };

  it('reads a rare prefix from the multikey index', () => {
    const { docs, trace, index } = traced(coll, prefix('rare', 'rarf'), sort, 10);
    expect(index).toBe('terms_1');
    expect(docs).toEqual(oracle(coll, prefix('rare', 'rarf'), sort, 10));
    expect(trace.docsExamined).toBe(20);
  });

  it('walks the sort order for a common prefix, testing few documents', () => {
    const { docs, trace, index } = traced(coll, prefix('comm', 'comn'), sort, 10);
    expect(index).toBe('at_-1');
    expect(docs).toEqual(oracle(coll, prefix('comm', 'comn'), sort, 10));
    expect(trace.docsExamined).toBeLessThan(30);
  });

  it('hands a walk that finds nothing for long over to the range', () => {
    // 'old' holds 2,000 entries (10%): the estimate says walk, but they are all at the far end.
    expect(rangeThreshold(10, N)).toBeLessThan(2000);
    const { docs, trace, index } = traced(coll, prefix('old', 'ole'), sort, 10);
    expect(index).toBe('terms_1');
    expect(docs).toEqual(oracle(coll, prefix('old', 'ole'), sort, 10));
    expect(trace.docsExamined).toBeLessThan(N);
  });

  it('every word required: the narrowest range is read, the other words filter', () => {
    const filter = { $and: [prefix('ada', 'adb'), prefix('rare', 'rarf')] };
    const { docs, index } = traced(coll, filter, sort, 50);
    expect(index).toBe('terms_1');
    expect(docs).toEqual(oracle(coll, filter, sort, 50));
  });

  it('answers like a scan through updates and deletes', () => {
    const rand2 = rng(11);
    for (let round = 0; round < 120; round++) {
      const id = Math.floor(rand2() * N);
      const doc = coll.getById(id);
      if (!doc) continue;
      if (rand2() < 0.3) coll.remove(doc);
      else coll.replace(doc, { ...doc, terms: [`user${id}`, rand2() < 0.5 ? 'rare' : 'raring'] });
      if (round % 30 === 0) {
        for (const filter of [prefix('rar', 'ras'), prefix('rare', 'rarf'), prefix('raring', 'rarinh')]) {
          expect(traced(coll, filter, sort, 25).docs).toEqual(oracle(coll, filter, sort, 25));
          expect(findDocs(coll, filter, {}).length).toBe(oracle(coll, filter, sort, 0).length);
        }
      }
    }
  });
});
