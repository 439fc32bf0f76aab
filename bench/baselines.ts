/**
 * Baselines measured in the same run as the portal, each in its own process like the portal:
 * - argon2-verify / argon2-hash: raw argon2id operations per second at the given concurrency, with the
 *   portal's own parameters (ARGON2_PARAMS) and the portal's thread pool size (src/threadpool.ts), the
 *   latency of one operation alone, and the latencies at that concurrency;
 * - hello: a bare node:http hello-world server (prints its port), the ceiling for serving a page.
 */
import '../src/threadpool'; // the same thread pool as the portal's
import http from 'node:http';
import argon2 from 'argon2';
import { ARGON2_PARAMS } from '../src/signin/passwords';

const PASSWORD = 'violet-harbor-tractor-91';

async function argon2Rate(mode: 'verify' | 'hash', concurrency: number, count: number) {
  const hash = await argon2.hash(PASSWORD, ARGON2_PARAMS);
  const op = () => (mode === 'verify' ? argon2.verify(hash, PASSWORD) : argon2.hash(PASSWORD, ARGON2_PARAMS));
  for (let i = 0; i < 4; i++) await op(); // warm up
  const alone: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = process.hrtime.bigint();
    await op();
    alone.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  alone.sort((a, b) => a - b);
  let next = 0;
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const t0 = process.hrtime.bigint();
        await op();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1));
  // The latency of the raw operations at this concurrency: the floor a portal's latency cannot go under.
  return {
    perSecond: Number((count / seconds).toFixed(1)),
    oneAloneMs: Number(alone[5].toFixed(1)),
    atConcurrency: { p50Ms: pct(50), p99Ms: pct(99) },
    cpuMsEach: Number(((cpu.user + cpu.system) / 1000 / count).toFixed(1)),
  };
}

function hello() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello world');
  });
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`),
  );
}

if (require.main === module) {
  const [mode, concurrency, count] = process.argv.slice(2);
  if (mode === 'hello') hello();
  else {
    argon2Rate(mode === 'argon2-hash' ? 'hash' : 'verify', Number(concurrency), Number(count)).then(
      (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
      (err) => {
        process.stderr.write(String(err));
        process.exit(1);
      },
    );
  }
}
