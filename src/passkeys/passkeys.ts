/**
 * Passkeys (WebAuthn, @simplewebauthn/server): a user registers several, names, renames and removes them;
 * signs in with one (user verification required, so one passkey is two factors: something held and a
 * PIN or biometric), or uses one as the second step after a password. The browser's answer is checked
 * against a challenge taken once from the session (challenges.ts), the configured rpID and origin
 * (relying-party.ts) and the stored public key; the signature counter only moves forward, by a
 * conditional update, so a cloned authenticator (or two requests racing with one answer) is refused.
 */
import { Types } from 'mongoose';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { PasskeyModel, UserModel, type UserDoc } from '../data/models';
import { assertOwnerPresent, loadUserFor, selfContext, type Actor, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { assertMaySignIn, sendSecurityNotice, whereOf } from '../account';
import { isSiteMember } from '../sites';
import { recheckPassword, type PasswordRecheckThrottle } from '../signin';
import { AuthenticationError, ConflictError, NotFoundError, ValidationError } from '../shared/errors';
import { MSG } from '../shared/messages';
import { parseIdOr404 } from '../shared/ids';
import { relyingParty, type RelyingParty } from './relying-party';
import { takeChallenge, type ChallengeStore } from './challenges';

/** More than this many passkeys per person is a list nobody can keep track of. */
export const MAX_PASSKEYS = 10;
const NAME_MAX = 60;
const TIMEOUT_MS = 120_000;
const GONE = 'That passkey does not exist (it may have been removed already).';

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
}

const view = (p: {
  _id: Types.ObjectId;
  name: string;
  createdAt: Date;
  lastUsedAt?: Date | null;
  backedUp?: boolean | null;
}): PasskeyView => ({
  id: String(p._id),
  name: p.name,
  createdAt: p.createdAt,
  lastUsedAt: p.lastUsedAt ?? null,
  backedUp: Boolean(p.backedUp),
});

export async function listPasskeys(userId: Types.ObjectId): Promise<PasskeyView[]> {
  const rows = await PasskeyModel.find({ user: userId }).sort({ createdAt: 1 }).lean();
  return rows.map(view);
}

export async function countPasskeys(userId: Types.ObjectId): Promise<number> {
  return PasskeyModel.countDocuments({ user: userId });
}

export async function hasPasskeys(userId: Types.ObjectId): Promise<boolean> {
  return Boolean(await PasskeyModel.exists({ user: userId }));
}

function readName(name: string): string {
  const n = name.normalize('NFKC').replace(/\s+/g, ' ').trim();
  if (!n)
    throw new ValidationError(MSG.fieldsNeedAttention, {
      name: 'Give this passkey a name, such as the device it is on.',
    });
  if (n.length > NAME_MAX) throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.atMostCharacters(NAME_MAX) });
  return n;
}

/** The browser's answer (the JSON string the page's script posts): an object, or a refusal naming the field. */
function readAnswer<T>(raw: string, refusal: () => Error): T {
  if (!raw || raw.length > 16_000) throw refusal();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw refusal();
  }
  const a = parsed as Record<string, unknown> | null;
  if (
    !a ||
    typeof a !== 'object' ||
    typeof a.id !== 'string' ||
    typeof a.rawId !== 'string' ||
    !a.response ||
    typeof a.response !== 'object'
  )
    throw refusal();
  return parsed as T;
}

/** Options for navigator.credentials.create(): a discoverable credential, user verification required, no attestation. */
export async function registrationOptions(
  user: UserDoc,
  rpName: string,
  store: ChallengeStore,
  now: number = Date.now(),
  rp: RelyingParty = relyingParty(),
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await PasskeyModel.find({ user: user._id }).select('credentialId transports').lean();
  if (existing.length >= MAX_PASSKEYS)
    throw new ConflictError(
      `You have ${MAX_PASSKEYS} passkeys, the most an account may have. Remove one first.`,
      {},
      'passkey_limit',
    );
  const options = await generateRegistrationOptions({
    rpName,
    rpID: rp.rpID,
    userName: user.username,
    userDisplayName: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.username,
    // The same user handle for every passkey of a person, so an authenticator replaces its own rather than piling up.
    userID: new Uint8Array(Buffer.from(String(user._id), 'hex')),
    attestationType: 'none',
    timeout: TIMEOUT_MS,
    excludeCredentials: existing.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransportFuture[],
    })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  store.put({ challenge: options.challenge, purpose: 'register', userId: String(user._id), at: now });
  return options;
}

/** Checks the browser's answer to registrationOptions() and keeps the passkey; audited, with a notice by mail. */
export async function registerPasskey(
  user: UserDoc,
  input: { name: string; response: string },
  store: ChallengeStore,
  origin?: Origin,
  now: Date = new Date(),
  rp: RelyingParty = relyingParty(),
): Promise<PasskeyView> {
  assertOwnerPresent(origin, 'Adding a passkey');
  const name = readName(input.name);
  const challenge = takeChallenge(store, 'register', String(user._id), now.getTime());
  const failed = () =>
    new ValidationError('The passkey was not created. Try again.', {
      response: 'Your device did not create a passkey for this site. Try again.',
    });
  const answer = readAnswer<RegistrationResponseJSON>(input.response, failed);
  if (!challenge)
    throw new ValidationError('That passkey request expired or was already used. Try again.', {
      response: 'Start again: the request expired.',
    });
  let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    result = await verifyRegistrationResponse({
      response: answer,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
  } catch {
    throw failed();
  }
  if (!result.verified) throw failed();
  const { credential, credentialDeviceType, credentialBackedUp } = result.registrationInfo;
  if ((await PasskeyModel.countDocuments({ user: user._id })) >= MAX_PASSKEYS)
    throw new ConflictError(
      `You have ${MAX_PASSKEYS} passkeys, the most an account may have. Remove one first.`,
      {},
      'passkey_limit',
    );
  let saved;
  try {
    saved = await PasskeyModel.create({
      user: user._id,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey),
      counter: credential.counter,
      transports: credential.transports ?? answer.response.transports ?? [],
      name,
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      createdAt: now,
    });
  } catch (err) {
    if ((err as { code?: number }).code === 11000)
      throw new ConflictError('This passkey is already registered.', {}, 'passkey_exists');
    throw err;
  }
  await recordAudit(selfContext(user, origin), {
    action: 'user.passkey_added',
    target: { type: 'User', id: user._id, label: user.username },
    after: { passkey: name },
  });
  await sendSecurityNotice(user, 'passkey-added', whereOf(origin), {}, now);
  return view(saved);
}

async function ownPasskey(userId: Types.ObjectId, passkeyId: string) {
  const p = await PasskeyModel.findOne({ _id: parseIdOr404(passkeyId, GONE), user: userId });
  if (!p) throw new NotFoundError(GONE);
  return p;
}

export async function renamePasskey(user: UserDoc, passkeyId: string, name: string, origin?: Origin): Promise<void> {
  assertOwnerPresent(origin, 'Renaming a passkey');
  const n = readName(name);
  const p = await ownPasskey(user._id, passkeyId);
  await PasskeyModel.updateOne({ _id: p._id, user: user._id }, { $set: { name: n } });
  await recordAudit(selfContext(user, origin), {
    action: 'user.passkey_renamed',
    target: { type: 'User', id: user._id, label: user.username },
    before: { passkey: p.name },
    after: { passkey: n },
  });
}

/** Removes one of the user's own passkeys, the password asked again (counted: password-recheck.ts). */
export async function removeOwnPasskey(
  user: UserDoc,
  passkeyId: string,
  password: string,
  recheck: PasswordRecheckThrottle,
  origin?: Origin,
): Promise<void> {
  assertOwnerPresent(origin, 'Removing a passkey');
  const p = await ownPasskey(user._id, passkeyId);
  if (!(await recheckPassword(user._id, password, recheck)))
    throw new ValidationError(MSG.fieldsNeedAttention, { password: MSG.currentPasswordWrong });
  await PasskeyModel.deleteOne({ _id: p._id, user: user._id });
  await recordAudit(selfContext(user, origin), {
    action: 'user.passkey_removed',
    target: { type: 'User', id: user._id, label: user.username },
    before: { passkey: p.name },
  });
  await sendSecurityNotice(user, 'passkey-removed', whereOf(origin));
}

/** An admin removes a user's passkey (a lost device): the same permission as resetting their password or two-factor. */
export async function removePasskeyAsAdmin(
  userId: string,
  passkeyId: string,
  ctx: RequestContext & { actor: Actor },
): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  const p = await ownPasskey(user._id, passkeyId);
  await PasskeyModel.deleteOne({ _id: p._id, user: user._id });
  await recordAudit(ctx, {
    action: 'user.passkey_removed',
    target: { type: 'User', id: user._id, label: user.username },
    before: { passkey: p.name },
  });
  await sendSecurityNotice(user, 'passkey-removed', { byAdmin: true });
  return user;
}

/**
 * Options for navigator.credentials.get(). Signing in: any passkey of this site (discoverable, the browser
 * offers them, autofill included), user verification required. The second step: only the user's own, and
 * user presence is enough (the password was the first factor).
 */
export async function authenticationOptions(
  store: ChallengeStore,
  forUser: Types.ObjectId | null,
  now: number = Date.now(),
  rp: RelyingParty = relyingParty(),
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allow = forUser ? await PasskeyModel.find({ user: forUser }).select('credentialId transports').lean() : [];
  const options = await generateAuthenticationOptions({
    rpID: rp.rpID,
    timeout: TIMEOUT_MS,
    userVerification: forUser ? 'preferred' : 'required',
    allowCredentials: allow.map((c) => ({
      id: c.credentialId,
      transports: c.transports as AuthenticatorTransportFuture[],
    })),
  });
  store.put({
    challenge: options.challenge,
    purpose: forUser ? 'second-factor' : 'sign-in',
    ...(forUser ? { userId: String(forUser) } : {}),
    at: now,
  });
  return options;
}

/** The passkey an answer names, for the throttle's key before the answer is checked (null: unknown). */
export async function accountOfAnswer(raw: string): Promise<{ username: string } | null> {
  let id: unknown;
  try {
    id = (JSON.parse(raw) as Record<string, unknown>)?.id;
  } catch {
    return null;
  }
  if (typeof id !== 'string' || id.length > 1400) return null;
  const p = await PasskeyModel.findOne({ credentialId: id }).select('user').lean();
  return p ? UserModel.findById(p.user).select('username').lean() : null;
}

/**
 * Checks an answer to authenticationOptions() and returns its user (active or not: the caller decides
 * where they may sign in). Unknown passkey, another user's (second step), a wrong challenge, origin or
 * rpID, a missing user verification and a counter that did not move on are all the same
 * AuthenticationError. The challenge is used up before anything is checked.
 */
export async function verifyPasskey(
  raw: string,
  store: ChallengeStore,
  forUser: Types.ObjectId | null,
  now: Date = new Date(),
  rp: RelyingParty = relyingParty(),
): Promise<UserDoc> {
  const refused = () => new AuthenticationError('That passkey could not sign you in. Try again, or use your password.');
  const challenge = takeChallenge(
    store,
    forUser ? 'second-factor' : 'sign-in',
    forUser ? String(forUser) : undefined,
    now.getTime(),
  );
  const answer = readAnswer<AuthenticationResponseJSON>(raw, refused);
  if (!challenge) throw refused();
  // Not lean: a lean read gives the key as BSON Binary, a document gives a Buffer.
  const stored = await PasskeyModel.findOne({ credentialId: answer.id });
  if (!stored || (forUser && !stored.user.equals(forUser))) throw refused();
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    result = await verifyAuthenticationResponse({
      response: answer,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: !forUser,
      credential: {
        id: stored.credentialId,
        publicKey: new Uint8Array(stored.publicKey),
        counter: stored.counter,
        transports: stored.transports as AuthenticatorTransportFuture[],
      },
    });
  } catch {
    throw refused();
  }
  if (!result.verified) throw refused();
  // Only forward (or 0 for authenticators that keep no counter, as synced passkeys do), and only once per value.
  const next = result.authenticationInfo.newCounter;
  const moved = await PasskeyModel.updateOne(
    { _id: stored._id, counter: stored.counter },
    { $set: { counter: next, lastUsedAt: now, backedUp: result.authenticationInfo.credentialBackedUp } },
  );
  if (moved.matchedCount !== 1) throw refused();
  const user = await UserModel.findById(stored.user);
  if (!user) throw refused();
  return user;
}

/**
 * Signing in to a site with a passkey alone: the passkey's user, active, a member of the site, with an
 * address confirmed where the site asks for one. Whatever is wrong, the same AuthenticationError, so the
 * answer tells nothing about who has an account (an unconfirmed address keeps its own, as the password does).
 */
export async function signInWithPasskey(
  raw: string,
  store: ChallengeStore,
  site: Parameters<typeof isSiteMember>[0] & Parameters<typeof assertMaySignIn>[1],
  now: Date = new Date(),
  rp: RelyingParty = relyingParty(),
): Promise<UserDoc> {
  const user = await verifyPasskey(raw, store, null, now, rp);
  if (!user.isActive || !isSiteMember(site, user))
    throw new AuthenticationError('That passkey could not sign you in. Try again, or use your password.');
  assertMaySignIn(user, site);
  return user;
}
