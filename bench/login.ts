/**
 * Login throughput through the whole stack (HTTP, CSRF, throttle store, argon2id, session store),
 * reported as a ratio of raw argon2id verifies per second with the same parameters, measured in the same
 * run on the same machine: 1.00 would mean the portal adds no cost on top of the hash.
 * Run: npm run bench (all benchmarks) or npx tsx bench/login.ts.
 */
import argon2 from 'argon2';
import type { Server } from 'node:http';
import request from 'supertest';
import { ARGON2_PARAMS, hashPassword } from '../src/domain/passwords';
import { startBenchApp } from './bench-app';
import { registerContactlessUser, findSiteBySlug } from '../src/domain/registration';

const PASSWORD = 'violet-harbor-tractor-91';
const CONCURRENCY = 2;

async function rawVerifiesPerSecond(count: number): Promise<number> {
  const hash = await hashPassword(PASSWORD);
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < count) await argon2.verify(hash, PASSWORD);
    }),
  );
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token on the login page');
  return m[1];
}

async function loginsPerSecond(app: Server, count: number): Promise<number> {
  // Each worker is one browser: fetch the form once, then log in repeatedly (a fresh session each time).
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const agent = request.agent(app);
      while (next++ < count) {
        const page = await agent.get('/s/portal/login');
        const res = await agent.post('/s/portal/login').type('form').send({ username: 'bench@example.com', password: PASSWORD, _csrf: csrfFrom(page.text) });
        if (res.status !== 303) throw new Error(`login answered ${res.status}`);
      }
    }),
  );
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

export async function run(): Promise<Record<string, number | string>> {
  const bench = await startBenchApp('login');
  try {
    const site = await findSiteBySlug('portal');
    await registerContactlessUser(site, { firstName: 'Bench', lastName: 'Mark', email: 'bench@example.com', password: PASSWORD }, { ip: '127.0.0.1' });
    await loginsPerSecond(bench.server, 5); // warm up
    const raw = await rawVerifiesPerSecond(60);
    const logins = await loginsPerSecond(bench.server, 60);
    return {
      argon2Params: `m=${ARGON2_PARAMS.memoryCost} t=${ARGON2_PARAMS.timeCost} p=${ARGON2_PARAMS.parallelism}`,
      concurrency: CONCURRENCY,
      rawArgon2VerifiesPerSec: Number(raw.toFixed(1)),
      loginsPerSec: Number(logins.toFixed(1)),
      ratio: Number((logins / raw).toFixed(2)),
    };
  } finally {
    await bench.stop();
  }
}

if (require.main === module) {
  run().then((r) => console.log(JSON.stringify({ login: r }, null, 2)), (err) => { console.error(err); process.exit(1); });
}
