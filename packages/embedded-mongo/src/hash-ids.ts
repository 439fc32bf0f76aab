/**
 * An index's equality table without its key strings (issue 21, item 5): a 32-bit hash of each canonical
 * key maps to the slot (doc-store.ts) of the document holding it, or to a Set of slots where several
 * documents' keys share the hash (the same key, or a collision). At a million users a Map from key
 * string to id string cost a string and a Map entry per document and index (~100 B); this is two
 * Int32Arrays (hash, slot), open addressing with linear probing (~11-21 B per entry, off the JS heap).
 * The table answers "which documents may hold this key": a superset, so whoever needs the exact answer
 * (a unique check, an id lookup) verifies the candidates against their stored documents, and queries
 * re-match as they always did.
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
  /** A slot (>= 0), or -(g + 1) for the Set groups[g] when several slots share the hash. */
  private held = new Int32Array(MIN_CAPACITY);
  private groups: (Set<number> | undefined)[] = [];
  private freeGroups: number[] = [];
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

  /** The slots under a hash (nothing when none). */
  get(h: number): Iterable<number> {
    const i = this.find(h);
    if (this.hashes[i] === 0) return [];
    const v = this.held[i];
    return v >= 0 ? [v] : this.groups[-v - 1]!;
  }

  add(h: number, slot: number): void {
    const i = this.find(h);
    if (this.hashes[i] === 0) {
      this.hashes[i] = h;
      this.held[i] = slot;
      if (++this.size * 4 > this.hashes.length * 3) this.grow();
      return;
    }
    const v = this.held[i];
    if (v < 0) this.groups[-v - 1]!.add(slot);
    else if (v !== slot) {
      const g = this.freeGroups.pop() ?? this.groups.length;
      this.groups[g] = new Set([v, slot]);
      this.held[i] = -g - 1;
    }
  }

  remove(h: number, slot: number): void {
    const i = this.find(h);
    if (this.hashes[i] === 0) return;
    const v = this.held[i];
    if (v >= 0) {
      if (v === slot) this.clear(i);
      return;
    }
    const group = this.groups[-v - 1]!;
    if (!group.delete(slot) || group.size > 1) return;
    this.groups[-v - 1] = undefined;
    this.freeGroups.push(-v - 1);
    this.held[i] = group.values().next().value as number;
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
  }

  private grow(): void {
    const { hashes, held } = this;
    const capacity = hashes.length * 2;
    this.hashes = new Int32Array(capacity);
    this.held = new Int32Array(capacity);
    this.shift--;
    for (let i = 0; i < hashes.length; i++) {
      if (hashes[i] === 0) continue;
      const j = this.find(hashes[i]);
      this.hashes[j] = hashes[i];
      this.held[j] = held[i];
    }
  }

  /** Every slot once per hash it is under. */
  *entries(): Generator<[number, number]> {
    for (let i = 0; i < this.hashes.length; i++) {
      if (this.hashes[i] === 0) continue;
      const v = this.held[i];
      if (v >= 0) yield [this.hashes[i], v];
      else for (const slot of this.groups[-v - 1]!) yield [this.hashes[i], slot];
    }
  }
}
