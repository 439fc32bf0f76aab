/**
 * The range read of a find (an index's string keys within bounds, multikey included) and the shape of
 * the plan a find ran, as `explain` reports it, in MongoDB's stage names (IXSCAN, FETCH, SORT, LIMIT,
 * COLLSCAN) so that a plan read on the engine compares with one read on a real server.
 */
import { ObjectId, type Document } from 'bson';
import type { Collection, Index, RangeChoice } from './collection';
import { firstSorted, sortDocuments } from './compare';
import { describeRange, mayMatch } from './key-ranges';
import type { Bounds } from './ordered';
import type { Collation } from './keys';
import { getField } from './fields';

/** What a find did: filled when explain asks. */
export interface PlanTrace {
  winningPlan?: Document;
  keysExamined: number;
  docsExamined: number;
}

export type { RangeChoice };

/** Above this many entries in its range an index is not read by range (the ordered walk or a scan is). */
export const RANGE_CAP = 200_000;

/**
 * Reading one range candidate (collect its id, fetch, key it for the sort) against stepping the ordered
 * walk past one document (read its key, the cheap range tests): about 4 to 1.
 */
export const RANGE_READ_COST = 4;

/**
 * The most entries a range may hold and still be read rather than walking the sort order: the walk
 * expects to step past need × n / entries documents before `need` match (if the range's documents are
 * spread evenly over the sort order), the range costs RANGE_READ_COST × entries; they meet at
 * sqrt(need × n / RANGE_READ_COST). Counting a range stops there, so a common word costs little to rule out.
 */
export function rangeThreshold(need: number, total: number): number {
  return need === Infinity ? RANGE_CAP : Math.min(RANGE_CAP, Math.floor(Math.sqrt((need * total) / RANGE_READ_COST)));
}

/** The walk gives up and reads the narrowest range when it stepped this far (the even spread was wrong). */
export function walkBudget(entries: number, need: number, total: number): number {
  return Math.ceil((2 * need * total) / Math.max(1, entries)) + 1000;
}

/** Cheap necessary tests before the full filter: a value of each ranged field within its range. */
export function passesRanges(doc: Document, choices: RangeChoice[]): boolean {
  for (const c of choices) if (!mayMatch(doc, c.field, c.range)) return false;
  return true;
}

/** What a range read starts from: the ids with an entry in each of `choices` (ranges of one index). */
export interface Candidates {
  ids: string[];
  choices: RangeChoice[];
  examined: number;
}

/**
 * The candidates of the narrowest range, intersected with the other ranges of the same index that are
 * not much wider (reading those costs a few ns a pair, on ordinals; a wider one is left to the range
 * test on the fetched documents). Null when the narrowest range holds more than RANGE_CAP entries.
 * `ranges` must be narrowest first (Collection.rangeChoices).
 */
export function intersectRanges(ranges: RangeChoice[]): Candidates | null {
  const first = ranges[0];
  if (!first || first.entries > RANGE_CAP) return null;
  const widest = Math.min(RANGE_CAP, Math.max(128 * first.entries, 4096));
  const choices = ranges.filter((r) => r.index === first.index && r.entries <= widest);
  const { ids, examined } = first.index.sortedEntries().intersect(choices.map((c) => c.range));
  return { ids, choices, examined };
}

/**
 * The candidates that pass `test`, each once: all of them, or with a sort the first `need` in sort
 * order (the candidates are sorted first, so the filter runs on few of them). The ranges the
 * candidates were not intersected with are tested first, on the document's own values.
 */
export function rangeRead(
  coll: Collection,
  cands: Candidates,
  all: RangeChoice[],
  test: (doc: Document) => boolean,
  opts: { sort?: Document; collation?: Collation; need: number; tick(): void; trace?: PlanTrace },
): Document[] {
  const rest = all.filter((r) => !cands.choices.includes(r));
  const docs: Document[] = [];
  let fetched = 0;
  for (const id of cands.ids) {
    opts.tick();
    const d = coll.docs.get(id);
    fetched++;
    if (d && (rest.length === 0 || passesRanges(d, rest))) docs.push(d);
  }
  if (opts.trace) {
    opts.trace.keysExamined += cands.examined;
    opts.trace.docsExamined += fetched;
  }
  if (!opts.sort) return docs.filter((d) => (opts.tick(), test(d)));
  // The first `need` in sort order usually all pass the filter (the candidates are nearly the
  // matches): sort only those; when some fail, sort every candidate.
  for (let k = Math.min(docs.length, opts.need === Infinity ? docs.length : opts.need * 2); ; k = docs.length) {
    const ordered =
      k < docs.length
        ? firstSorted(docs, opts.sort, opts.collation, k)
        : sortDocuments(docs, opts.sort, opts.collation);
    const found: Document[] = [];
    for (const d of ordered) {
      opts.tick();
      if (!test(d)) continue;
      found.push(d);
      if (found.length >= opts.need) return found;
    }
    if (k >= docs.length) return found;
  }
}

function showValue(v: unknown): string {
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  return JSON.stringify(v) ?? String(v);
}

function allValues(index: Index, field: string): string {
  return Number(index.spec.key[field]) < 0 ? '[MaxKey, MinKey]' : '[MinKey, MaxKey]';
}

/** An IXSCAN over an ordered view's index, with the bounds the filter put on its first field. */
export function walkStage(index: Index, bounds: Bounds | null, sortDirection: number): Document {
  const [first] = index.fields;
  const descending = Number(index.spec.key[first]) < 0;
  const low = bounds?.lower
    ? { v: showValue(bounds.lower.value), inclusive: bounds.lower.inclusive }
    : { v: 'MinKey', inclusive: true };
  const high = bounds?.upper
    ? { v: showValue(bounds.upper.value), inclusive: bounds.upper.inclusive }
    : { v: 'MaxKey', inclusive: true };
  // A descending index lists its bounds from high to low, as MongoDB prints them.
  const [a, b] = descending ? [high, low] : [low, high];
  const firstBounds = `${a.inclusive ? '[' : '('}${a.v}, ${b.v}${b.inclusive ? ']' : ')'}`;
  return {
    stage: 'IXSCAN',
    keyPattern: index.spec.key,
    indexName: index.name,
    isMultiKey: false,
    direction: sortDirection < 0 === descending ? 'forward' : 'backward',
    indexBounds: Object.fromEntries(index.fields.map((f) => [f, [f === first ? firstBounds : allValues(index, f)]])),
  };
}

export function rangeStage(choice: RangeChoice, multikey: boolean): Document {
  return {
    stage: 'IXSCAN',
    keyPattern: choice.index.spec.key,
    indexName: choice.index.name,
    isMultiKey: multikey,
    direction: 'forward',
    indexBounds: { [choice.field]: [describeRange(choice.range)] },
  };
}

/** One IXSCAN for one range; for several ranges intersected, MongoDB's AND_HASH over their IXSCANs. */
export function candidatesStage(cands: Candidates, found: Document[]): Document {
  const scans = cands.choices.map((c) => rangeStage(c, multikeyIn(found, c.field)));
  return scans.length === 1 ? scans[0] : { stage: 'AND_HASH', inputStages: scans };
}

export function equalityStage(index: Index): Document {
  return {
    stage: 'IXSCAN',
    keyPattern: index.spec.key,
    indexName: index.name,
    direction: 'forward',
    indexBounds: Object.fromEntries(index.fields.map((f) => [f, ['(point values from the filter)']])),
  };
}

/** FETCH (with the filter), then SORT in memory when the input is not in sort order, then SKIP and LIMIT. */
export function wrapStage(
  input: Document,
  filter: Document,
  o: { sort?: Document; sortedInput: boolean; skip?: number; limit?: number },
): Document {
  let stage: Document =
    input.stage === 'COLLSCAN'
      ? input
      : { stage: 'FETCH', ...(Object.keys(filter).length ? { filter } : {}), inputStage: input };
  const limit = o.limit ? Math.abs(o.limit) : 0;
  if (o.sort && !o.sortedInput)
    stage = {
      stage: 'SORT',
      sortPattern: o.sort,
      memLimit: 104857600,
      ...(limit ? { limitAmount: limit + (o.skip ?? 0) } : {}),
      type: 'simple',
      inputStage: stage,
    };
  if (o.skip) stage = { stage: 'SKIP', skipAmount: o.skip, inputStage: stage };
  if (limit && (o.sortedInput || !o.sort)) stage = { stage: 'LIMIT', limitAmount: limit, inputStage: stage };
  return stage;
}

export function multikeyIn(docs: Iterable<Document>, field: string): boolean {
  for (const d of docs) if (Array.isArray(getField(d, field))) return true;
  return false;
}
