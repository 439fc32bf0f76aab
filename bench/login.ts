/**
 * Sign-in, registration and page serving through the whole portal, each against a baseline measured in
 * the same run on the same machine (these machines are shared and noisy, so only ratios compare):
 * - sign-in: logins per second (GET the form, POST it, follow the redirect) at 8 concurrent clients,
 *   divided by raw argon2id verifies per second with the same parameters at the same concurrency;
 * - registration: registrations per second divided by raw argon2id hashes per second;
 * - pages: the login form served per second divided by a bare node:http hello-world;
 * - latency: p50/p95/p99 of a sign-in against one bare verify; the portal's peak RSS under that load.
 * The portal runs as `node dist/src/server.js` would in production (NODE_ENV=production behind a TLS
 * proxy, LOG_LEVEL=info), with the embedded engine in its worker thread (plain `npm start`) and with the database
 * in its own process (`npm run db`); the load comes from another process (load-client.ts).
 * Run: npm run bench (all benchmarks) or `npm run build && node dist/bench/login.js`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import type { LoadJob, LoadResult } from './load-client';
import { engineCliPath } from './engine-cli';

const CONCURRENCY = 8;
/** The Node flags `npm start` runs the server with (package.json), read from there so they never drift. */
const START_NODE_FLAGS = (() => {
  const root = path.extname(__filename) === '.ts' ? path.join(__dirname, '..') : path.join(__dirname, '..', '..'); // bench/ or dist/bench/
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return (/node ((?:--\S+ )*)dist\/src\/server\.js/.exec(pkg.scripts.start)?.[1] ?? '')
    .trim()
    .split(' ')
    .filter(Boolean);
})();
const PASSWORD = 'violet-harbor-tractor-91';
const LOGINS = Number(process.env.BENCH_LOGINS || 240);
const REGISTRATIONS = Number(process.env.BENCH_REGISTRATIONS || 96);
const PAGES = Number(process.env.BENCH_PAGES || 3000);

/** How to run a sibling script: compiled (dist) or from TypeScript through tsx. */
function nodeArgs(file: string): string[] {
  const ts = path.extname(__filename) === '.ts';
  const full = path.isAbsolute(file) ? file : path.join(__dirname, `${file}${ts ? '.ts' : '.js'}`);
  return ts ? ['-r', require.resolve('tsx/cjs'), full] : [full];
}

function runToEnd(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${file} exited with ${code}`))));
  });
}

/** Starts a long-running child and resolves with the first stdout line that `ready` accepts. */
function startChild(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (line: string) => boolean,
  nodeFlags: string[] = [],
): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, ...nodeArgs(file), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    let done = false;
    child.stdout!.on('data', (c: Buffer) => {
      if (done) return; // keep draining so the child never blocks on a full pipe
      buffer += c;
      for (const line of buffer.split('\n').slice(0, -1)) {
        if (ready(line)) {
          done = true;
          resolve({ child, line });
          return;
        }
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`${file} exited with ${code} before it was ready`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Linux's clock ticks per second for /proc CPU times (USER_HZ, 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time used so far (user + system, ms) by a process's main thread and by all its other threads (the
 * thread pool where argon2 runs, V8's garbage collection and compiler helpers), from /proc: CPU time, not
 * wall time, so other work on a shared machine does not count.
 */
function threadCpuMs(pid: number): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime, stime
    if (Number(tid) === pid) out.main += ms;
    else out.others += ms;
  }
  return out;
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const load = async (job: LoadJob): Promise<LoadResult> =>
  JSON.parse(await runToEnd('load-client', [JSON.stringify(job)])) as LoadResult;

async function startPortal(database: 'in-process' | 'own-process') {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-bench-'));
  const children: ChildProcess[] = [];
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    TRUST_PROXY: '1',
    SESSION_SECRET: 'bench-session-secret-0123456789abcdefghijklmnop',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    MONGODB_URI: '',
    // Registration's proof of work at the tests' cost: its solving is the client's CPU, and the load
    // client shares this machine with the portal; the server's check costs the same at any cost.
    POW_MAX_NUMBER: '2000',
  };
  if (database === 'own-process') {
    const db = await startChild(
      engineCliPath(),
      [],
      { DB_PORT: String(await freePort()), DATA_DIR: path.join(dataDir, 'dbserver') },
      (l) => l.includes('"uri"'),
    );
    children.push(db.child);
    env.MONGODB_URI = `${(JSON.parse(db.line) as { uri: string }).uri.replace(/\/?$/, '/')}portal`;
  } else {
    delete env.MONGODB_URI;
  }
  // With the Node flags of `npm start` (package.json): a small young generation, see the README.
  const portal = await startChild(
    '../src/server',
    [],
    env,
    (l) => l.includes('Identity portal listening'),
    START_NODE_FLAGS,
  );
  children.push(portal.child);
  return {
    base: `http://127.0.0.1:${env.PORT}`,
    pid: portal.child.pid!,
    dbPid: database === 'own-process' ? children[0].pid! : null,
    async stop() {
      for (const c of children.reverse()) await stop(c);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function measurePortal(database: 'in-process' | 'own-process') {
  const portal = await startPortal(database);
  try {
    const common = { base: portal.base, concurrency: CONCURRENCY, password: PASSWORD };
    // Eight clients are eight people: one person signing in eight times at once would be throttled.
    await load({ ...common, flow: 'register', count: CONCURRENCY, concurrency: 1, emailPrefix: 'login-user' });
    const usernames = Array.from({ length: CONCURRENCY }, (_, i) => `login-user-${i}@example.com`);
    await load({ ...common, flow: 'login', count: 16, usernames }); // warm up
    const cpuBefore = threadCpuMs(portal.pid);
    const dbBefore = portal.dbPid ? threadCpuMs(portal.dbPid) : null;
    const login = await load({ ...common, flow: 'login', count: LOGINS, usernames });
    const cpuAfter = threadCpuMs(portal.pid);
    const dbAfter = portal.dbPid ? threadCpuMs(portal.dbPid) : null;
    const perLogin = (ms: number) => Number((ms / LOGINS).toFixed(1));
    // Where a sign-in's CPU goes: the event loop (HTTP, sessions, the driver, mongoose, the in-process
    // engine), the other threads (argon2 in the pool, V8's GC helpers), the database process if any.
    const cpuMsPerLogin = {
      portalMainThread: perLogin(cpuAfter.main - cpuBefore.main),
      portalOtherThreads: perLogin(cpuAfter.others - cpuBefore.others),
      databaseProcess:
        dbBefore && dbAfter ? perLogin(dbAfter.main + dbAfter.others - dbBefore.main - dbBefore.others) : 0,
    };
    const peakRss = peakRssMb(portal.pid);
    const register = await load({
      ...common,
      flow: 'register',
      count: REGISTRATIONS,
      emailPrefix: `bench-${database}`,
    });
    const page = await load({ ...common, flow: 'page', count: PAGES });
    return { login, register, page, peakRssMbUnderLogin: peakRss, cpuMsPerLogin };
  } finally {
    await portal.stop();
  }
}

export async function run() {
  const verify = JSON.parse(await runToEnd('baselines', ['argon2-verify', String(CONCURRENCY), String(LOGINS)])) as {
    perSecond: number;
    oneAloneMs: number;
    atConcurrency: { p50Ms: number; p99Ms: number };
    cpuMsEach: number;
  };
  const hash = JSON.parse(await runToEnd('baselines', ['argon2-hash', String(CONCURRENCY), String(REGISTRATIONS)])) as {
    perSecond: number;
    oneAloneMs: number;
  };
  const hello = await startChild('baselines', ['hello'], {}, (l) => l.startsWith('{'));
  const helloPort = (JSON.parse(hello.line) as { port: number }).port;
  const bare = await load({
    base: `http://127.0.0.1:${helloPort}`,
    flow: 'get',
    count: PAGES,
    concurrency: CONCURRENCY,
  });
  await stop(hello.child);

  const results: Record<string, unknown> = {
    concurrency: CONCURRENCY,
    rawArgon2VerifiesPerSec: verify.perSecond,
    rawArgon2HashesPerSec: hash.perSecond,
    oneBareVerifyMs: verify.oneAloneMs,
    // Raw verifies at the same concurrency wait for each other on the cores: the floor of login latency.
    rawVerifyLatencyMsAtConcurrency: verify.atConcurrency,
    // CPU time of one verify while they run side by side (more than one alone: the cores share caches).
    rawVerifyCpuMsAtConcurrency: verify.cpuMsEach,
    helloWorldPerSec: bare.perSecond,
  };
  for (const database of ['in-process', 'own-process'] as const) {
    const r = await measurePortal(database);
    // In-process: `npm start` without MONGODB_URI, the embedded engine in a worker thread of the portal.
    results[database === 'in-process' ? 'engine-thread' : database] = {
      loginsPerSec: r.login.perSecond,
      loginRatio: Number((r.login.perSecond / verify.perSecond).toFixed(2)),
      // The same ratio in CPU time, which the neighbours on a shared machine do not move: one raw verify's
      // CPU over all the CPU a sign-in costs (the portal's threads, the engine's thread, a database process).
      loginCpuRatio: Number(
        (
          verify.cpuMsEach /
          (r.cpuMsPerLogin.portalMainThread + r.cpuMsPerLogin.portalOtherThreads + r.cpuMsPerLogin.databaseProcess)
        ).toFixed(2),
      ),
      loginLatencyMs: { p50: r.login.p50Ms, p95: r.login.p95Ms, p99: r.login.p99Ms },
      loginP99OverOneVerify: Number((r.login.p99Ms / verify.oneAloneMs).toFixed(1)),
      loginP99OverRawVerifyP99: Number((r.login.p99Ms / verify.atConcurrency.p99Ms).toFixed(1)),
      cpuMsPerLogin: r.cpuMsPerLogin,
      registrationsPerSec: r.register.perSecond,
      registrationRatio: Number((r.register.perSecond / hash.perSecond).toFixed(2)),
      loginPagesPerSec: r.page.perSecond,
      pageRatio: Number((r.page.perSecond / bare.perSecond).toFixed(2)),
      peakRssMbUnderLogin: r.peakRssMbUnderLogin,
    };
  }
  return results;
}

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify({ login: r }, null, 2)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
