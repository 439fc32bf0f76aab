/**
 * Durability for the embedded engine: a snapshot file plus an append-only journal in the data folder.
 * - Every write command appends its changes to the journal with one write (length + CRC32 + BSON)
 *   before it answers; the OS has the bytes, so a kill -9 loses nothing acknowledged. fsync runs every
 *   100 ms (a power cut may lose at most that window, like MongoDB's journal interval), off the event loop
 *   (the thread pool), so queries never wait for the disk; flush, compaction and stop fsync at once.
 * - At start the snapshot is loaded and the journal replayed up to the first torn or corrupt record,
 *   where it is cut. If the journal held anything, a new snapshot is written to a temporary file,
 *   fsynced and renamed over the old one: a crash at any point leaves either the old or the new state.
 *   After a clean stop (which compacts) the journal is empty and the snapshot already is the state, so
 *   the engine appends to that journal instead of rewriting the whole database (at a million users the
 *   rewrite was a large part of the restart).
 * - Snapshot and journal carry a generation: snapshot N (its first record says N) goes with
 *   journal-N.bin only. Compaction creates the empty journal-(N+1).bin before the rename that switches
 *   to snapshot N+1, so an old journal is never replayed over a newer snapshot (which could re-apply
 *   stale versions and trip unique indexes), whatever moment a crash hits.
 * - The snapshot is written whole and fsynced before it is used, so damage there is not a torn write:
 *   the engine refuses to start rather than silently drop data.
 * - A LOCK file with the owner's pid keeps two processes from opening the same folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { serialize, type Document } from 'bson';
import { decode } from './wire';

export type JournalRecord =
  | { op: 'put'; db: string; coll: string; doc: Document }
  /** A put whose document is already BSON (from the store): framed without decoding or re-encoding it. */
  | { op: 'putRaw'; db: string; coll: string; raw: Uint8Array }
  | { op: 'del'; db: string; coll: string; id: unknown }
  | { op: 'createColl'; db: string; coll: string; options: Document }
  | { op: 'dropColl'; db: string; coll: string }
  | { op: 'dropDb'; db: string }
  | { op: 'createIndex'; db: string; coll: string; spec: Document }
  | { op: 'dropIndex'; db: string; coll: string; name: string };

const SNAPSHOT = 'snapshot.bson';
const journalName = (gen: number) => `journal-${gen}.bin`;
const JOURNAL_PATTERN = /^journal-(\d+)\.bin$/;
const LOCK = 'LOCK';
const COMPACT_AT_BYTES = 256 * 1024 * 1024;

function crc32(buf: Uint8Array): number {
  return (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(buf) >>> 0;
}

/**
 * A put record's BSON around a document that is BSON already: {op: 'put', db, coll} with the bytes
 * appended as its `doc` field, as serialize() would have written them.
 */
function putBody(db: string, coll: string, raw: Uint8Array): Buffer {
  const head = serialize({ op: 'put', db, coll });
  const size = head.length - 1 + 1 + 4 + raw.length + 1;
  const body = Buffer.allocUnsafe(size);
  body.set(head.subarray(0, head.length - 1), 0);
  let at = head.length - 1;
  body[at++] = 0x03; // embedded document
  at += body.write('doc\0', at, 'latin1');
  body.set(raw, at);
  body[size - 1] = 0;
  body.writeInt32LE(size, 0);
  return body;
}

/**
 * A put record read without decoding its document: {op: 'put', db, coll} stepped over as strings and
 * the bytes of its `doc` (a slice of `body`); undefined for any other record. Consecutive puts of one
 * collection share their head byte for byte: the strings of the last head are reused when it matches,
 * so a million-document snapshot does not decode three million equal strings.
 */
let lastPut: { head: Buffer; db: string; coll: string } | undefined;

function putOf(body: Buffer): { op: 'putRaw'; db: string; coll: string; raw: Uint8Array } | undefined {
  const last = lastPut;
  if (
    last &&
    body.length > 4 + last.head.length + 4 &&
    body.compare(last.head, 0, last.head.length, 4, 4 + last.head.length) === 0
  ) {
    const at = 4 + last.head.length;
    return { op: 'putRaw', db: last.db, coll: last.coll, raw: body.subarray(at, at + body.readInt32LE(at)) };
  }
  const strings: Record<string, string> = {};
  let at = 4;
  while (at < body.length - 1) {
    const type = body[at++];
    const nameEnd = body.indexOf(0, at);
    if (nameEnd < 0) return undefined;
    const name = body.toString('latin1', at, nameEnd);
    at = nameEnd + 1;
    if (type === 0x02) {
      const len = body.readInt32LE(at);
      strings[name] = body.toString('utf8', at + 4, at + 4 + len - 1);
      at += 4 + len;
    } else if (
      type === 0x03 &&
      name === 'doc' &&
      strings.op === 'put' &&
      strings.db !== undefined &&
      strings.coll !== undefined
    ) {
      lastPut = { head: Buffer.from(body.subarray(4, at)), db: strings.db, coll: strings.coll };
      return { op: 'putRaw', db: strings.db, coll: strings.coll, raw: body.subarray(at, at + body.readInt32LE(at)) };
    } else return undefined;
  }
  return undefined;
}

function frame(record: Document): Buffer {
  const body = record.op === 'putRaw' ? putBody(record.db, record.coll, record.raw) : serialize(record);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

const READ_CHUNK = 8 * 1024 * 1024;

/**
 * Reads a file's framed records one at a time, in chunks (never the whole file in one buffer, never an
 * array of every record), until the end or the first damaged record. Returns the good length.
 */
function readFramed(file: string, onRecord: (rec: Document) => void): { goodBytes: number; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let buf = Buffer.alloc(READ_CHUNK);
    let have = 0; // bytes in buf, starting at file offset `base`
    let base = 0;
    let filePos = 0;
    for (;;) {
      let offset = 0;
      while (offset + 8 <= have) {
        const len = buf.readUInt32LE(offset);
        if (len < 5 || base + offset + 8 + len > size) return { goodBytes: base + offset, size };
        if (offset + 8 + len > have) break; // the record continues in the next chunk
        const body = buf.subarray(offset + 8, offset + 8 + len);
        if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { goodBytes: base + offset, size };
        let rec: Document;
        try {
          // A put hands on its document's bytes undecoded: the engine stores them as they are.
          rec = putOf(body) ?? decode(body);
        } catch {
          return { goodBytes: base + offset, size };
        }
        onRecord(rec);
        offset += 8 + len;
      }
      if (filePos >= size) return { goodBytes: base + offset, size };
      // Keep the unread tail, grow the buffer when one record is larger than it, and read more.
      const tail = have - offset;
      const needed = tail >= 8 ? 8 + buf.readUInt32LE(offset) : 8;
      const next = needed > buf.length ? Buffer.alloc(needed + READ_CHUNK) : buf;
      buf.copy(next, 0, offset, have);
      buf = next;
      base += offset;
      have = tail;
      const n = fs.readSync(fd, buf, have, buf.length - have, filePos);
      if (n === 0) return { goodBytes: base, size };
      filePos += n;
      have += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Persistence {
  private fd: number | null = null;
  private journalBytes = 0;
  private dirty = false;
  /** A background fsync is running (see syncInBackground). */
  private syncing = false;
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;

  constructor(private readonly dir: string) {}

  /**
   * Takes the lock and hands every record to replay to `onRecord`, one at a time: the snapshot's, then
   * its journal's. Puts come as `putRaw`, their document as BSON bytes that are valid only during the
   * call (the read buffer is reused); `fromSnapshot` says which file a record came from. Returns how
   * many bytes of a torn journal tail were cut.
   */
  open(onRecord: (rec: Document, fromSnapshot: boolean) => void): { truncatedBytes: number } {
    fs.mkdirSync(this.dir, { recursive: true });
    this.lock();
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapshotPath)) {
      let first = true;
      let read: { goodBytes: number; size: number };
      try {
        read = readFramed(snapshotPath, (rec) => {
          if (first && rec.op === 'meta') this.generation = typeof rec.gen === 'number' ? rec.gen : 0;
          else onRecord(rec, true);
          first = false;
        });
      } catch (err) {
        this.unlock();
        throw err;
      }
      if (read.goodBytes !== read.size) {
        this.unlock();
        throw new Error(
          `The snapshot ${snapshotPath} is damaged at byte ${read.goodBytes} of ${read.size}; refusing to start (restore it from a backup).`,
        );
      }
    }
    const journalPath = path.join(this.dir, journalName(this.generation));
    let truncatedBytes = 0;
    if (fs.existsSync(journalPath)) {
      const { goodBytes, size } = readFramed(journalPath, (rec) => onRecord(rec, false));
      truncatedBytes = size - goodBytes;
    }
    // Leftovers of a compaction that a crash interrupted, from either side of its rename.
    for (const f of fs.readdirSync(this.dir)) {
      const m = JOURNAL_PATTERN.exec(f);
      if ((m && Number(m[1]) !== this.generation) || f === `${SNAPSHOT}.tmp`)
        fs.rmSync(path.join(this.dir, f), { force: true });
    }
    return { truncatedBytes };
  }

  /**
   * After open(), when the snapshot already holds the whole state (its generation's journal is empty:
   * no records, nothing torn): appends to that journal from now on, as compact() would leave it, without rewriting
   * the snapshot. Returns false when that is not the case and compact() must run.
   */
  resume(): boolean {
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    const journalPath = path.join(this.dir, journalName(this.generation));
    if (!fs.existsSync(snapshotPath) || !fs.existsSync(journalPath) || fs.statSync(journalPath).size !== 0)
      return false;
    this.fd = fs.openSync(journalPath, 'a');
    this.journalBytes = 0;
    this.dirty = false;
    this.startSyncTimer();
    return true;
  }

  private startSyncTimer(): void {
    if (!this.timer) {
      this.timer = setInterval(() => this.syncInBackground(), 100);
      this.timer.unref();
    }
  }

  /** Writes the whole state as snapshot N+1 (temp file, fsync, rename) with an empty journal N+1. */
  compact(state: Iterable<JournalRecord>): void {
    const next = this.generation + 1;
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    try {
      let chunk: Buffer[] = [frame({ op: 'meta', gen: next, format: 1 })];
      let size = 0;
      for (const rec of state) {
        const f = frame(rec as Document);
        chunk.push(f);
        size += f.length;
        if (size > 4 * 1024 * 1024) {
          fs.writeSync(fd, Buffer.concat(chunk));
          chunk = [];
          size = 0;
        }
      }
      if (chunk.length) fs.writeSync(fd, Buffer.concat(chunk));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const journalFd = fs.openSync(path.join(this.dir, journalName(next)), 'w');
    fs.fsyncSync(journalFd);
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    this.syncDir();
    if (this.fd !== null) fs.closeSync(this.fd);
    fs.rmSync(path.join(this.dir, journalName(this.generation)), { force: true });
    this.generation = next;
    this.fd = journalFd;
    this.journalBytes = 0;
    this.dirty = false;
    this.startSyncTimer();
  }

  append(records: JournalRecord[]): void {
    if (this.fd === null || records.length === 0) return;
    const frames: Buffer[] = [];
    for (const r of records) frames.push(frame(r as Document));
    const buf = Buffer.concat(frames);
    fs.writeSync(this.fd, buf);
    this.journalBytes += buf.length;
    this.dirty = true;
  }

  get needsCompaction(): boolean {
    return this.journalBytes > COMPACT_AT_BYTES;
  }

  sync(): void {
    if (this.fd !== null && (this.dirty || this.syncing)) {
      fs.fsyncSync(this.fd);
      this.dirty = false;
    }
  }

  /**
   * The periodic fsync, in the thread pool: a synchronous one stalled every query behind the disk. One
   * at a time; what is appended meanwhile is marked dirty again and synced by the next tick. If the file
   * is closed (compaction, stop) while this runs, those paths have already fsynced synchronously, so an
   * error here (EBADF) loses nothing.
   */
  private syncInBackground(): void {
    if (this.fd === null || !this.dirty || this.syncing) return;
    this.dirty = false;
    this.syncing = true;
    fs.fsync(this.fd, (err) => {
      this.syncing = false;
      if (err && err.code !== 'EBADF') this.dirty = true;
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sync();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.unlock();
  }

  private unlock(): void {
    fs.rmSync(path.join(this.dir, LOCK), { force: true });
  }

  private lock(): void {
    const lockPath = path.join(this.dir, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(fs.readFileSync(lockPath, 'utf8'));
        if (owner && owner !== process.pid && processAlive(owner)) {
          throw new Error(
            `The database folder ${this.dir} is in use by process ${owner}. Stop it first, or connect to it (npm run db) instead of opening the files twice.`,
          );
        }
        fs.rmSync(lockPath, { force: true }); // stale lock from a crashed process
      }
    }
    throw new Error(`Could not lock ${this.dir}`);
  }

  private syncDir(): void {
    try {
      const dfd = fs.openSync(this.dir, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch {
      /* not supported on every file system */
    }
  }
}
