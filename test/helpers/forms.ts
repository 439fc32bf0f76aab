/** Driving the HTML forms like a browser: fetch the page, take its CSRF token, post. */
import request from 'supertest';
import type express from 'express';

export const GOOD_PASSWORD = 'violet-harbor-tractor-91';

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1];
}

/** `ip` is sent as X-Forwarded-For: it counts only in an app started with TRUST_PROXY. */
export async function postForm(agent: request.Agent, pagePath: string, actionPath: string, fields: Record<string, string | string[]>, ip?: string) {
  const page = await agent.get(pagePath);
  const req = agent.post(actionPath).type('form');
  if (ip) req.set('X-Forwarded-For', ip);
  return req.send({ _csrf: csrfFrom(page.text), ...fields });
}

export async function registerGuest(app: express.Express, fields: Partial<Record<'firstName' | 'lastName' | 'email' | 'password' | 'timeZone', string>> = {}) {
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
  if (res.status === 201) await logIn(agent, (fields.email ?? 'ada@example.com').trim(), fields.password ?? GOOD_PASSWORD);
  return { agent, res };
}

export async function logIn(agent: request.Agent, username: string, password: string, ip?: string, site = 'portal') {
  return postForm(agent, `/s/${site}/login`, `/s/${site}/login`, { username, password }, ip);
}
