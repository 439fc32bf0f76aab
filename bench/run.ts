/**
 * npm run bench: every benchmark, one after another, each in a fresh Node process (so one's heap and
 * database don't weigh on the next one's memory figures), never in parallel: the machine has two cores
 * and each benchmark measures its own baseline in the same run. Each prints its figures as JSON.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const BENCHMARKS = ['engine', 'login', 'ingest'];

for (const name of BENCHMARKS) {
  process.stderr.write(`running ${name}...\n`);
  const run = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
  if (run.status !== 0) {
    process.stderr.write(`bench/${name} failed (exit ${run.status})\n`);
    process.exit(1);
  }
}
