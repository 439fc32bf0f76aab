/**
 * npm run bench: every benchmark, one after another, each in a fresh Node process (so one's heap and
 * database don't weigh on the next one's memory figures), never in parallel: the machine has two cores
 * and each benchmark measures its own baseline in the same run. Each prints its figures as JSON; this
 * collects them into bench/results.json and bench/results.md (a table with the machine, the baselines
 * and the ratios). One benchmark alone: `npm run bench -- login` (names: engine, login, ingest, search, qualify, all).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const ALL = ['engine', 'login', 'ingest', 'search', 'qualify'];
/**
 * By default the two that measure issue 21's goals (sign-in cost, a bulk job beside the sign-in page),
 * at sizes that finish in about three minutes; `npm run bench -- all` (or names) runs the others too,
 * and BENCH_ROWS=100000 gives the ingest its full size.
 */
const DEFAULT = ['login', 'ingest'];
const args = process.argv.slice(2);
const chosen = args.includes('all') ? ALL : args.filter((a) => ALL.includes(a));
const BENCHMARKS = (chosen.length ? chosen : DEFAULT).filter((name) =>
  fs.existsSync(path.join(__dirname, `${name}.js`)),
);
const SOURCE_DIR = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../bench' : '.');

const results: Record<string, unknown> = {
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((l) => Number(l.toFixed(2))),
  },
  date: new Date().toISOString(),
};

for (const name of BENCHMARKS) {
  process.stderr.write(`running ${name}...\n`);
  const run = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(run.stdout);
  if (run.status !== 0) {
    process.stderr.write(`bench/${name} failed (exit ${run.status})\n`);
    process.exit(1);
  }
  Object.assign(results, JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as Record<string, unknown>);
}

/** Flattens nested figures into rows: `login.in-process.loginRatio | 0.91`. */
function rows(value: unknown, prefix: string): [string, string][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [[prefix, Array.isArray(value) ? value.join(', ') : String(value)]];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => rows(v, prefix ? `${prefix}.${k}` : k));
}

fs.writeFileSync(path.join(SOURCE_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
const table = ['| figure | value |', '|---|---|', ...rows(results, '').map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
fs.writeFileSync(
  path.join(SOURCE_DIR, 'results.md'),
  `# Benchmark results\n\nWritten by \`npm run bench\`; ratios compare with baselines measured in the same run.\n\n${table}\n`,
);
process.stderr.write(`wrote ${path.join(SOURCE_DIR, 'results.json')} and results.md\n`);
