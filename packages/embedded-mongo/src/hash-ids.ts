/**
 * An index's equality table without its key strings (issue 21, item 5): a 32-bit hash of each canonical
 * key maps to the id of the document holding it, or to a Set of ids where several documents' keys share
 * the hash (the same key, or a collision). At a million users a Map from key string to id cost a string
 * and a Map entry per document and index (~100 B); this is an Int32Array of hashes beside an array of
 * ids, open addressing with linear probing (~16-24 B per entry). The table answers "which documents
 * may hold this key": a superset, so whoever needs the exact answer (a unique check) verifies the
 * candidates against their stored documents (Index.conflict), and queries re-match as they always did.
 */

/** A 32-bit hash of a string (FNV-1a): never 0, which marks an empty bucket. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0 || 1;
}

export type KeyHash = (key: string) => number;

const MIN_CAPACITY = 16;

export class HashIds {
  private hashes = new Int32Array(MIN_CAPACITY);
  private held: (string | Set<string> | undefined)[] = new Array(MIN_CAPACITY);
  private shift = 32 - Math.log2(MIN_CAPACITY);
  /** Buckets in use (distinct hashes). */
  size = 0;

  /** Home bucket: the hash mixed (Fibonacci hashing), so even a handful of small hashes spread out. */
  private home(h: number): number {
    return Math.imul(h, 0x9e3779b1) >>> this.shift;
  }

  private find(h: number): number {
    const mask = this.hashes.length - 1;
    for (let i = this.home(h); ; i = (i + 1) & mask) {
      const at = this.hashes[i];
      if (at === h || at === 0) return i;
    }
  }

  /** The ids under a hash (nothing when none). */
  get(h: number): Iterable<string> {
    const held = this.held[this.find(h)];
    return held === undefined ? [] : typeof held === 'string' ? [held] : held;
  }

  add(h: number, id: string): void {
    const i = this.find(h);
    const held = this.held[i];
    if (held === undefined) {
      this.hashes[i] = h;
      this.held[i] = id;
      if (++this.size * 4 > this.hashes.length * 3) this.grow();
    } else if (typeof held === 'string') {
      if (held !== id) this.held[i] = new Set([held, id]);
    } else held.add(id);
  }

  remove(h: number, id: string): void {
    const i = this.find(h);
    const held = this.held[i];
    if (held === undefined) return;
    if (typeof held === 'string') {
      if (held === id) this.clear(i);
    } else if (held.delete(id)) {
      if (held.size === 1) this.held[i] = held.values().next().value as string;
      else if (held.size === 0) this.clear(i);
    }
  }

  /** Empties bucket i and shifts later buckets of its probe run back (no tombstones). */
  private clear(i: number): void {
    const mask = this.hashes.length - 1;
    this.size--;
    let hole = i;
    for (let j = (i + 1) & mask; this.hashes[j] !== 0; j = (j + 1) & mask) {
      const k = this.home(this.hashes[j]);
      // The entry at j may move to the hole when its home is not within (hole, j] (cyclically).
      const stays = hole <= j ? hole < k && k <= j : hole < k || k <= j;
      if (stays) continue;
      this.hashes[hole] = this.hashes[j];
      this.held[hole] = this.held[j];
      hole = j;
    }
    this.hashes[hole] = 0;
    this.held[hole] = undefined;
  }

  private grow(): void {
    const { hashes, held } = this;
    const capacity = hashes.length * 2;
    this.hashes = new Int32Array(capacity);
    this.held = new Array(capacity);
    this.shift--;
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i] === 0) continue;
      const j = this.find(hashes[i]);
      this.hashes[j] = hashes[i];
      this.held[j] = held[i];
    }
  }

  /** Every id once per hash it is under. */
  *entries(): Generator<[number, string]> {
    for (let i = 0; i < this.hashes.length; i++) {
      const held = this.held[i];
      if (held === undefined) continue;
      if (typeof held === 'string') yield [this.hashes[i], held];
      else for (const id of held) yield [this.hashes[i], id];
    }
  }
}
