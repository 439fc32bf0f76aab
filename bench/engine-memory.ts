/**
 * The embedded engine's memory and restart time at scale (issue 14): the engine runs as `npm run db`
 * does, in its own process, with its files in a temporary folder; 1M small users (the bench's user
 * shape, with the portal's four user indexes) are loaded through the official driver in insertMany
 * batches of 1,000. Reported: the engine process's RSS after the load and a GC-settled idle moment,
 * bytes of RSS per user against the user's BSON size, the files' size, and the time from spawning a
 * fresh engine on those files (snapshot + journal replay + the start-up compaction) to its first ping.
 * Run: npx tsx bench/engine-memory.ts (BENCH_USERS=1000000 by default). Not part of `npm run bench`:
 * it takes minutes and about 2 GB.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { calculateObjectSize } from 'bson';
import { MongoClient } from 'mongodb';
import { makeUser } from './engine';
import { engineCliPath } from './engine-cli';

const USERS = Number(process.env.BENCH_USERS || 1_000_000);
const BATCH = 1_000;

function startEngine(dataDir: string): Promise<{ child: ChildProcess; uri: string; seconds: number }> {
  const started = process.hrtime.bigint();
  const compiled = __filename.endsWith('.js');
  const cli = engineCliPath();
  const args = compiled ? ['--max-old-space-size=4096', cli] : ['--max-old-space-size=4096', '--import', 'tsx', cli];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, DATA_DIR: dataDir, DB_HOST: '127.0.0.1', DB_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('listening'));
      if (line) resolve({ child, uri: JSON.parse(line).uri, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
    child.on('exit', (code) => reject(new Error(`engine exited ${code}`)));
  });
}

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const f of fs.readdirSync(dir)) total += fs.statSync(path.join(dir, f)).size;
  return total;
}

async function stopEngine(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export async function run(): Promise<Record<string, number>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-memory-'));
  const started = await startEngine(dataDir);
  const { uri } = started;
  let { child } = started;
  const emptyRss = rssBytes(child.pid!);
  const client = await MongoClient.connect(`${uri}bench_memory`);
  const users = client.db().collection('users');
  await users.createIndex({ username: 1 }, { unique: true });
  await users.createIndex({ communityNickname: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
  await users.createIndex(
    { contact: 1 },
    { unique: true, partialFilterExpression: { contact: { $type: 'objectId' } } },
  );
  await users.createIndex({ createdAt: -1, _id: -1 });
  let bsonBytes = 0;
  const loadStart = process.hrtime.bigint();
  for (let from = 0; from < USERS; from += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, USERS - from) }, (_, k) => makeUser(from + k));
    for (const u of batch) bsonBytes += calculateObjectSize(u);
    await users.insertMany(batch);
  }
  const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
  // A keyset page builds the ordered view an app would use; then let the engine settle.
  await users
    .find({ createdAt: { $lt: new Date() } })
    .sort({ createdAt: -1, _id: -1 })
    .limit(50)
    .toArray();
  await client.close();
  await new Promise((r) => setTimeout(r, 2000));
  const loadedRss = rssBytes(child.pid!);
  await stopEngine(child);
  const fileBytes = dirBytes(path.join(dataDir, 'db'));

  const restarted = await startEngine(dataDir);
  child = restarted.child;
  const again = await MongoClient.connect(`${restarted.uri}bench_memory`);
  const count = await again.db().collection('users').estimatedDocumentCount();
  await again.close();
  const restartRss = rssBytes(child.pid!);
  await stopEngine(child);
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (count !== USERS) throw new Error(`restart found ${count} users, expected ${USERS}`);

  const mb = (b: number) => Math.round(b / 1024 / 1024);
  return {
    users: USERS,
    loadSeconds: Number(loadSeconds.toFixed(1)),
    bsonBytesPerUser: Math.round(bsonBytes / USERS),
    emptyEngineRssMB: mb(emptyRss),
    loadedEngineRssMB: mb(loadedRss),
    rssBytesPerUser: Math.round((loadedRss - emptyRss) / USERS),
    rssPerUserVsBson: Number(((loadedRss - emptyRss) / bsonBytes).toFixed(2)),
    filesMB: mb(fileBytes),
    restartSeconds: Number(restarted.seconds.toFixed(1)),
    restartedEngineRssMB: mb(restartRss),
  };
}

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify({ engineMemory: r }, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
