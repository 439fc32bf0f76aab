/**
 * Durability of the embedded engine: data and indexes survive a restart; a torn journal tail is cut
 * without losing earlier records; a process killed with SIGKILL mid-write leaves a readable database
 * holding every acknowledged insert.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '../../src';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-mongo-'));

async function withEngine<T>(dataDir: string, fn: (client: MongoClient) => Promise<T>, dbName = 'persist'): Promise<T> {
  const engine = await startEmbeddedMongo({ dataDir });
  const client = await MongoClient.connect(`${engine.uri}${dbName}`);
  try {
    return await fn(client);
  } finally {
    await client.close();
    await engine.stop();
  }
}

it('keeps documents and indexes across a restart', async () => {
  const dir = tmpDir();
  await withEngine(dir, async (c) => {
    const users = c.db().collection('users');
    await users.createIndex({ username: 1 }, { unique: true });
    await users.insertMany([{ username: 'a', at: new Date(5) }, { username: 'b' }]);
    await users.updateOne({ username: 'b' }, { $set: { changed: true } });
    await users.deleteOne({ username: 'a' });
  });
  await withEngine(dir, async (c) => {
    const users = c.db().collection('users');
    expect(await users.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ username: 'b', changed: true }]);
    await expect(users.insertOne({ username: 'b' })).rejects.toMatchObject({ code: 11000 });
  });
});

it('puts documents interleaved across databases and collections with similar names back where they were', async () => {
  // Consecutive snapshot puts reuse the strings of an equal record head: unequal heads must not.
  const dir = tmpDir();
  const names = [
    ['a', 'u'],
    ['ab', 'u'],
    ['a', 'us'],
    ['a', 'u'],
  ];
  await withEngine(dir, async (c) => {
    for (let i = 0; i < 40; i++) {
      const [db, coll] = names[i % names.length];
      await c.db(db).collection<{ _id: number; n: number }>(coll).insertOne({ _id: i, n: i });
    }
  });
  await withEngine(dir, async (c) => {
    for (const [db, coll] of [
      ['a', 'u'],
      ['ab', 'u'],
      ['a', 'us'],
    ]) {
      const expected = [...Array(40).keys()].filter((i) => {
        const [d, k] = names[i % names.length];
        return d === db && k === coll;
      });
      const found = await c.db(db).collection(coll).find().toArray();
      expect(found.map((d) => d._id)).toEqual(expected);
    }
  });
});

it('cuts a torn record at the end of the journal and keeps everything before it', async () => {
  const dir = tmpDir();
  const engine = await startEmbeddedMongo({ dataDir: dir });
  const client = await MongoClient.connect(`${engine.uri}persist`);
  await client
    .db()
    .collection('t')
    .insertMany([{ n: 1 }, { n: 2 }]);
  await client.close();
  await engine.flush();
  // Simulate a crash: copy the files as they are mid-run, then append half a record.
  const copy = tmpDir();
  for (const f of fs.readdirSync(dir)) if (f !== 'LOCK') fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  await engine.stop();
  const journal = fs.readdirSync(copy).find((f) => /^journal-\d+\.bin$/.test(f));
  expect(journal).toBeDefined();
  expect(fs.statSync(path.join(copy, journal!)).size).toBeGreaterThan(0); // the inserts are in the journal
  fs.appendFileSync(path.join(copy, journal!), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5, 6]));
  await withEngine(copy, async (c) => {
    expect((await c.db().collection('t').find({}).toArray()).map((d) => d.n)).toEqual([1, 2]);
  });
});

it('ignores a journal older than the snapshot (crash between a compaction and the removal of the old journal)', async () => {
  const dir = tmpDir();
  await withEngine(dir, async (c) => {
    const t = c.db().collection('t');
    await t.createIndex({ u: 1 }, { unique: true });
    await t.insertOne({ _id: 'a' as never, u: 1 });
  });
  const stale = fs.readdirSync(dir).find((f) => /^journal-\d+\.bin$/.test(f))!;
  // Continue in a second run, keeping a copy of that run's journal, which will be stale after compaction.
  const engine = await startEmbeddedMongo({ dataDir: dir });
  const client = await MongoClient.connect(`${engine.uri}persist`);
  const t = client.db().collection('t');
  // Replayed over the final state, the first of these would collide with b on the unique index.
  await t.updateOne({ _id: 'a' as never }, { $set: { u: 2 } });
  await t.updateOne({ _id: 'a' as never }, { $set: { u: 3 } });
  await t.insertOne({ _id: 'b' as never, u: 2 });
  await client.close();
  await engine.flush();
  const current = fs.readdirSync(dir).find((f) => /^journal-\d+\.bin$/.test(f))!;
  const saved = fs.readFileSync(path.join(dir, current));
  await engine.stop(); // compacts: a new snapshot and generation
  expect(fs.readdirSync(dir)).not.toContain(stale);
  fs.writeFileSync(path.join(dir, current), saved); // as if the crash hit before the old journal was removed
  await withEngine(dir, async (c) => {
    const docs = await c.db().collection('t').find({}).sort({ _id: 1 }).toArray();
    expect(docs).toEqual([
      { _id: 'a', u: 3 },
      { _id: 'b', u: 2 },
    ]);
  });
  expect(fs.readdirSync(dir).filter((f) => f.startsWith('journal-'))).toHaveLength(1);
});

it('refuses to start on a damaged snapshot instead of dropping data', async () => {
  const dir = tmpDir();
  await withEngine(dir, async (c) => {
    await c
      .db()
      .collection('t')
      .insertMany(Array.from({ length: 10 }, (_, i) => ({ i })));
  });
  const snapshot = path.join(dir, 'snapshot.bson');
  const buf = fs.readFileSync(snapshot);
  buf[buf.length - 20] ^= 0xff;
  fs.writeFileSync(snapshot, buf);
  await expect(startEmbeddedMongo({ dataDir: dir })).rejects.toThrow(/damaged/);
  expect(fs.existsSync(path.join(dir, 'LOCK'))).toBe(false);
});

const snapshotOf = (dir: string) => {
  const st = fs.statSync(path.join(dir, 'snapshot.bson'));
  return { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
};
const journalsOf = (dir: string) => fs.readdirSync(dir).filter((f) => /^journal-\d+\.bin$/.test(f));

it('after a clean stop, a restart keeps the snapshot file as it is and appends to its journal; the next restart has both', async () => {
  const dir = tmpDir();
  await withEngine(dir, async (c) => {
    await c.db().collection('t').createIndex({ n: 1 }, { unique: true });
    await c
      .db()
      .collection('t')
      .insertMany([{ n: 1 }, { n: 2 }]);
  });
  const stopped = snapshotOf(dir);
  const journal = journalsOf(dir);
  expect(journal).toHaveLength(1);
  expect(fs.statSync(path.join(dir, journal[0])).size).toBe(0); // the stop folded everything into the snapshot
  const engine = await startEmbeddedMongo({ dataDir: dir });
  // Not rewritten at start: the same file (inode), untouched, and the same (empty) journal.
  expect(snapshotOf(dir)).toEqual(stopped);
  expect(journalsOf(dir)).toEqual(journal);
  const client = await MongoClient.connect(`${engine.uri}persist`);
  await client.db().collection('t').insertOne({ n: 3 });
  await expect(client.db().collection('t').insertOne({ n: 1 })).rejects.toMatchObject({ code: 11000 });
  await engine.flush();
  expect(fs.statSync(path.join(dir, journal[0])).size).toBeGreaterThan(0); // the insert went to that journal
  // A crash now (the files copied mid-run): the journal is replayed over the kept snapshot.
  const copy = tmpDir();
  for (const f of fs.readdirSync(dir)) if (f !== 'LOCK') fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  await client.close();
  await engine.stop();
  for (const d of [dir, copy]) {
    await withEngine(d, async (c) => {
      expect((await c.db().collection('t').find({}).sort({ n: 1 }).toArray()).map((x) => x.n)).toEqual([1, 2, 3]);
      await expect(c.db().collection('t').insertOne({ n: 2 })).rejects.toMatchObject({ code: 11000 });
    });
  }
});

it('a start whose journal holds records (a crash) folds them into a new snapshot before answering', async () => {
  const dir = tmpDir();
  const engine = await startEmbeddedMongo({ dataDir: dir });
  const client = await MongoClient.connect(`${engine.uri}persist`);
  await client.db().collection('t').insertOne({ n: 1 });
  await engine.flush();
  const copy = tmpDir();
  for (const f of fs.readdirSync(dir)) if (f !== 'LOCK') fs.copyFileSync(path.join(dir, f), path.join(copy, f));
  await client.close();
  await engine.stop();
  const [crashed] = journalsOf(copy);
  expect(fs.statSync(path.join(copy, crashed)).size).toBeGreaterThan(0);
  const before = snapshotOf(copy);
  const again = await startEmbeddedMongo({ dataDir: copy });
  try {
    const [now] = journalsOf(copy);
    expect(now).not.toBe(crashed); // the next generation
    expect(fs.statSync(path.join(copy, now)).size).toBe(0);
    expect(snapshotOf(copy).size).toBeGreaterThan(before.size); // the insert is in the snapshot now
  } finally {
    await again.stop();
  }
});

it('keeps data over several restarts and compactions', async () => {
  const dir = tmpDir();
  for (let run = 0; run < 3; run++) {
    await withEngine(dir, async (c) => {
      const t = c.db().collection('runs');
      await t.insertOne({ run, at: new Date(run), big: 'x'.repeat(1000) });
      expect(await t.countDocuments()).toBe(run + 1);
    });
  }
});

it('refuses a second process on the same folder', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'LOCK'), String(process.ppid));
  await expect(startEmbeddedMongo({ dataDir: dir })).rejects.toThrow(/in use by process/);
});

it('survives kill -9 during writes with every acknowledged insert', async () => {
  const dir = tmpDir();
  // Node itself runs the child (tsx as a loader), so SIGKILL hits the writing process and not a wrapper.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'writer-child.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acknowledged = -1;
  await new Promise<void>((resolve) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const l of lines) acknowledged = Number(l);
      if (acknowledged >= 300) {
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  await new Promise((r) => child.on('exit', r));
  await withEngine(
    dir,
    async (c) => {
      const items = c.db().collection('items');
      const count = await items.countDocuments();
      expect(count).toBeGreaterThanOrEqual(acknowledged + 1);
      const ns = (
        await items
          .find({}, { projection: { n: 1 } })
          .sort({ n: 1 })
          .toArray()
      ).map((d) => d.n);
      expect(ns.slice(0, acknowledged + 1)).toEqual(Array.from({ length: acknowledged + 1 }, (_, i) => i));
      await expect(items.insertOne({ n: 0 })).rejects.toMatchObject({ code: 11000 });
    },
    'crash',
  );
}, 60_000);

it('fsyncs the journal in the thread pool, not on the event loop, after writes', async () => {
  const dir = tmpDir();
  const syncs: string[] = [];
  const asyncSync = jest.spyOn(fs, 'fsync');
  const blockingSync = jest.spyOn(fs, 'fsyncSync');
  try {
    await withEngine(dir, async (c) => {
      asyncSync.mockClear();
      blockingSync.mockClear();
      const synced = new Promise<void>((resolve) => {
        asyncSync.mockImplementationOnce(((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
          syncs.push('fsync');
          // The real fsync, then the engine's callback.
          return jest.requireActual<typeof fs>('node:fs').fsync(fd, (err) => {
            cb(err);
            resolve();
          });
        }) as typeof fs.fsync);
      });
      await c.db().collection('notes').insertOne({ text: 'kept' });
      await synced; // the periodic sync (every 100 ms) comes to this write
      expect(syncs).toEqual(['fsync']);
      expect(blockingSync).not.toHaveBeenCalled();
    });
    // Stopping still syncs at once, and the write is there after a restart.
    await withEngine(dir, async (c) =>
      expect(await c.db().collection('notes').countDocuments({ text: 'kept' })).toBe(1),
    );
  } finally {
    asyncSync.mockRestore();
    blockingSync.mockRestore();
  }
});
