/** Driving the HTML forms like a browser: fetch the page, take its CSRF token, post. */
import request from 'supertest';
import type express from 'express';
// altcha-lib's types are declared ESM-first; Node loads its CommonJS build.
const { solveChallenge } = require('altcha-lib/v1') as typeof import('altcha-lib/v1', {
  with: { 'resolution-mode': 'require' },
});

/**
 * Does the proof of work a form asks for, as the widget would: fetches a challenge and finds its number
 * (the test app's POW_MAX_NUMBER keeps it to a few milliseconds). The value of the form's `altcha` field.
 */
export async function solvedPow(agent: request.Agent | express.Express): Promise<string> {
  // An Express app is a function; an agent is not.
  const client = typeof agent === 'function' ? request(agent) : agent;
  const challenge = (await client.get('/pow/challenge')).body as {
    algorithm: string;
    challenge: string;
    salt: string;
    signature: string;
    maxnumber: number;
  };
  const solution = await solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, challenge.maxnumber)
    .promise;
  if (!solution) throw new Error('proof of work not solved');
  return Buffer.from(
    JSON.stringify({
      algorithm: challenge.algorithm,
      challenge: challenge.challenge,
      number: solution.number,
      salt: challenge.salt,
      signature: challenge.signature,
    }),
  ).toString('base64');
}

export const GOOD_PASSWORD = 'violet-harbor-tractor-91';

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1];
}

/** `ip` is sent as X-Forwarded-For: it counts only in an app started with TRUST_PROXY. */
export async function postForm(
  agent: request.Agent,
  pagePath: string,
  actionPath: string,
  fields: Record<string, string | string[]>,
  ip?: string,
) {
  const get = agent.get(pagePath);
  if (ip) get.set('X-Forwarded-For', ip);
  const page = await get;
  // A form with the proof-of-work widget gets its work done, as a browser with JavaScript would.
  const pow = page.text.includes('<altcha-widget') && !('altcha' in fields) ? { altcha: await solvedPow(agent) } : {};
  const req = agent.post(actionPath).type('form');
  if (ip) req.set('X-Forwarded-For', ip);
  return req.send({ _csrf: csrfFrom(page.text), ...pow, ...fields });
}

export async function registerGuest(
  app: express.Express,
  fields: Partial<Record<'firstName' | 'lastName' | 'email' | 'password' | 'timeZone', string>> = {},
) {
  const agent = request.agent(app);
  const res = await postForm(agent, '/s/portal/register', '/s/portal/register', {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    password: GOOD_PASSWORD,
    ...fields,
  });
  // Registration signs nobody in (its page is the same whether the address was new or taken): the
  // guest logs in as a person would, so the agent is signed in where the site lets them in.
  if (res.status === 201)
    await logIn(agent, (fields.email ?? 'ada@example.com').trim(), fields.password ?? GOOD_PASSWORD);
  return { agent, res };
}

export async function logIn(agent: request.Agent, username: string, password: string, ip?: string, site = 'portal') {
  return postForm(agent, `/s/${site}/login`, `/s/${site}/login`, { username, password }, ip);
}
