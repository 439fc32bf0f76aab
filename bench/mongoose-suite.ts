/**
 * Runs mongoose's own mocha test suite against the embedded engine (issue 21): `npm run test:mongoose`.
 *
 *   MONGOOSE_SRC=/tmp/mongoose-src npm run test:mongoose [-- test/document.test.js ...]
 *
 * MONGOOSE_SRC is a checkout of mongoose (the npm package ships no tests) whose dependencies and mocha
 * resolve from its node_modules; nothing of it is committed here. The engine starts in this process;
 * each test file runs in its own mocha process with MONGOOSE_TEST_URI pointing at the engine (what
 * mongoose's test/common.js reads), without mongoose's .mocharc (its fixture would start
 * mongodb-memory-server). After each file a health probe checks the engine: ping, an insert and find
 * round trip that must answer exactly, and Object.prototype (and friends) of the engine's process
 * untouched. A failed probe stops the run: every later file would fail for the wrong reason.
 *
 * Failures are compared with bench/mongoose-expected-failures.json (documented refusals only, each
 * with its reason): the run fails on any other failure, and on a listed failure that now passes (the
 * list must stay true). Environment: MONGOOSE_FILE_TIMEOUT_MS (default 600000) per file,
 * MONGOOSE_REPORT=<path> writes the full result as JSON.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedMongo } from '@identity-portal/embedded-mongo';

interface Expected {
  file: string;
  title: string;
  reason: string;
}
interface FileResult {
  file: string;
  passes: number;
  failures: { title: string; message: string }[];
  exitCode: number | null;
  timedOut: boolean;
  health: string | null;
}

const ROOT = path.resolve(__dirname, '..');
const EXPECTED_PATH = path.join(ROOT, 'bench', 'mongoose-expected-failures.json');

function prototypeShape(): string {
  return [Object.prototype, Object, Array.prototype, Function.prototype, String.prototype]
    .map((o) => Object.getOwnPropertyNames(o).sort().join())
    .join('|');
}

/** Ping, an exact insert/find round trip, and the process's prototypes as they were at start. */
async function probe(uri: string, pristine: string): Promise<string | null> {
  const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    const db = client.db('mongoose_suite_health');
    await db.command({ ping: 1 });
    const c = db.collection<{ _id: string; n: number }>('probe');
    await c.deleteMany({});
    await c.insertOne({ _id: 'p', n: 1 });
    await c.updateOne({ _id: 'p' }, { $inc: { n: 1 } });
    const got = JSON.stringify(await c.find({ n: { $in: [2] } }).toArray());
    if (got !== '[{"_id":"p","n":2}]') return `round trip answered ${got}`;
    if (prototypeShape() !== pristine)
      return 'Object.prototype (or Object, Array.prototype, Function.prototype) of the engine process changed';
    if (({} as Record<string, unknown>).polluted !== undefined) return 'Object.prototype.polluted is set';
    return null;
  } catch (err) {
    return `probe failed: ${(err as Error).message}`;
  } finally {
    await client.close();
  }
}

function mochaBin(src: string): string {
  const bin = path.join(src, 'node_modules', 'mocha', 'bin', 'mocha.js');
  if (!existsSync(bin))
    throw new Error(`mocha not found at ${bin}: install mongoose's test dependencies in MONGOOSE_SRC (see README)`);
  return bin;
}

/** One test file in its own mocha process; its results come back through mocha's JSON reporter. */
function runFile(src: string, file: string, uri: string, timeoutMs: number): Promise<FileResult> {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'mongoose-suite-')), 'result.json');
  const args = [
    mochaBin(src),
    '--no-config',
    '--ui',
    'bdd',
    '--exit',
    '--timeout',
    '20000',
    '--reporter',
    'json',
    '--reporter-option',
    `output=${out}`,
    file,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=MONGOOSE', ...args], {
      cwd: src,
      env: { ...process.env, MONGOOSE_TEST_URI: uri, START_REPLICA_SET: '', MONGOOSE_REPLSET_URI: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      const result: FileResult = { file, passes: 0, failures: [], exitCode, timedOut, health: null };
      try {
        const json = JSON.parse(readFileSync(out, 'utf8')) as {
          stats: { passes: number };
          failures: { fullTitle: string; err: { message?: string } }[];
        };
        result.passes = json.stats.passes;
        result.failures = json.failures.map((f) => ({
          title: f.fullTitle,
          message: (f.err.message ?? '').split('\n')[0].slice(0, 300),
        }));
      } catch {
        result.failures.push({
          title: '(file did not report)',
          message: timedOut ? `timed out after ${timeoutMs} ms` : stderr.split('\n').slice(-5).join(' '),
        });
      }
      resolve(result);
    });
  });
}

async function main(): Promise<number> {
  const src = process.env.MONGOOSE_SRC;
  if (!src || !existsSync(path.join(src, 'test', 'common.js'))) {
    console.error(
      'Set MONGOOSE_SRC to a mongoose checkout (with test/common.js and its test dependencies installed); see README, "Mongoose test suite".',
    );
    return 2;
  }
  const wanted = (
    JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'mongoose', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const have = (JSON.parse(readFileSync(path.join(src, 'package.json'), 'utf8')) as { version: string }).version;
  if (have !== wanted) console.warn(`warning: MONGOOSE_SRC is mongoose ${have}; package-lock has ${wanted}`);
  const files = process.argv.slice(2).length
    ? process.argv.slice(2)
    : readdirSync(path.join(src, 'test'))
        .filter((f) => f.endsWith('.test.js'))
        .sort()
        .map((f) => path.join('test', f));
  const expected = JSON.parse(readFileSync(EXPECTED_PATH, 'utf8')) as Expected[];
  const timeoutMs = Number(process.env.MONGOOSE_FILE_TIMEOUT_MS ?? 600000);

  const pristine = prototypeShape();
  const engine = await startEmbeddedMongo({ port: 0 });
  const results: FileResult[] = [];
  try {
    for (const file of files) {
      const started = Date.now();
      const r = await runFile(src, file, engine.uri, timeoutMs);
      r.health = await probe(engine.uri, pristine);
      results.push(r);
      console.log(
        `${r.health ? 'UNHEALTHY' : 'ok'} ${file}: ${r.passes} passed, ${r.failures.length} failed (${Date.now() - started} ms)${r.health ? ` — ${r.health}` : ''}`,
      );
      if (r.health) break;
    }
  } finally {
    await engine.stop();
  }

  const isExpected = (file: string, title: string) => expected.some((e) => e.file === file && e.title === title);
  const unexpected = results.flatMap((r) =>
    r.failures.filter((f) => !isExpected(r.file, f.title)).map((f) => ({ file: r.file, ...f })),
  );
  const ran = new Set(results.map((r) => r.file));
  const nowPassing = expected.filter(
    (e) => ran.has(e.file) && !results.find((r) => r.file === e.file)!.failures.some((f) => f.title === e.title),
  );
  const unhealthy = results.filter((r) => r.health);
  const passes = results.reduce((n, r) => n + r.passes, 0);
  const failures = results.reduce((n, r) => n + r.failures.length, 0);
  console.log(
    `\n${results.length} files, ${passes} tests passed, ${failures} failed (${failures - unexpected.length} expected)`,
  );
  for (const u of unexpected) console.log(`UNEXPECTED ${u.file} :: ${u.title}\n    ${u.message}`);
  for (const e of nowPassing) console.log(`NOW PASSING (remove from the list) ${e.file} :: ${e.title}`);
  if (process.env.MONGOOSE_REPORT)
    writeFileSync(
      process.env.MONGOOSE_REPORT,
      JSON.stringify({ mongoose: have, results, unexpected, nowPassing }, null, 2),
    );
  return unhealthy.length || unexpected.length || nowPassing.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
