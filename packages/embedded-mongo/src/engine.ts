/**
 * The engine's state: databases of collections, open cursors, and the journal every change goes to.
 */
import { Long, type Document } from 'bson';
import { Collection, type IndexSpec } from './collection';
import { decode } from './wire';
import type { JournalRecord, Persistence } from './persistence';
import { decodeFields } from './bson-fields';

export interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
  batchSize?: number;
  lastUsed: number;
}

/** MongoDB closes cursors left idle for 10 minutes (cursorTimeoutMillis); so does the engine. */
export const CURSOR_IDLE_MS = 10 * 60_000;

export class Engine {
  readonly dbs = new Map<string, Map<string, Collection>>();
  readonly cursors = new Map<string, OpenCursor>();
  private pending: JournalRecord[] = [];
  private nextCursorId = BigInt(Date.now()) * 1000n;

  constructor(readonly persistence: Persistence | null) {}

  collection(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created implicitly (as MongoDB does on a first write or index). */
  ensureCollection(db: string, name: string, options: Document = {}): Collection {
    let colls = this.dbs.get(db);
    if (!colls) this.dbs.set(db, (colls = new Map()));
    let coll = colls.get(name);
    if (!coll) {
      coll = new Collection(db, name, options);
      colls.set(name, coll);
      this.record({ op: 'createColl', db, coll: name, options });
    }
    return coll;
  }

  dropCollection(db: string, name: string): boolean {
    const dropped = this.dbs.get(db)?.delete(name) ?? false;
    if (dropped) {
      this.record({ op: 'dropColl', db, coll: name });
      for (const [id, c] of this.cursors) if (c.ns === `${db}.${name}`) this.cursors.delete(id);
    }
    return dropped;
  }

  /** Moves a collection (with its indexes) to a new name; journaled as drop + re-create. */
  renameCollection(db: string, from: string, toDb: string, to: string): void {
    const old = this.collection(db, from);
    if (!old) return;
    this.dropCollection(toDb, to);
    const moved = this.ensureCollection(toDb, to, old.options);
    for (const index of old.indexes) {
      if (index.isId) continue;
      moved.createIndex(index.spec);
      this.record({ op: 'createIndex', db: toDb, coll: to, spec: index.spec as Document });
    }
    for (const raw of old.docs.rawValues()) {
      const doc = moved.insert(decode(raw), raw);
      this.record({ op: 'put', db: toDb, coll: to, doc });
    }
    this.dropCollection(db, from);
  }

  dropDatabase(db: string): void {
    if (this.dbs.delete(db)) this.record({ op: 'dropDb', db });
  }

  record(rec: JournalRecord): void {
    if (this.persistence) this.pending.push(rec);
  }

  /** Writes what the current command changed to the journal, before its answer goes out. */
  commit(): void {
    if (!this.persistence || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.persistence.append(batch);
    if (this.persistence.needsCompaction) this.persistence.compact(this.stateRecords());
  }

  openCursor(
    ns: string,
    docs: Document[],
    firstBatchSize: number | undefined,
    batchSize?: number,
  ): { id: Long; firstBatch: Document[] } {
    const n = firstBatchSize ?? 101;
    const firstBatch = docs.slice(0, n);
    if (docs.length <= n) return { id: Long.ZERO, firstBatch };
    const id = (this.nextCursorId++).toString();
    this.cursors.set(id, { ns, docs, position: n, batchSize, lastUsed: Date.now() });
    return { id: Long.fromString(id), firstBatch };
  }

  sweepCursors(now = Date.now()): void {
    for (const [id, c] of this.cursors) if (now - c.lastUsed > CURSOR_IDLE_MS) this.cursors.delete(id);
  }

  /** Replays journal/snapshot records into memory (at start). */
  /**
   * A record of the snapshot. Its documents are loaded without the lookups and unique checks a replayed
   * write needs: the state it was written from enforced every unique index and holds each _id once (and
   * a CRC guards each record). At a million users those checks were a sixth of the restart.
   */
  load(rec: Document): void {
    const r = rec as JournalRecord;
    if (r.op !== 'putRaw') return this.apply(rec);
    const c = this.ensureCollection(r.db, r.coll);
    const names = c.keyFields();
    c.load(names ? decodeFields(r.raw, names) : decode(r.raw), r.raw);
  }

  apply(rec: Document): void {
    const r = rec as JournalRecord;
    switch (r.op) {
      case 'createColl':
        this.ensureCollection(r.db, r.coll, r.options);
        break;
      case 'dropColl':
        this.dbs.get(r.db)?.delete(r.coll);
        break;
      case 'dropDb':
        this.dbs.delete(r.db);
        break;
      case 'createIndex':
        this.ensureCollection(r.db, r.coll).createIndex(r.spec as IndexSpec);
        break;
      case 'dropIndex':
        this.collection(r.db, r.coll)?.dropIndex(r.name);
        break;
      case 'put': {
        const c = this.ensureCollection(r.db, r.coll);
        const old = c.getById(r.doc._id);
        if (old) c.replace(old, r.doc);
        else c.insert(r.doc);
        break;
      }
      case 'putRaw': {
        // The store copies the bytes as they are; index keys need only the fields the indexes read.
        // (No ordered view exists yet at start, so none sees this partial document.)
        const c = this.ensureCollection(r.db, r.coll);
        const names = c.keyFields();
        const doc = names ? decodeFields(r.raw, names) : decode(r.raw);
        const old = c.getById(doc._id);
        if (old) c.replace(old, doc, r.raw);
        else c.insert(doc, r.raw);
        break;
      }
      case 'del': {
        const c = this.collection(r.db, r.coll);
        const old = c?.getById(r.id);
        if (c && old) c.remove(old);
        break;
      }
    }
    this.pending = [];
  }

  /** The whole state as records, for a snapshot. */
  *stateRecords(): Generator<JournalRecord> {
    for (const [db, colls] of this.dbs) {
      for (const [name, c] of colls) {
        yield { op: 'createColl', db, coll: name, options: c.options };
        for (const index of c.indexes)
          if (!index.isId) yield { op: 'createIndex', db, coll: name, spec: index.spec as Document };
        for (const raw of c.docs.rawValues()) yield { op: 'putRaw', db, coll: name, raw };
      }
    }
  }
}
