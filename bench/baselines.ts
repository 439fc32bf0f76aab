/**
 * Baselines measured in the same run as the portal, each in its own process like the portal:
 * - argon2-verify / argon2-hash: raw argon2id operations per second at the given concurrency, with the
 *   portal's own parameters (ARGON2_PARAMS), and the latency of one operation alone;
 * - hello: a bare node:http hello-world server (prints its port), the ceiling for serving a page.
 */
import http from 'node:http';
import argon2 from 'argon2';
import { ARGON2_PARAMS } from '../src/domain/passwords';

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
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < count) await op();
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { perSecond: Number((count / seconds).toFixed(1)), oneAloneMs: Number(alone[5].toFixed(1)) };
}

function hello() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('hello world');
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`));
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
