/**
 * Admin user search at scale (issue 15, goal 5): 100k, then 1M users loaded in bulk through the driver
 * (insertMany, 1,000 a batch, two batches in flight) into an in-memory embedded engine running in its
 * own process, as a database server would. Then the p50/p95 of five queries through the app's own
 * search function (searchUsers, what the admin list and the API call), each against baselines measured
 * in the same run: a driver ping and a user read by _id through mongoose.
 *   firstPage  the newest 50 users, no filter
 *   namePrefix a name search, rotating over shapes: "Ann", "Lefe", "Ann Lef" (prefixes of first and last names)
 *   emailPrefix the start of an email address: "ann.lefebvre12"
 *   filtered   license Salesforce + contactless (10% of the users)
 *   page200    the 200th page of 50 by keyset (cursor from page 199)
 * Each query's plan (explain, executionStats) is printed beside its figures: index, keys and documents
 * examined. Goal: every p95 under 50 ms.
 * Run: npm run bench -- search (or npx tsx bench/search.ts). BENCH_SEARCH_USERS=100000,1000000 sets
 * the sizes (ascending; each load adds to the previous one), BENCH_SEARCH_RUNS the samples per query.
 */
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import mongoose, { Types } from 'mongoose';
import { connectDatabase } from '../src/data/connection';
import { seed } from '../src/data/seed';
import { LicenseModel, ProfileModel, UserModel } from '../src/data/models';
import { startEmbeddedMongo } from '@identity-portal/embedded-mongo';
import { createAdministrator } from '../src/users/bootstrap';
import { loadActor, type Actor } from '../src/access/actor';
import { scopeFor, searchUsers } from '../src/users/user-directory';
import { userPageQuery, type UserFilters } from '../src/users/user-search';
import { searchTermsOf } from '../src/users/search-terms';

const SIZES = (process.env.BENCH_SEARCH_USERS || '100000,1000000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const RUNS = Number(process.env.BENCH_SEARCH_RUNS || 200);
const BATCH = 1_000;

const FIRST = [
  'Ann',
  'Ada',
  'Adam',
  'Alice',
  'André',
  'Anaïs',
  'Bob',
  'Béatrice',
  'Carl',
  'Chloé',
  'Dmitri',
  'Élodie',
  'Emma',
  'Fatima',
  'François',
  'Grace',
  'Hugo',
  'Ines',
  'Jean',
  'Jürgen',
  'Kenji',
  'Léa',
  'Louis',
  'Maria',
  'Mohamed',
  'Nora',
  'Olivier',
  'Paul',
  'Quentin',
  'Rosa',
  'Sofia',
  'Søren',
  'Thomas',
  'Ursula',
  'Victor',
  'Wei',
  'Xavier',
  'Yasmine',
  'Zoë',
  'Zoltan',
];
const SYLLABLES = [
  'le',
  'fe',
  'bvre',
  'mar',
  'tin',
  'du',
  'pont',
  'ber',
  'nard',
  'ro',
  'sen',
  'berg',
  'gar',
  'cía',
  'ló',
  'pez',
  'kow',
  'ski',
  'ha',
  'yashi',
  'ng',
  'uy',
  'en',
  'ol',
  'sen',
];
/** 625 last names of two syllables ("Lefe", "Marberg"...), so a 4-letter prefix holds a few of them. */
const LAST = SYLLABLES.flatMap((a) => SYLLABLES.map((b) => a[0].toUpperCase() + a.slice(1) + b));

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ø/g, 'o');
const nameOf = (i: number) => ({
  first: FIRST[(i * 7 + (i >> 5)) % FIRST.length],
  last: LAST[(i * 31 + (i >> 3)) % LAST.length],
});

interface Kinds {
  external: { profile: Types.ObjectId; license: Types.ObjectId };
  community: { profile: Types.ObjectId; license: Types.ObjectId };
  internal: { profile: Types.ObjectId; license: Types.ObjectId };
}

const T0 = Date.UTC(2024, 0, 1);

function makeUser(i: number, k: Kinds) {
  const { first, last } = nameOf(i);
  const email = `${ascii(first)}.${ascii(last)}${i}@example.com`;
  // 60% external contactless, 30% community users with a contact, 10% internal (contactless).
  const r = i % 10;
  const kind = r < 6 ? k.external : r < 9 ? k.community : k.internal;
  const user = {
    _id: new Types.ObjectId(),
    firstName: first,
    lastName: last,
    email,
    alias: ascii(first).slice(0, 4),
    username: email,
    communityNickname: `${first}${i}`,
    localeSidKey: 'en_US',
    languageLocaleKey: 'en_US',
    timeZoneSidKey: 'Europe/Paris',
    emailEncodingKey: 'UTF-8',
    profile: kind.profile,
    license: kind.license,
    userType: r < 9 ? 'customer' : 'internal',
    permissionSets: [],
    contact: r >= 6 && r < 9 ? new Types.ObjectId() : null,
    site: null,
    isActive: i % 20 !== 0,
    passwordHash: null,
    passwordChangedAt: null,
    sessionEpoch: 0,
    lastLoginAt: null,
    usernameAsSent: null,
    externalId: null,
    externalIdOwner: null,
    deprovisionedAt: null,
    createdAt: new Date(T0 + i * 1000),
    updatedAt: new Date(T0 + i * 1000),
  };
  return { ...user, searchTerms: searchTermsOf(user) };
}

/** The child: an in-memory embedded engine that prints its URI and runs until killed. */
async function databaseChild(): Promise<void> {
  const engine = await startEmbeddedMongo({ port: 0 });
  process.stdout.write(`${engine.uri}\n`);
}

function startDatabaseProcess(): Promise<{ child: ChildProcess; uri: string }> {
  const args = [
    ...process.execArgv.filter((a) => !a.startsWith('--max-old-space-size')),
    '--max-old-space-size=12288',
    __filename,
    '--db-child',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve({ child, uri: c.toString().trim() }));
    child.once('exit', (code) => reject(new Error(`database process exited with ${code}`)));
  });
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function load(from: number, to: number, kinds: Kinds): Promise<void> {
  const users = UserModel.collection;
  const inFlight: Promise<unknown>[] = [];
  for (let start = from; start < to; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, to - start) }, (_, k) => makeUser(start + k, kinds));
    inFlight.push(users.insertMany(batch, { ordered: false }));
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x: number) => Number(x.toFixed(x < 1 ? 3 : 1));

async function percentiles(run: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 10; i++) await run(i); // warm-up: JIT, views built on first use
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await run(i);
    times.push(ms(t));
  }
  times.sort((a, b) => a - b);
  return { p50: round(pct(times, 50)), p95: round(pct(times, 95)) };
}

/** The index a plan reads and what it examined, in one line. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- explain output is untyped JSON
function planSummary(explain: Record<string, any>): string {
  const text = JSON.stringify(explain.queryPlanner?.winningPlan ?? {});
  const stages = [...text.matchAll(/"stage":"([A-Z_]+)"/g)].map((m) => m[1]).join(' <- ');
  const index = /"indexName":"([^"]+)"/.exec(text)?.[1] ?? 'none';
  const bounds = /"indexBounds":\{"[^"]+":\["((?:[^"\\]|\\.)*)"/.exec(text)?.[1]?.replace(/\\"/g, '"');
  const s = explain.executionStats ?? {};
  return `${stages}; index ${index}${bounds ? ` ${bounds}` : ''}; keys ${s.totalKeysExamined}, docs ${s.totalDocsExamined}, returned ${s.nReturned}`;
}

interface Query {
  name: string;
  filters(i: number): UserFilters;
  cursor?: string;
}

async function measureSize(actor: Actor, users: number, dbPid: number) {
  const scope = await scopeFor(actor);
  const salesforce = String((await LicenseModel.findOne({ name: 'Salesforce' }).lean())!._id);
  const sample = (i: number) => nameOf((i * 7919) % users);
  const queries: Query[] = [
    { name: 'firstPage', filters: () => ({}) },
    {
      name: 'namePrefix',
      filters: (i) => {
        const { first, last } = sample(i);
        const shapes = [first.slice(0, 3), last.slice(0, 4), `${first} ${last.slice(0, 3)}`];
        return { q: shapes[i % shapes.length] };
      },
    },
    {
      name: 'emailPrefix',
      filters: (i) => ({ q: `${ascii(sample(i).first)}.${ascii(sample(i).last)}${(i * 7919) % users}`.slice(0, 14) }),
    },
    { name: 'filtered', filters: () => ({ licenseId: salesforce, contactless: true }) },
  ];
  // Page 200 by keyset: the cursor of page 199, reached by following nextCursor from the first page.
  let cursor: string | undefined;
  const walkStart = process.hrtime.bigint();
  for (let page = 1; page < 200; page++) cursor = (await searchUsers(actor, {}, cursor, 50)).nextCursor ?? undefined;
  const first199PagesMs = ms(walkStart);
  queries.push({ name: 'page200', filters: () => ({}), cursor });

  const ping = await percentiles(() => mongoose.connection.db!.admin().ping());
  const ids = (await UserModel.find().sort({ createdAt: -1, _id: -1 }).limit(1000).select('_id').lean()).map(
    (u) => u._id,
  );
  const byId = await percentiles((i) => UserModel.findById(ids[i % ids.length]).lean());
  const out: Record<string, unknown> = {
    users,
    baselines: { driverPingMs: ping, userByIdMs: byId },
  };
  for (const q of queries) {
    const figures = await percentiles((i) => searchUsers(actor, q.filters(i), q.cursor, 50));
    const page = await searchUsers(actor, q.filters(1), q.cursor, 50);
    const explain = (await userPageQuery(q.filters(1), scope, q.cursor, 50).explain(
      'executionStats',
    )) as unknown as Parameters<typeof planSummary>[0];
    out[q.name] = {
      ...figures,
      p95VsUserById: Number((figures.p95 / byId.p95).toFixed(1)),
      rows: page.records.length,
      example: JSON.stringify(q.filters(1)),
      plan: planSummary(explain),
    };
  }
  out.first199PagesMs = Math.round(first199PagesMs);
  out.engineRssMB = rssMB(dbPid);
  return out;
}

export async function run(): Promise<Record<string, unknown>> {
  const { child, uri } = await startDatabaseProcess();
  const db = await connectDatabase({ mongoUri: `${uri.replace(/\/$/, '')}/bench_search` });
  try {
    await seed();
    const admin = (await createAdministrator({
      username: 'bench-admin@example.com',
      password: 'lantern-copper-wisdom-77',
      lastName: 'Admin',
    }))!;
    const actor = (await loadActor(admin._id))!;
    const kind = async (profile: string) => {
      const p = (await ProfileModel.findOne({ name: profile }).lean())!;
      return { profile: p._id, license: p.license as Types.ObjectId };
    };
    const kinds: Kinds = {
      external: await kind('External Identity User'),
      community: await kind('Customer Community User'),
      internal: await kind('System Administrator'),
    };
    const results: Record<string, unknown> = {};
    let loaded = 0;
    let loadSeconds = 0;
    for (const size of SIZES) {
      const t = process.hrtime.bigint();
      await load(loaded, size, kinds);
      loadSeconds += ms(t) / 1000;
      loaded = size;
      process.stderr.write(`search: ${size} users loaded in ${Math.round(loadSeconds)} s, measuring\n`);
      const figures = await measureSize(actor, size, child.pid!);
      process.stderr.write(`search: ${JSON.stringify(figures)}\n`);
      results[`users${size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`}`] = {
        loadSecondsSoFar: Math.round(loadSeconds),
        loadUsersPerSec: Math.round(size / loadSeconds),
        ...figures,
      };
    }
    return { ...results, database: 'embedded, in memory, in its own process', goal: 'each p95 < 50 ms' };
  } finally {
    await db.close();
    child.kill('SIGKILL');
  }
}

if (process.argv.includes('--db-child')) {
  databaseChild().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify({ search: r }, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
