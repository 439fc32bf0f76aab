/**
 * A collection's documents, kept as BSON bytes (issue 21, item 5) rather than as JavaScript objects: a
 * user as a V8 object cost several times its BSON size (hidden-class fields, a heap object per
 * ObjectId, Date and string). Each read decodes a fresh object, so a caller that mutates a result can
 * never change the store. The bytes of one stored version are also its identity: ordered views
 * (ordered.ts) compare `version(id)` to tell a live entry from a stale one. The bytes lie one after
 * another in a few large chunks (an arena): a Buffer per document cost an object and pool slack each.
 *
 * It answers the parts of Map's interface the engine uses (get, has, set, delete, size, keys, values,
 * entries), so callers read it like the Map of documents it replaces.
 */
import { serialize, type Document } from 'bson';
import { decode } from './wire';
import { decodeFields } from './bson-fields';

/** Arena chunk size: documents are copied one after another into chunks of this size. */
const CHUNK = 2 ** 22;
/**
 * Positions are chunk * SPAN + offset. Offsets stay below CHUNK (a larger document gets a chunk of its
 * own, at offset 0), so SPAN = CHUNK, and positions stay small integers (no heap number) up to 1 GB.
 */
const SPAN = CHUNK;
/** Garbage (bytes of replaced or deleted versions) is reclaimed once it exceeds the live bytes and this. */
const RECLAIM_AT = 32 * 1024 * 1024;

export class DocStore {
  /** id -> position of its current version's bytes in the arena (a number: no object per document). */
  private readonly positions = new Map<string, number>();
  private chunks: Buffer[] = [];
  private used = 0; // bytes used in the last chunk
  private live = 0;
  private garbage = 0;
  /** Bumped when reclaiming moves documents: positions (versions) taken before then are void. */
  epoch = 0;

  get size(): number {
    return this.positions.size;
  }

  has(id: string): boolean {
    return this.positions.has(id);
  }

  /** A fresh decoded copy of the stored document (only the top-level fields `names` when given). */
  get(id: string, names?: ReadonlySet<string>): Document | undefined {
    const at = this.positions.get(id);
    if (at === undefined) return undefined;
    return names ? decodeFields(this.bytesAt(at), names) : decode(this.bytesAt(at));
  }

  /**
   * The stored version: a number that changes with every write of the document (its position; never
   * reused within an epoch), so ordered views (ordered.ts) tell a live entry from a stale one by it.
   */
  version(id: string): number | undefined {
    return this.positions.get(id);
  }

  /** The bytes of a version (a view into the arena: do not modify, do not keep past the next write). */
  bytesAt(at: number): Uint8Array {
    const chunk = this.chunks[Math.floor(at / SPAN)];
    const offset = at % SPAN;
    return chunk.subarray(offset, offset + chunk.readInt32LE(offset));
  }

  /** The document decoded from a version's bytes. */
  readonly read = (at: number): Document => decode(this.bytesAt(at));

  /** Stores the document's BSON; returns its version. */
  set(id: string, doc: Document): number {
    return this.setRaw(id, serialize(doc));
  }

  /** Stores a copy of BSON bytes as they are; returns the version. */
  setRaw(id: string, bytes: Uint8Array): number {
    const old = this.positions.get(id);
    if (old !== undefined) this.drop(old);
    if (this.chunks.length === 0 || this.used + bytes.length > this.chunks[this.chunks.length - 1].length) {
      this.chunks.push(Buffer.allocUnsafeSlow(Math.max(CHUNK, bytes.length)));
      this.used = 0;
    }
    const at = (this.chunks.length - 1) * SPAN + this.used;
    this.chunks[this.chunks.length - 1].set(bytes, this.used);
    this.used += bytes.length;
    this.live += bytes.length;
    this.positions.set(id, at);
    this.reclaimIfWasteful();
    return this.positions.get(id)!;
  }

  delete(id: string): boolean {
    const old = this.positions.get(id);
    if (old === undefined) return false;
    this.drop(old);
    this.positions.delete(id);
    this.reclaimIfWasteful();
    return true;
  }

  private drop(at: number): void {
    const n = this.bytesAt(at).length;
    this.live -= n;
    this.garbage += n;
  }

  /** Copies the live documents into fresh chunks once replaced and deleted versions outweigh them. */
  private reclaimIfWasteful(): void {
    if (this.garbage < RECLAIM_AT || this.garbage < this.live) return;
    const old = { chunks: this.chunks, positions: [...this.positions] };
    this.chunks = [];
    this.used = 0;
    this.live = 0;
    this.garbage = 0;
    for (const [id, at] of old.positions) {
      const chunk = old.chunks[Math.floor(at / SPAN)];
      const offset = at % SPAN;
      const bytes = chunk.subarray(offset, offset + chunk.readInt32LE(offset));
      this.positions.delete(id);
      this.setRaw(id, bytes);
    }
    this.epoch++;
  }

  keys(): IterableIterator<string> {
    return this.positions.keys();
  }

  /** Each document's bytes (views into the arena, valid until the next write). */
  *rawValues(): Generator<Uint8Array> {
    for (const at of this.positions.values()) yield this.bytesAt(at);
  }

  *values(): Generator<Document> {
    for (const at of this.positions.values()) yield this.read(at);
  }

  /** Each id with its document (only the top-level fields `names` when given). */
  *entries(names?: ReadonlySet<string>): Generator<[string, Document]> {
    for (const [id, at] of this.positions) yield [id, names ? decodeFields(this.bytesAt(at), names) : this.read(at)];
  }

  [Symbol.iterator](): Generator<[string, Document]> {
    return this.entries();
  }
}
