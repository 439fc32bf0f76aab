/**
 * A load generator in its own process, so the portal being measured has the CPU the client does not
 * use (a client in the portal's own event loop would slow it down and flatter nothing). It drives the
 * flows a browser does, with keep-alive connections and a cookie jar per flow:
 * - login: GET the login form, POST it with the CSRF token and cookie, follow the redirect home;
 * - register: GET the register form, do its proof of work (as the widget would), POST a new person, who
 *   is asked to confirm their address ("Check your mail");
 * - page: GET the login form without cookies (an anonymous view);
 * - get: GET a path (the hello-world baseline).
 * Input: one JSON argument; output: one JSON line with the rate and the latency percentiles of a flow.
 */
import http from 'node:http';
// altcha-lib's types are declared ESM-first; Node loads its CommonJS build.
const { solveChallenge } = require('altcha-lib/v1') as typeof import('altcha-lib/v1', {
  with: { 'resolution-mode': 'require' },
});

export interface LoadJob {
  base: string;
  flow: 'login' | 'register' | 'page' | 'get';
  concurrency: number;
  count: number;
  /** Sign-in flow: client k signs in as usernames[k % length] (eight clients, eight people). */
  usernames?: string[];
  password?: string;
  path?: string;
  /** Prefix of the emails a register flow makes up (unique per run). */
  emailPrefix?: string;
}

export interface LoadResult {
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  count: number;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One person's browser: their cookies and their address. Each client comes from its own address (sent
 * as X-Forwarded-For; the bench's portal trusts one proxy), as people do: sign-in throttling and its
 * proof of work count per address, and eight people behind one address would be asked for it.
 */
class Visitor extends Map<string, string> {
  constructor(readonly ip: string) {
    super();
  }
}

function send(agent: http.Agent, base: URL, method: string, path: string, jar: Visitor, body?: string): Promise<Reply> {
  // As behind a TLS-terminating proxy: production cookies are Secure and only set for https requests.
  const headers: Record<string, string> = {
    'User-Agent': 'portal-bench/1 (load-client)',
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-For': jar.ip,
  };
  if (jar.size) headers.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  if (body !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: base.hostname, port: base.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair] = c.split(';');
          const i = pair.indexOf('=');
          if (/Expires=Thu, 01 Jan 1970/.test(c)) jar.delete(pair.slice(0, i));
          else jar.set(pair.slice(0, i), pair.slice(i + 1));
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const csrfFrom = (html: string) => {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1];
};

function expect(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status)
    throw new Error(
      `${what} answered ${reply.status}, expected ${status}: ${(/<main[\s\S]*?<\/main>/.exec(reply.body)?.[0] ?? reply.body).replace(/<[^>]+>|\s+/g, ' ').slice(0, 400)}`,
    );
  return reply;
}

/** The registration form's proof of work, solved as the widget does (the bench runs the portal at a low cost). */
async function solvedPow(agent: http.Agent, base: URL, jar: Visitor): Promise<string> {
  const c = JSON.parse(expect(await send(agent, base, 'GET', '/pow/challenge', jar), 200, 'the challenge').body) as {
    algorithm: string;
    challenge: string;
    salt: string;
    signature: string;
    maxnumber: number;
  };
  const solution = await solveChallenge(c.challenge, c.salt, c.algorithm, c.maxnumber).promise;
  if (!solution) throw new Error('proof of work not solved');
  const { algorithm, challenge, salt, signature } = c;
  return Buffer.from(JSON.stringify({ algorithm, challenge, number: solution.number, salt, signature })).toString(
    'base64',
  );
}

async function oneFlow(job: LoadJob, agent: http.Agent, base: URL, i: number, client: number): Promise<void> {
  const jar = new Visitor(`10.0.${client >> 8}.${(client & 255) + 1}`);
  if (job.flow === 'get') {
    expect(await send(agent, base, 'GET', job.path ?? '/', jar), 200, 'GET');
    return;
  }
  if (job.flow === 'page') {
    expect(await send(agent, base, 'GET', '/s/portal/login', jar), 200, 'the login page');
    return;
  }
  const form = job.flow === 'login' ? '/s/portal/login' : '/s/portal/register';
  const page = expect(await send(agent, base, 'GET', form, jar), 200, 'the form');
  const fields: Record<string, string> =
    job.flow === 'login'
      ? {
          _csrf: csrfFrom(page.body),
          username: job.usernames![client % job.usernames!.length],
          password: job.password!,
        }
      : {
          _csrf: csrfFrom(page.body),
          firstName: 'Bench',
          lastName: `Person ${i}`,
          email: `${job.emailPrefix ?? 'bench'}-${i}@example.com`,
          password: job.password!,
          passwordConfirm: job.password!,
        };
  if (page.body.includes('<altcha-widget')) fields.altcha = await solvedPow(agent, base, jar);
  const body = new URLSearchParams(fields).toString();
  if (job.flow === 'register') {
    // A new person is asked to confirm their address first (201, "Check your mail"), not signed in.
    const done = expect(await send(agent, base, 'POST', form, jar, body), 201, `POST ${form}`);
    if (!done.body.includes('Check your mail')) throw new Error('the registration did not end on "Check your mail"');
    return;
  }
  const posted = expect(await send(agent, base, 'POST', form, jar, body), 303, `POST ${form}`);
  const home = expect(await send(agent, base, 'GET', String(posted.headers.location), jar), 200, 'the signed-in page');
  if (!home.body.includes('Welcome, Bench')) throw new Error('the page after sign-in does not greet the person');
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const base = new URL(job.base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, client) => {
      for (let i = next++; i < job.count; i = next++) {
        const t0 = process.hrtime.bigint();
        await oneFlow(job, agent, base, i, client);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1));
  return {
    perSecond: Number((job.count / seconds).toFixed(1)),
    p50Ms: pct(50),
    p95Ms: pct(95),
    p99Ms: pct(99),
    count: job.count,
  };
}

if (require.main === module) {
  runLoad(JSON.parse(process.argv[2]) as LoadJob).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
