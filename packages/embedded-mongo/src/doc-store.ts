/**
 * A collection's documents, kept as BSON bytes (issue 21, item 5) rather than as JavaScript objects: a
 * user as a V8 object cost several times its BSON size (hidden-class fields, a heap object per
 * ObjectId, Date and string). Each read decodes a fresh object, so a caller that mutates a result can
 * never change the store. The bytes of one stored version are also its identity: ordered views
 * (ordered.ts) compare `version(slot)` to tell a live entry from a stale one. The bytes lie one after
 * another in a few large chunks (an arena): a Buffer per document cost an object and pool slack each.
 *
 * Each document has a slot, a small integer kept for its life, and no id string is kept: the slot's
 * arena position sits in a Float64Array, and the canonical _id finds the slot through a hash table
 * (hash-ids.ts) whose candidates are checked against the _id in the stored bytes. Indexes and ordered
 * views hold slots too. At a million users the Map from id string to position cost ~70 B per document.
 *
 * It answers the parts of Map's interface the engine uses (get, has, size, keys, values, entries), so
 * callers read it like the Map of documents it replaces.
 */
import { serialize, type Document } from 'bson';
import { decode } from './wire';
import { decodeFields } from './bson-fields';
import { canon } from './keys';
import { HashIds, fnv1a, type KeyHash } from './hash-ids';

/** Arena chunk size: documents are copied one after another into chunks of this size. */
const CHUNK = 2 ** 22;
/**
 * Positions are chunk * SPAN + offset. Offsets stay below CHUNK (a larger document gets a chunk of its
 * own, at offset 0), so SPAN = CHUNK.
 */
const SPAN = CHUNK;
/** Garbage (bytes of replaced or deleted versions) is reclaimed once it exceeds the live bytes and this. */
const RECLAIM_AT = 32 * 1024 * 1024;
const ID_ONLY: ReadonlySet<string> = new Set(['_id']);
/** A free slot's position. */
const FREE = -1;

/** The canonical key of a stored document's _id, read from its bytes (_id is stored first). */
function storedIdIs(bytes: Uint8Array, id: string): boolean {
  // The common case, an ObjectId: type 7, name "_id", 12 bytes, against the key 'o:' + 12 latin1 chars.
  if (bytes[4] === 0x07 && bytes[5] === 0x5f && bytes[6] === 0x69 && bytes[7] === 0x64 && bytes[8] === 0) {
    if (id.length !== 14 || id.charCodeAt(0) !== 0x6f || id.charCodeAt(1) !== 0x3a) return false;
    for (let i = 0; i < 12; i++) if (bytes[9 + i] !== id.charCodeAt(2 + i)) return false;
    return true;
  }
  // A string (sessions' ids): its key is 's:' + the string; ASCII bytes compare as characters.
  if (bytes[4] === 0x02 && bytes[5] === 0x5f && bytes[6] === 0x69 && bytes[7] === 0x64 && bytes[8] === 0) {
    if (id.charCodeAt(0) !== 0x73 || id.charCodeAt(1) !== 0x3a) return false;
    const n = (bytes[9] | (bytes[10] << 8) | (bytes[11] << 16) | (bytes[12] << 24)) - 1;
    if (n === id.length - 2) {
      let i = 0;
      for (; i < n && bytes[13 + i] < 0x80; i++) if (bytes[13 + i] !== id.charCodeAt(2 + i)) return false;
      if (i === n) return true;
    }
  }
  return storedId(bytes) === id;
}

const storedId = (bytes: Uint8Array): string => canon(decodeFields(bytes, ID_ONLY)._id, false);

export class DocStore {
  /** slot -> position of its current version's bytes in the arena, or FREE. */
  private pos = new Float64Array(1024);
  /** Slots below this have been used; freed ones are reused (a chain through `next` from `freeHead`). */
  private top = 0;
  private freeHead = -1;
  /**
   * The live slots in insertion order, a doubly linked list: a scan returns documents in the order they
   * were inserted (as MongoDB's record ids), whatever slots they reuse.
   */
  private next = new Int32Array(1024);
  private prev = new Int32Array(1024);
  private head = -1;
  private tail = -1;
  private count = 0;
  /** hash of the canonical _id -> slot(s). */
  private readonly byId = new HashIds();
  private chunks: Buffer[] = [];
  private used = 0; // bytes used in the last chunk
  private live = 0;
  private garbage = 0;
  /** Bumped when reclaiming moves documents: positions (versions) taken before then are void. */
  epoch = 0;

  constructor(private readonly hash: KeyHash = fnv1a) {}

  get size(): number {
    return this.count;
  }

  /** The slot of the document with this canonical id, or -1. */
  slotOf(id: string): number {
    for (const slot of this.byId.get(this.hash(id))) if (storedIdIs(this.bytesAt(this.pos[slot]), id)) return slot;
    return -1;
  }

  /** The canonical id of the document in a slot. */
  idAt(slot: number): string {
    return storedId(this.bytesAt(this.pos[slot]));
  }

  has(id: string): boolean {
    return this.slotOf(id) >= 0;
  }

  /** A fresh decoded copy of the stored document (only the top-level fields `names` when given). */
  get(id: string, names?: ReadonlySet<string>): Document | undefined {
    const slot = this.slotOf(id);
    return slot < 0 ? undefined : this.at(slot, names);
  }

  /** The document in a slot, decoded (only the top-level fields `names` when given). */
  at(slot: number, names?: ReadonlySet<string>): Document {
    const bytes = this.bytesAt(this.pos[slot]);
    return names ? decodeFields(bytes, names) : decode(bytes);
  }

  /**
   * The stored version of a slot: a number that changes with every write of the document (its
   * position; never reused within an epoch), so ordered views tell a live entry from a stale one by it.
   */
  version(slot: number): number | undefined {
    const at = this.pos[slot];
    return at === undefined || at === FREE ? undefined : at;
  }

  /** The bytes of a version (a view into the arena: do not modify, do not keep past the next write). */
  bytesAt(at: number): Uint8Array {
    const chunk = this.chunks[Math.floor(at / SPAN)];
    const offset = at % SPAN;
    return chunk.subarray(offset, offset + chunk.readInt32LE(offset));
  }

  /** The document decoded from a version's bytes. */
  readonly read = (at: number): Document => decode(this.bytesAt(at));

  /** Stores the document's BSON under its canonical id (new or replacing); returns its slot. */
  set(id: string, doc: Document): number {
    return this.setRaw(id, serialize(doc));
  }

  /** Stores a copy of BSON bytes as they are (new or replacing); returns the slot. */
  setRaw(id: string, bytes: Uint8Array): number {
    const slot = this.slotOf(id);
    if (slot >= 0) {
      this.replace(slot, bytes);
      return slot;
    }
    return this.insert(id, bytes);
  }

  /** Stores a new document (its id not stored yet: the caller checked); returns its slot. */
  insert(id: string, bytes: Uint8Array): number {
    let slot = this.freeHead;
    if (slot >= 0) this.freeHead = this.next[slot];
    else slot = this.top++;
    if (slot >= this.pos.length) this.grow();
    this.pos[slot] = this.append(bytes);
    this.prev[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
    this.byId.add(this.hash(id), slot);
    this.count++;
    this.reclaimIfWasteful();
    return slot;
  }

  /** Stores a new version of the document in a slot; returns the version. */
  replace(slot: number, bytes: Uint8Array): number {
    this.drop(this.pos[slot]);
    this.pos[slot] = this.append(bytes);
    this.reclaimIfWasteful();
    return this.pos[slot];
  }

  delete(slot: number): void {
    const at = this.pos[slot];
    if (at === FREE || slot >= this.top) return;
    this.byId.remove(this.hash(this.idAt(slot)), slot);
    this.drop(at);
    this.pos[slot] = FREE;
    const [before, after] = [this.prev[slot], this.next[slot]];
    if (before >= 0) this.next[before] = after;
    else this.head = after;
    if (after >= 0) this.prev[after] = before;
    else this.tail = before;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.count--;
    this.reclaimIfWasteful();
  }

  private grow(): void {
    const n = this.pos.length * 2;
    const pos = new Float64Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    pos.set(this.pos);
    next.set(this.next);
    prev.set(this.prev);
    [this.pos, this.next, this.prev] = [pos, next, prev];
  }

  private append(bytes: Uint8Array): number {
    if (this.chunks.length === 0 || this.used + bytes.length > this.chunks[this.chunks.length - 1].length) {
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(CHUNK, bytes.length)));
      this.used = 0;
    }
    const at = (this.chunks.length - 1) * SPAN + this.used;
    this.chunks[this.chunks.length - 1].set(bytes, this.used);
    this.used += bytes.length;
    this.live += bytes.length;
    return at;
  }

  private drop(at: number): void {
    const n = this.bytesAt(at).length;
    this.live -= n;
    this.garbage += n;
  }

  /** Copies the live documents into fresh chunks once replaced and deleted versions outweigh them. */
  private reclaimIfWasteful(): void {
    if (this.garbage < RECLAIM_AT || this.garbage < this.live) return;
    const old = this.chunks;
    this.chunks = [];
    this.used = 0;
    this.live = 0;
    this.garbage = 0;
    for (const slot of this.slots()) {
      const at = this.pos[slot];
      const chunk = old[Math.floor(at / SPAN)];
      const offset = at % SPAN;
      this.pos[slot] = this.append(chunk.subarray(offset, offset + chunk.readInt32LE(offset)));
    }
    this.epoch++;
  }

  /** The slots in use, in insertion order (a slot deleted during the walk is skipped). */
  *slots(): Generator<number> {
    for (let slot = this.head; slot >= 0; ) {
      const after = this.next[slot];
      if (this.pos[slot] !== FREE) yield slot;
      slot = after;
    }
  }

  /** The canonical ids (read from the stored documents). */
  *keys(): Generator<string> {
    for (const slot of this.slots()) yield this.idAt(slot);
  }

  /** Each document's bytes (views into the arena, valid until the next write). */
  *rawValues(): Generator<Uint8Array> {
    for (const slot of this.slots()) yield this.bytesAt(this.pos[slot]);
  }

  *values(): Generator<Document> {
    for (const slot of this.slots()) yield this.at(slot);
  }

  /** Each id with its document (only the top-level fields `names` when given). */
  *entries(names?: ReadonlySet<string>): Generator<[string, Document]> {
    for (const slot of this.slots()) yield [this.idAt(slot), this.at(slot, names)];
  }

  [Symbol.iterator](): Generator<[string, Document]> {
    return this.entries();
  }
}
