/**
 * `npm run db` has no authentication, so it binds to loopback only: a DB_HOST beyond loopback is refused
 * with a clear message and exit code 78 (EX_CONFIG) before anything listens; loopback still serves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { isLoopback, startEmbeddedMongo } from '../../src';

const CLI = path.join(__dirname, '../../src/cli.ts');

function runCli(env: Record<string, string>) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-cli-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI], {
    env: { ...process.env, DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, dataDir, out: () => stdout, err: () => stderr };
}

it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com'])(
  'refuses DB_HOST=%s with exit code 78 and says why, without creating its files',
  async (host) => {
    const run = runCli({ DB_HOST: host, DB_PORT: '0' });
    expect(await run.exited).toBe(78);
    expect(run.err()).toContain(`refusing DB_HOST=${host}`);
    expect(run.err()).toMatch(/no authentication/);
    expect(run.out()).not.toMatch(/listening/);
    expect(fs.existsSync(path.join(run.dataDir, 'db'))).toBe(false);
  },
  30_000,
);

it('serves on a loopback DB_HOST and stops cleanly on SIGTERM', async () => {
  const run = runCli({ DB_HOST: '127.0.0.1', DB_PORT: '0' });
  const uri = await new Promise<string>((resolve, reject) => {
    run.child.stdout.on('data', () => {
      const line = run
        .out()
        .split('\n')
        .find((l) => l.includes('listening'));
      if (line) resolve(JSON.parse(line).uri);
    });
    void run.exited.then((code) => reject(new Error(`exited ${code}: ${run.err()}`)));
  });
  const client = await MongoClient.connect(uri);
  expect((await client.db('x').command({ ping: 1 })).ok).toBe(1);
  await client.close();
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
}, 30_000);

it('startEmbeddedMongo refuses a non-loopback host too', async () => {
  await expect(startEmbeddedMongo({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/only binds to a loopback address/);
});

it('tells loopback addresses from others', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
    expect(isLoopback(h)).toBe(true);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '127.0.0.1.example.com', 'localhost.example.com', ''])
    expect(isLoopback(h)).toBe(false);
});
