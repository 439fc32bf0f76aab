/**
 * Durability for the embedded engine: a snapshot file plus an append-only journal in the data folder.
 * - Every write command appends its changes to the journal with one write (length + CRC32 + BSON)
 *   before it answers; the OS has the bytes, so a kill -9 loses nothing acknowledged. fsync runs every
 *   100 ms and on flush/stop (a power cut may lose at most that window, like MongoDB's journal interval).
 * - At start the snapshot is loaded and the journal replayed up to the first torn or corrupt record,
 *   where it is cut. Then a new snapshot is written to a temporary file, fsynced and renamed over the old
 *   one: a crash at any point leaves either the old or the new state.
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
import { deserialize, serialize, type Document } from 'bson';
import { DESERIALIZE_OPTIONS } from './wire';

export type JournalRecord =
  | { op: 'put'; db: string; coll: string; doc: Document }
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

function frame(record: Document): Buffer {
  const body = serialize(record);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Reads framed records until the end or the first damaged one; returns them and the good length. */
function readFramed(buf: Buffer): { records: Document[]; goodBytes: number } {
  const records: Document[] = [];
  let offset = 0;
  while (offset + 8 <= buf.length) {
    const len = buf.readUInt32LE(offset);
    const sum = buf.readUInt32LE(offset + 4);
    if (len < 5 || offset + 8 + len > buf.length) break;
    const body = buf.subarray(offset + 8, offset + 8 + len);
    if (crc32(body) !== sum) break;
    try {
      records.push(deserialize(body, DESERIALIZE_OPTIONS));
    } catch {
      break;
    }
    offset += 8 + len;
  }
  return { records, goodBytes: offset };
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
  private timer: NodeJS.Timeout | null = null;
  private generation = 0;

  constructor(private readonly dir: string) {}

  /** Takes the lock and returns every record to replay: the snapshot's, then its journal's. */
  open(): { records: Document[]; truncatedBytes: number } {
    fs.mkdirSync(this.dir, { recursive: true });
    this.lock();
    const records: Document[] = [];
    const snapshotPath = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snapshotPath)) {
      const buf = fs.readFileSync(snapshotPath);
      const { records: snap, goodBytes } = readFramed(buf);
      if (goodBytes !== buf.length) {
        this.unlock();
        throw new Error(`The snapshot ${snapshotPath} is damaged at byte ${goodBytes} of ${buf.length}; refusing to start (restore it from a backup).`);
      }
      const meta = snap[0]?.op === 'meta' ? snap.shift() : undefined;
      this.generation = typeof meta?.gen === 'number' ? meta.gen : 0;
      records.push(...snap);
    }
    const journalPath = path.join(this.dir, journalName(this.generation));
    let truncatedBytes = 0;
    if (fs.existsSync(journalPath)) {
      const buf = fs.readFileSync(journalPath);
      const { records: j, goodBytes } = readFramed(buf);
      records.push(...j);
      truncatedBytes = buf.length - goodBytes;
    }
    // Leftovers of a compaction that a crash interrupted, from either side of its rename.
    for (const f of fs.readdirSync(this.dir)) {
      const m = JOURNAL_PATTERN.exec(f);
      if ((m && Number(m[1]) !== this.generation) || f === `${SNAPSHOT}.tmp`) fs.rmSync(path.join(this.dir, f), { force: true });
    }
    return { records, truncatedBytes };
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
    if (!this.timer) {
      this.timer = setInterval(() => this.sync(), 100);
      this.timer.unref();
    }
  }

  append(records: JournalRecord[]): void {
    if (this.fd === null || records.length === 0) return;
    const buf = Buffer.concat(records.map((r) => frame(r as Document)));
    fs.writeSync(this.fd, buf);
    this.journalBytes += buf.length;
    this.dirty = true;
  }

  get needsCompaction(): boolean {
    return this.journalBytes > COMPACT_AT_BYTES;
  }

  sync(): void {
    if (this.fd !== null && this.dirty) {
      fs.fsyncSync(this.fd);
      this.dirty = false;
    }
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
          throw new Error(`The database folder ${this.dir} is in use by process ${owner}. Stop it first, or connect to it (npm run db) instead of opening the files twice.`);
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
