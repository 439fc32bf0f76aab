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
  const done = await postForm(agent, base, `${base}/enable`, { code: totp(secret) });
  if (done.status !== 200) throw new Error(`enabling two-factor answered ${done.status}`);
  return { secret, codes: recoveryCodesIn(done.text), page: done };
}
