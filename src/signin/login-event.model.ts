import { Schema, model, type InferSchemaType } from 'mongoose';
import { DEFAULT_LOGIN_HISTORY_DAYS } from '../config';

/**
 * What a sign-in was proved with: a password alone, a password and a second step, a password whose second
 * step a remembered device skipped (`password+device`), or a passkey alone (two factors).
 */
export const LOGIN_METHODS = [
  'password',
  'password+totp',
  'password+recovery',
  'password+passkey',
  'password+device',
  'passkey',
] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number];

/**
 * Sign-in history (successes, failed passwords or codes), shown to the user on their account page and to
 * admins on the user page. A failure for a username nobody has is written too (`user` null, the attempted
 * `username` kept), so a refused sign-in costs the same writes whoever the name belongs to (no timing
 * tells them apart) and password spraying at made-up names leaves a trace. Each event expires at
 * `expiresAt` (LOGIN_HISTORY_DAYS after it happened) through a TTL index.
 */
const loginEventSchema = new Schema({
  user: { type: Schema.Types.ObjectId, ref: 'User', default: null },
  /** The username typed, normalised (failures only). */
  username: { type: String, default: undefined, maxlength: 200 },
  at: { type: Date, required: true, default: () => new Date() },
  ip: { type: String, default: null },
  userAgent: { type: String, default: null, maxlength: 300 },
  /** Browser, system and network of a sign-in (signin/authentication.ts deviceKey): a new one sends a notice. */
  device: { type: String, default: null, maxlength: 120 },
  area: { type: String, enum: ['site', 'admin', 'login-as'], required: true },
  outcome: { type: String, enum: ['success', 'failure'], default: 'success' },
  /** How a successful sign-in proved who it was (null: written before methods were recorded, or Login As). */
  method: { type: String, enum: [...LOGIN_METHODS, null], default: null },
  expiresAt: {
    type: Date,
    required: true,
    default: () => new Date(Date.now() + DEFAULT_LOGIN_HISTORY_DAYS * 24 * 3_600_000),
  },
});
loginEventSchema.index({ user: 1, at: -1 });
loginEventSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type LoginEvent = InferSchemaType<typeof loginEventSchema>;
export const LoginEventModel = model('LoginEvent', loginEventSchema);
