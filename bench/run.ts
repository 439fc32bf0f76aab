/**
 * npm run bench: every benchmark in one process run, one after another (never in parallel: the machine
 * has two cores and each benchmark measures its own baseline in the same run).
 * Each module exports run(): Promise<object> and prints its figures as JSON when run alone.
 */
import path from 'node:path';

const BENCHMARKS = ['engine', 'login', 'ingest'];

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  for (const name of BENCHMARKS) {
    const mod = (await import(path.join(__dirname, name))) as { run?: () => Promise<unknown> };
    if (typeof mod.run !== 'function') throw new Error(`bench/${name} does not export run()`);
    process.stderr.write(`running ${name}...\n`);
    results[name] = await mod.run();
    process.stdout.write(`${JSON.stringify({ [name]: results[name] }, null, 2)}\n`);
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
