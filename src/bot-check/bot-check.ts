/**
 * Proof of work against bots, with no third party: ALTCHA's challenge (altcha-lib on the server, its
 * widget in the browser). The server signs a challenge (the SHA-256 of a random salt and a secret number
 * below POW_MAX_NUMBER, HMAC-signed with POW_HMAC_KEY); the browser finds the number (about half of
 * POW_MAX_NUMBER hashes) and sends it with the form; the server checks the signature, the answer and the
 * expiry, then spends the challenge (src/bot-check/spent-challenge.model.ts), so one solution passes once
 * on any instance.
 *
 * Without JavaScript nobody can do the work, so the form carries a signed no-script ticket instead:
 * accepted only POW_NOSCRIPT_WAIT_SECONDS after the page was served, and once. It costs a bot time
 * rather than CPU (the per-IP throttles bound how many it can hold at once); it costs a person a short
 * wait, which the page tells them about.
 *
 * Every refusal is a ValidationError on the `altcha` field, so the form comes back with what was typed.
 */
import crypto from 'node:crypto';
type Altcha = typeof import('altcha-lib/v1', { with: { 'resolution-mode': 'require' } });
type Challenge = Awaited<ReturnType<Altcha['createChallenge']>>;
type Payload = Exclude<Parameters<Altcha['verifySolution']>[0], string>;
import type { PowSettings } from '../config';
import { SpentChallengeModel } from './spent-challenge.model';
import { duplicateKeyField } from '../data/errors';
import { ValidationError } from '../shared/errors';

// The package's types are declared ESM-first; Node (and Jest) load its CommonJS build, whose own
// declarations these are.
const { createChallenge, extractParams, verifySolution } = require('altcha-lib/v1') as Altcha;

/** The form fields a proof travels in: the widget's payload, or the no-script ticket. */
export const POW_FIELD = 'altcha';
export const NOSCRIPT_FIELD = 'powWait';

export const POW_MESSAGES = {
  missing:
    'Confirm you are not a robot: wait until the check above the button says it is done, then send the form again.',
  invalid: 'The robot check did not pass. Send the form again; the page runs a new check.',
  expired: 'The robot check expired. Send the form again; the page runs a new check.',
  replayed: 'This robot check was already used. Send the form again; the page runs a new check.',
  tooEarly: (seconds: number) =>
    `Without JavaScript this form can be sent ${seconds} seconds after the page opened. Wait a moment, then send it again.`,
} as const;

export interface ProofFields {
  altcha?: string;
  powWait?: string;
}

/** The settings with the key resolved (config.ts secretFor). */
export type PowKeyedSettings = PowSettings & { hmacKey: string };

export interface BotCheck {
  readonly settings: PowKeyedSettings;
  /** A fresh signed challenge for the widget. */
  challenge(): Promise<Challenge>;
  /** A signed no-script ticket, valid from POW_NOSCRIPT_WAIT_SECONDS after now. */
  noscriptTicket(): string;
  /** Accepts a proof once, or throws ValidationError saying what to do. */
  verify(proof: ProofFields): Promise<void>;
}

const refuse = (fieldMessage: string): never => {
  throw new ValidationError(fieldMessage, { [POW_FIELD]: fieldMessage });
};

/** The widget's payload: base64 of a JSON object; anything else is not a solution. */
function decodePayload(value: string): Payload | null {
  if (value.length > 2000) return null;
  try {
    const p = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Record<string, unknown>;
    if (!p || typeof p !== 'object') return null;
    const ok =
      p.algorithm === 'SHA-256' &&
      typeof p.challenge === 'string' &&
      /^[0-9a-f]{64}$/.test(p.challenge) &&
      typeof p.salt === 'string' &&
      typeof p.signature === 'string' &&
      typeof p.number === 'number' &&
      Number.isSafeInteger(p.number);
    return ok ? (p as unknown as Payload) : null;
  } catch {
    return null;
  }
}

export function createBotCheck(settings: PowKeyedSettings, now: () => Date = () => new Date()): BotCheck {
  const sign = (text: string) => crypto.createHmac('sha256', settings.hmacKey).update(text).digest('base64url');

  /** Records the proof as used; a second use (any instance, any time before it expires) is refused. */
  async function spend(id: string, expiresAt: Date): Promise<void> {
    try {
      await SpentChallengeModel.create({ _id: id, expiresAt });
    } catch (err) {
      if (duplicateKeyField(err)) refuse(POW_MESSAGES.replayed);
      throw err;
    }
  }

  async function verifyWidget(value: string): Promise<void> {
    const payload = decodePayload(value);
    if (!payload) return refuse(POW_MESSAGES.invalid);
    // The expiry is checked here against the injected clock (altcha-lib's own check reads Date.now()).
    if (!(await verifySolution(payload, settings.hmacKey, false))) return refuse(POW_MESSAGES.invalid);
    const expires = Number(extractParams(payload).expires) * 1000;
    if (!Number.isFinite(expires) || expires <= now().getTime()) return refuse(POW_MESSAGES.expired);
    await spend(payload.challenge, new Date(expires));
  }

  async function verifyTicket(value: string): Promise<void> {
    const m = /^n\.(\d{1,15})\.([A-Za-z0-9_-]{16,32})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return refuse(POW_MESSAGES.invalid);
    const expected = sign(`noscript|${m[1]}|${m[2]}`);
    if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(m[3]))) return refuse(POW_MESSAGES.invalid);
    const issued = Number(m[1]);
    const at = now().getTime();
    if (at < issued + settings.noscriptWaitMs)
      return refuse(POW_MESSAGES.tooEarly(Math.ceil(settings.noscriptWaitMs / 1000)));
    if (at > issued + settings.expireMs) return refuse(POW_MESSAGES.expired);
    await spend(`n.${m[3]}`, new Date(issued + settings.expireMs));
  }

  return {
    settings,
    challenge: () =>
      createChallenge({
        hmacKey: settings.hmacKey,
        maxnumber: settings.maxNumber,
        expires: new Date(now().getTime() + settings.expireMs),
      }),
    noscriptTicket() {
      const issued = String(now().getTime());
      const nonce = crypto.randomBytes(12).toString('base64url');
      return `n.${issued}.${nonce}.${sign(`noscript|${issued}|${nonce}`)}`;
    },
    async verify(proof) {
      if (proof.altcha) return verifyWidget(proof.altcha);
      if (proof.powWait) return verifyTicket(proof.powWait);
      refuse(POW_MESSAGES.missing);
    },
  };
}
