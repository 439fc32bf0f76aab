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
import { SiteModel, UserModel, type UserDoc } from '../data/models';
import { assertOwnerPresent, selfContext, type Actor, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, ValidationError } from '../shared/errors';
import { recheckPassword, type PasswordRecheckThrottle } from './password-recheck';
import { forgetAllDevices } from './remembered-devices';
import { revokeOutstandingLinks } from '../account';
import { endProviderSessionsOf } from '../oidc';
import { loadUserFor } from '../access';
import { MSG } from '../shared/messages';
import { FEW_RECOVERY_CODES, sendSecurityNotice, whereOf, type NoticeWhere } from '../account';

export const ISSUER = 'Identity Portal';

/** The name an authenticator app lists the key under: the user's site (its branding name), or the portal for staff. */
export async function issuerFor(user: Pick<UserDoc, 'userType' | 'site'>): Promise<string> {
  if (user.userType === 'internal' || !user.site) return ISSUER;
  const site = await SiteModel.findById(user.site).select('name').lean();
  return site?.name ?? ISSUER;
}
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');
const audit = (user: UserDoc, origin: Origin, action: string) =>
  recordAudit(selfContext(user, origin), { action, target: { type: 'User', id: user._id, label: user.username } });

function recoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[crypto.randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}
const normaliseRecovery = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const hashRecovery = (code: string) => sha256(normaliseRecovery(code));

export interface Enrolment {
  secret: string;
  uri: string;
  qrDataUrl: string;
}

/** Starts (or shows again) an enrolment: a pending secret, as an otpauth URI and a QR code image. */
export async function startEnrolment(
  user: UserDoc,
  opts: { fresh?: boolean; origin?: Origin } = {},
): Promise<Enrolment> {
  assertOwnerPresent(opts.origin, 'Setting up two-factor sign-in');
  if (user.mfaEnabled) throw new ConflictError('Two-factor sign-in is already on.', {}, 'mfa_enabled');
  const current = await UserModel.findById(user._id).select('+mfa').lean();
  let secret = opts.fresh ? null : (current?.mfa?.pendingSecret ?? null);
  if (!secret) {
    secret = generateSecret();
    // A user who never enrolled has mfa: null, and MongoDB refuses to set a field inside null (code 28):
    // replace the whole subdocument while two-factor is off.
    await UserModel.updateOne(
      { _id: user._id, mfaEnabled: false },
      { $set: { mfa: { secret: null, pendingSecret: secret, enabledAt: null, lastStep: 0, recoveryCodes: [] } } },
    );
  }
  const uri = generateURI({ issuer: await issuerFor(user), label: user.username, secret });
  return { secret, uri, qrDataUrl: await QRCode.toDataURL(uri, { margin: 1, width: 220 }) };
}

function checkCode(secret: string, code: string, afterStep: number, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const res = verifySync({
    secret,
    token: code,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: 30,
    afterTimeStep: afterStep || undefined,
  } as never) as { valid: boolean; timeStep?: number };
  return res.valid && typeof res.timeStep === 'number' ? res.timeStep : null;
}

/**
 * Confirms the key with a correct code and returns ten recovery codes, shown once. Two-factor is not on
 * yet: the person first says they saved the codes (finishEnrolment), so nobody turns it on with codes they
 * never kept. Only the codes' hashes are stored meanwhile.
 */
export async function confirmEnrolment(
  user: UserDoc,
  code: string,
  origin?: Origin,
  now: Date = new Date(),
): Promise<string[]> {
  assertOwnerPresent(origin, 'Setting up two-factor sign-in');
  const current = await UserModel.findById(user._id).select('+mfa').lean();
  const pending = current?.mfa?.pendingSecret;
  if (current?.mfaEnabled) throw new ConflictError('Two-factor sign-in is already on.', {}, 'mfa_enabled');
  if (!pending)
    throw new ConflictError('Start the set-up again: no key is waiting for confirmation.', {}, 'mfa_not_started');
  const step = checkCode(pending, code.replace(/\s/g, ''), 0, now);
  if (step === null)
    throw new ValidationError(MSG.fieldsNeedAttention, {
      code: 'That code is not correct. Enter the 6 digits your app shows now.',
    });
  const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
  const res = await UserModel.updateOne(
    { _id: user._id, mfaEnabled: false, 'mfa.pendingSecret': pending },
    { $set: { 'mfa.pendingRecoveryCodes': codes.map(hashRecovery), 'mfa.pendingStep': step } },
  );
  if (res.modifiedCount !== 1)
    throw new ConflictError('Two-factor sign-in changed in the meantime; reload the page.', {}, 'mfa_changed');
  return codes;
}

/**
 * The codes the page shows again when "I saved them" was refused: only when they are exactly the ones
 * waiting (the form carries them back; their hashes must match), so no one can plant codes of their own.
 */
export async function pendingRecoveryCodes(user: UserDoc, shown: string): Promise<string[] | null> {
  const current = await UserModel.findById(user._id).select('+mfa').lean();
  const waiting = current?.mfaEnabled ? [] : (current?.mfa?.pendingRecoveryCodes ?? []);
  const codes = shown.split(/\s+/).filter(Boolean).slice(0, RECOVERY_CODES);
  const same =
    waiting.length === RECOVERY_CODES &&
    codes.length === waiting.length &&
    codes.every((c) => waiting.includes(hashRecovery(c)));
  return same ? codes : null;
}

/** "I saved them": turns two-factor on with the key and the codes confirmed before. */
export async function finishEnrolment(
  user: UserDoc,
  shown: string,
  saved: boolean,
  origin?: Origin,
  now: Date = new Date(),
): Promise<void> {
  assertOwnerPresent(origin, 'Setting up two-factor sign-in');
  const codes = await pendingRecoveryCodes(user, shown);
  if (!codes)
    throw new ConflictError(
      'Start the set-up again: these recovery codes are not the ones waiting.',
      {},
      'mfa_not_started',
    );
  if (!saved)
    throw new ValidationError(MSG.fieldsNeedAttention, {
      saved: 'Save your recovery codes (copy, download or print them), then tick this box.',
    });
  const current = (await UserModel.findById(user._id).select('+mfa').lean())!;
  const m = current.mfa!;
  const res = await UserModel.updateOne(
    { _id: user._id, mfaEnabled: false, 'mfa.pendingSecret': m.pendingSecret },
    {
      $set: {
        mfaEnabled: true,
        mfa: {
          secret: m.pendingSecret,
          pendingSecret: null,
          enabledAt: now,
          lastStep: m.pendingStep ?? 0,
          recoveryCodes: m.pendingRecoveryCodes,
          pendingRecoveryCodes: [],
          pendingStep: 0,
        },
      },
    },
  );
  if (res.modifiedCount !== 1)
    throw new ConflictError('Two-factor sign-in changed in the meantime; reload the page.', {}, 'mfa_changed');
  await audit(user, origin, 'user.mfa_enabled');
  await sendSecurityNotice(user, 'mfa-enabled', whereOf(origin), {}, now);
}

/** New recovery codes (password asked again): the old ones stop working at once; the new ones are shown once. */
export async function regenerateRecoveryCodes(
  user: UserDoc,
  password: string,
  recheck: PasswordRecheckThrottle,
  origin?: Origin,
): Promise<string[]> {
  assertOwnerPresent(origin, 'Making new recovery codes');
  if (!(await recheckPassword(user._id, password, recheck))) {
    throw new ValidationError(MSG.fieldsNeedAttention, { password: MSG.currentPasswordWrong });
  }
  const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
  const res = await UserModel.updateOne(
    { _id: user._id, mfaEnabled: true },
    { $set: { 'mfa.recoveryCodes': codes.map(hashRecovery) } },
  );
  if (res.modifiedCount !== 1)
    throw new ConflictError('Two-factor sign-in is off: set it up first.', {}, 'mfa_not_enabled');
  await audit(user, origin, 'user.mfa_recovery_codes_regenerated');
  return codes;
}

/**
 * Checks a second-factor code (6 digits) or a recovery code and uses it up. Returns what was used,
 * or null when it is wrong, already used, or two-factor is off.
 */
export async function useSecondFactor(
  userId: UserDoc['_id'],
  code: string,
  now: Date = new Date(),
  where: NoticeWhere = {},
): Promise<'totp' | 'recovery' | null> {
  const user = await UserModel.findById(userId).select('+mfa').lean();
  if (!user?.mfaEnabled || !user.mfa?.secret) return null;
  const compact = code.replace(/\s/g, '');
  if (/^\d{6}$/.test(compact)) {
    const step = checkCode(user.mfa.secret, compact, user.mfa.lastStep ?? 0, now);
    if (step === null) return null;
    const res = await UserModel.updateOne(
      { _id: user._id, mfaEnabled: true, 'mfa.lastStep': trusted({ $lt: step }) },
      { $set: { 'mfa.lastStep': step } },
    );
    return res.modifiedCount === 1 ? 'totp' : null;
  }
  const hash = sha256(normaliseRecovery(compact));
  if (normaliseRecovery(compact).length !== 10) return null;
  const used = await UserModel.findOneAndUpdate(
    { _id: user._id, mfaEnabled: true, 'mfa.recoveryCodes': hash },
    { $pull: { 'mfa.recoveryCodes': hash } },
    {
      returnDocument: 'after',
      projection: { mfa: 1, email: 1, username: 1, firstName: 1, lastName: 1, timeZoneSidKey: 1, languageLocaleKey: 1 },
    },
  ).lean();
  if (!used) return null;
  const left = used.mfa?.recoveryCodes?.length ?? 0;
  if (left <= FEW_RECOVERY_CODES) await sendSecurityNotice(used, 'recovery-codes-low', where, { codesLeft: left }, now);
  return 'recovery';
}

export async function mfaStatus(
  userId: UserDoc['_id'],
): Promise<{ enabled: boolean; enabledAt: Date | null; recoveryCodesLeft: number }> {
  const user = await UserModel.findById(userId).select('+mfa').lean();
  return {
    enabled: Boolean(user?.mfaEnabled),
    enabledAt: user?.mfa?.enabledAt ?? null,
    recoveryCodesLeft: user?.mfa?.recoveryCodes?.length ?? 0,
  };
}

/** Turns two-factor off after the password is given again. */
export async function disableOwnMfa(
  user: UserDoc,
  password: string,
  recheck: PasswordRecheckThrottle,
  origin?: Origin,
): Promise<void> {
  assertOwnerPresent(origin, 'Turning two-factor sign-in off');
  if (!(await recheckPassword(user._id, password, recheck))) {
    throw new ValidationError(MSG.fieldsNeedAttention, { password: MSG.currentPasswordWrong });
  }
  await UserModel.updateOne({ _id: user._id }, { $set: { mfaEnabled: false, mfa: null } });
  // Turned on again later, two-factor starts with no browser skipping it.
  await forgetAllDevices(user, selfContext(user, origin), 'mfa_disabled');
  await audit(user, origin, 'user.mfa_disabled');
  await sendSecurityNotice(user, 'mfa-disabled', whereOf(origin));
}

/** An admin resets a user's two-factor (lost phone and codes): they enrol again at their next sign-in where required. */
export async function resetMfaAsAdmin(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  if (!user.mfaEnabled) throw new ConflictError('This user has not set up two-factor sign-in.', {}, 'mfa_not_enabled');
  await UserModel.updateOne({ _id: user._id }, { $set: { mfaEnabled: false, mfa: null }, $inc: { sessionEpoch: 1 } });
  await endProviderSessionsOf(String(user._id));
  await revokeOutstandingLinks(user._id);
  await forgetAllDevices(user, ctx, 'mfa_reset');
  await recordAudit(ctx, { action: 'user.mfa_reset', target: { type: 'User', id: user._id, label: user.username } });
  await sendSecurityNotice(user, 'mfa-reset', { byAdmin: true });
  return user;
}
