/** TOTP codes in tests: the current step's, or a later one's (accepted within the 30 s tolerance). */
import { generateSync } from 'otplib';
import type request from 'supertest';
import { postForm } from './forms';

export function totp(secret: string, stepsAhead = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + 30 * stepsAhead } as never);
}

export function secretIn(html: string): string {
  const m = /<code id="totp-secret">([A-Z2-7]+)<\/code>/.exec(html);
  if (!m) throw new Error('no TOTP secret in the page');
  return m[1];
}

export function recoveryCodesIn(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z0-9]{5}-[a-z0-9]{5})<\/code><\/li>/g)].map((m) => m[1]);
}

/** Turns two-factor on for the signed-in `agent` through the manage page at `base`; returns the key and the recovery codes. */
export async function enrolThroughPages(agent: request.Agent, base = '/s/portal/account/two-factor') {
  const setup = await postForm(agent, base, `${base}/setup`, {});
  const secret = secretIn(setup.text);
  const shown = await postForm(agent, base, `${base}/enable`, { code: totp(secret) });
  if (shown.status !== 200) throw new Error(`confirming the key answered ${shown.status}`);
  const codes = recoveryCodesIn(shown.text);
  const done = await savedThem(agent, base, codes);
  if (done.status !== 303) throw new Error(`"I saved them" answered ${done.status}`);
  return { secret, codes, page: shown };
}

/** The "I saved them" step after the codes are shown: two-factor turns on. */
export function savedThem(agent: request.Agent, base: string, codes: string[], saved = true) {
  return postForm(agent, base, `${base}/finish`, { codes: codes.join(' '), ...(saved ? { saved: 'yes' } : {}) });
}
