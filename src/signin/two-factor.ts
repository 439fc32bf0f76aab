/**
 * Two-factor sign-in with TOTP (RFC 6238, otplib): enrolment shows a secret (QR code and text) that
 * becomes active only once a correct code is entered; ten recovery codes are shown once and stored as
 * SHA-256 hashes (they are random, 50 bits each), each usable once. A code is accepted once: the time
 * step of the last accepted code is kept and moved on by a conditional update, so a replayed code, or
 * two requests racing with one code, get in at most once. Turning it off asks for the password again;
 * an admin can reset it (audited).
 */
import crypto from 'node:crypto';
import { generateSecret, generateURI, verifySync } from 'otplib';
import QRCode from 'qrcode';
import { trusted } from 'mongoose';
import { UserModel, type UserDoc } from '../data/models';
import { assertOwnerPresent, selfContext, type Actor, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, ValidationError } from '../shared/errors';
import { recheckPassword, type PasswordRecheckThrottle } from './password-recheck';
import { revokeOutstandingLinks } from '../account';
import { loadUserFor } from '../access';
import { MSG } from '../shared/messages';

export const ISSUER = 'Identity Portal';
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');
const audit = (user: UserDoc, origin: Origin, action: string) => recordAudit(selfContext(user, origin), { action, target: { type: 'User', id: user._id, label: user.username } });

function recoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[crypto.randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}
const normaliseRecovery = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');

export interface Enrolment { secret: string; uri: string; qrDataUrl: string }

/** Starts (or shows again) an enrolment: a pending secret, as an otpauth URI and a QR code image. */
export async function startEnrolment(user: UserDoc, opts: { fresh?: boolean; origin?: Origin } = {}): Promise<Enrolment> {
  assertOwnerPresent(opts.origin, 'Setting up two-factor sign-in');
  if (user.mfaEnabled) throw new ConflictError('Two-factor sign-in is already on.', {}, 'mfa_enabled');
  const current = await UserModel.findById(user._id).select('+mfa').lean();
  let secret = opts.fresh ? null : current?.mfa?.pendingSecret ?? null;
  if (!secret) {
    secret = generateSecret();
    // A user who never enrolled has mfa: null, and MongoDB refuses to set a field inside null (code 28):
    // replace the whole subdocument while two-factor is off.
    await UserModel.updateOne(
      { _id: user._id, mfaEnabled: false },
      { $set: { mfa: { secret: null, pendingSecret: secret, enabledAt: null, lastStep: 0, recoveryCodes: [] } } },
    );
  }
  const uri = generateURI({ issuer: ISSUER, label: user.username, secret });
  return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
}

function checkCode(secret: string, code: string, afterStep: number, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const res = verifySync({ secret, token: code, epoch: Math.floor(now.getTime() / 1000), epochTolerance: 30, afterTimeStep: afterStep || undefined } as never) as { valid: boolean; timeStep?: number };
  return res.valid && typeof res.timeStep === 'number' ? res.timeStep : null;
}

/** Completes enrolment with a correct code; returns the recovery codes, shown once. */
export async function confirmEnrolment(user: UserDoc, code: string, origin?: Origin, now: Date = new Date()): Promise<string[]> {
  assertOwnerPresent(origin, 'Setting up two-factor sign-in');
  const current = await UserModel.findById(user._id).select('+mfa').lean();
  const pending = current?.mfa?.pendingSecret;
  if (current?.mfaEnabled) throw new ConflictError('Two-factor sign-in is already on.', {}, 'mfa_enabled');
  if (!pending) throw new ConflictError('Start the set-up again: no key is waiting for confirmation.', {}, 'mfa_not_started');
  const step = checkCode(pending, code.replace(/\s/g, ''), 0, now);
  if (step === null) throw new ValidationError(MSG.fieldsNeedAttention, { code: 'That code is not correct. Enter the 6 digits your app shows now.' });
  const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
  const res = await UserModel.updateOne(
    { _id: user._id, mfaEnabled: false, 'mfa.pendingSecret': pending },
    { $set: { mfaEnabled: true, mfa: { secret: pending, pendingSecret: null, enabledAt: now, lastStep: step, recoveryCodes: codes.map((c) => sha256(normaliseRecovery(c))) } } },
  );
  if (res.modifiedCount !== 1) throw new ConflictError('Two-factor sign-in changed in the meantime; reload the page.', {}, 'mfa_changed');
  await audit(user, origin, 'user.mfa_enabled');
  return codes;
}

/**
 * Checks a second-factor code (6 digits) or a recovery code and uses it up. Returns what was used,
 * or null when it is wrong, already used, or two-factor is off.
 */
export async function useSecondFactor(userId: UserDoc['_id'], code: string, now: Date = new Date()): Promise<'totp' | 'recovery' | null> {
  const user = await UserModel.findById(userId).select('+mfa').lean();
  if (!user?.mfaEnabled || !user.mfa?.secret) return null;
  const compact = code.replace(/\s/g, '');
  if (/^\d{6}$/.test(compact)) {
    const step = checkCode(user.mfa.secret, compact, user.mfa.lastStep ?? 0, now);
    if (step === null) return null;
    const res = await UserModel.updateOne({ _id: user._id, mfaEnabled: true, 'mfa.lastStep': trusted({ $lt: step }) }, { $set: { 'mfa.lastStep': step } });
    return res.modifiedCount === 1 ? 'totp' : null;
  }
  const hash = sha256(normaliseRecovery(compact));
  if (normaliseRecovery(compact).length !== 10) return null;
  const res = await UserModel.updateOne({ _id: user._id, mfaEnabled: true, 'mfa.recoveryCodes': hash }, { $pull: { 'mfa.recoveryCodes': hash } });
  return res.modifiedCount === 1 ? 'recovery' : null;
}

export async function mfaStatus(userId: UserDoc['_id']): Promise<{ enabled: boolean; enabledAt: Date | null; recoveryCodesLeft: number }> {
  const user = await UserModel.findById(userId).select('+mfa').lean();
  return { enabled: Boolean(user?.mfaEnabled), enabledAt: user?.mfa?.enabledAt ?? null, recoveryCodesLeft: user?.mfa?.recoveryCodes?.length ?? 0 };
}

/** Turns two-factor off after the password is given again. */
export async function disableOwnMfa(user: UserDoc, password: string, recheck: PasswordRecheckThrottle, origin?: Origin): Promise<void> {
  assertOwnerPresent(origin, 'Turning two-factor sign-in off');
  if (!(await recheckPassword(user._id, password, recheck))) {
    throw new ValidationError(MSG.fieldsNeedAttention, { password: MSG.currentPasswordWrong });
  }
  await UserModel.updateOne({ _id: user._id }, { $set: { mfaEnabled: false, mfa: null } });
  await audit(user, origin, 'user.mfa_disabled');
}

/** An admin resets a user's two-factor (lost phone and codes): they enrol again at their next sign-in where required. */
export async function resetMfaAsAdmin(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  if (!user.mfaEnabled) throw new ConflictError('This user has not set up two-factor sign-in.', {}, 'mfa_not_enabled');
  await UserModel.updateOne({ _id: user._id }, { $set: { mfaEnabled: false, mfa: null }, $inc: { sessionEpoch: 1 } });
  await revokeOutstandingLinks(user._id);
  await recordAudit(ctx, { action: 'user.mfa_reset', target: { type: 'User', id: user._id, label: user.username } });
  return user;
}
