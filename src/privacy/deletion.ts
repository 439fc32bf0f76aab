/**
 * Account deletion with a grace period. Asked for by the person (the account page, their password asked
 * again), an administrator who may deactivate them, or an API token: a DeletionRequest is written with
 * `dueAt` = now + DELETION_GRACE_DAYS and every session of the user ends. Signing in before `dueAt`
 * cancels it (the person is told on the page). After it, the deletion sweep erases the user.
 *
 * Crash safety of the erasure, step by step: the sweep claims a due request with a lease (one conditional
 * findOneAndUpdate, like src/shared/job-lease.ts), so one instance works on a user at a time; each holder
 * of user data (user-data.ts) is erased in turn, each step idempotent; the seat is given back, the user
 * document goes, and the request is removed last. A crash anywhere leaves the request, whose lease runs
 * out: the next sweep does the remaining steps again (the seat only while the user document exists).
 *
 * Internal (staff) users are not deleted this way: their actions are the organisation's records; they are
 * deactivated instead.
 */
import { randomUUID } from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import { UserModel, type UserDoc } from '../data/models';
import { loadUserFor, selfContext, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { ConflictError, ValidationError } from '../shared/errors';
import { MSG } from '../shared/messages';
import { endAllUserSessions } from '../account';
import { endProviderSessionsOf } from '../oidc';
import { recheckPassword, useSecondFactor, type AccountThrottle, type PasswordRecheckThrottle } from '../signin';
import { releaseSeat } from '../qualification';
import { DeletionRequestModel } from './deletion-request.model';
import { pseudonymOf, USER_DATA_HOLDERS, type ErasedUser } from './user-data';

export interface DeletionSettings {
  /** DELETION_GRACE_DAYS in ms. */
  graceMs: number;
  /** Keys the pseudonyms (POW_HMAC_KEY's sibling: derived from the session secret unless set). */
  pseudonymKey: string;
}

export const DELETION_MESSAGES = {
  internal: 'Staff accounts are not deleted: deactivate the user instead, which keeps what they did on record.',
  passwordNeeded: 'Enter your password to confirm.',
  passwordOrCode: 'Enter your password, or a code from your authenticator app or a recovery code, to confirm.',
  codeWrong: 'This code is not correct or was already used. Enter a current code, or your password instead.',
} as const;

async function requestFor(
  user: UserDoc,
  ctx: RequestContext,
  via: 'site' | 'admin' | 'api',
  settings: DeletionSettings,
  now: Date,
) {
  if (user.userType === 'internal') throw new ConflictError(DELETION_MESSAGES.internal, {}, 'internal_user');
  const dueAt = new Date(now.getTime() + settings.graceMs);
  // Asked again: the first request's grace period stands (a second request must not push erasure later).
  const request = await DeletionRequestModel.findOneAndUpdate(
    { _id: user._id },
    { $setOnInsert: { requestedAt: now, dueAt, via, leaseOwner: null, leaseExpiresAt: null } },
    { upsert: true, returnDocument: 'after' },
  ).lean();
  // Signed out everywhere: signing in again is the way to cancel, and says so.
  await UserModel.updateOne({ _id: user._id }, { $inc: { sessionEpoch: 1 } });
  await endAllUserSessions(String(user._id));
  await endProviderSessionsOf(String(user._id));
  await recordAudit(ctx, {
    action: 'user.deletion_requested',
    at: now,
    target: { type: 'User', id: user._id, label: user.username },
    after: { dueAt: request!.dueAt },
  });
  return { requestedAt: request!.requestedAt, dueAt: request!.dueAt };
}

/**
 * The person deletes their own account, proving it is them again: their password (counted like every
 * re-check), or, with two-factor on, a current code or a recovery code (counted like the sign-in's code
 * step, per account). The code is checked on the real clock, as at sign-in.
 */
export async function requestOwnDeletion(
  user: UserDoc,
  proof: { password?: string; code?: string },
  throttles: { recheck: PasswordRecheckThrottle; code: AccountThrottle },
  origin: Origin,
  settings: DeletionSettings,
  now: Date = new Date(),
) {
  if (proof.password) {
    if (!(await recheckPassword(user._id, proof.password, throttles.recheck)))
      throw new ValidationError(MSG.fieldsNeedAttention, { deletePassword: MSG.currentPasswordWrong });
  } else if (proof.code && user.mfaEnabled) {
    const attempt = await throttles.code.begin(String(user._id));
    if (!(await useSecondFactor(user._id, proof.code)))
      throw new ValidationError(MSG.fieldsNeedAttention, { deleteCode: DELETION_MESSAGES.codeWrong });
    await attempt.succeeded();
  } else {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      deletePassword: user.mfaEnabled ? DELETION_MESSAGES.passwordOrCode : DELETION_MESSAGES.passwordNeeded,
    });
  }
  return requestFor(user, selfContext(user, origin), 'site', settings, now);
}

/** An administrator (who may deactivate the user) or an API token asks for a user's deletion. */
export async function requestDeletionAs(
  userId: string,
  ctx: RequestContext,
  settings: DeletionSettings,
  now: Date = new Date(),
) {
  const user = await loadUserFor('setActive', userId, ctx);
  return requestFor(user, ctx, ctx.via === 'api' ? 'api' : 'admin', settings, now);
}

/**
 * What the administrator's confirmation page shows before asking (the same checks as the request: who
 * may deactivate the user may delete them, staff accounts are refused): who, and when the erasure would
 * happen, or is already due when a request is pending (asking again does not move it).
 */
export async function deletionPreviewAs(
  userId: string,
  ctx: RequestContext,
  settings: DeletionSettings,
  now: Date = new Date(),
) {
  const user = await loadUserFor('setActive', userId, ctx);
  if (user.userType === 'internal') throw new ConflictError(DELETION_MESSAGES.internal, {}, 'internal_user');
  const pending = await pendingDeletion(user._id);
  return {
    id: String(user._id),
    name: `${user.firstName ?? ''} ${user.lastName ?? ''}`.trim() || user.username,
    username: user.username,
    email: user.email,
    pending: Boolean(pending),
    dueAt: pending?.dueAt ?? new Date(now.getTime() + settings.graceMs),
    graceDays: Math.round(settings.graceMs / 86_400_000),
  };
}

/**
 * A sign-in during the grace period cancels the deletion; true when there was one to cancel. The app runs
 * it at every completed sign-in, whatever the method (onSignIn in src/signin/areas.ts, wired in app.ts).
 */
export async function cancelDeletionOnSignIn(
  user: Pick<UserDoc, '_id' | 'username' | 'userType'>,
  origin: Origin,
  now: Date = new Date(),
): Promise<boolean> {
  const removed = await DeletionRequestModel.findOneAndDelete({ _id: user._id, dueAt: trusted({ $gt: now }) }).lean();
  if (!removed) return false;
  await recordAudit(selfContext(user, origin), {
    action: 'user.deletion_cancelled',
    at: now,
    target: { type: 'User', id: user._id, label: user.username },
  });
  return true;
}

/** Whether a deletion is pending for the user, and when it happens. */
export async function pendingDeletion(userId: Types.ObjectId) {
  return DeletionRequestModel.findById(userId).select('requestedAt dueAt').lean();
}

/** Erases one user: every holder, the seat, the user document, then the request (see the header). */
export async function eraseUser(
  userId: Types.ObjectId,
  settings: DeletionSettings,
  now: Date = new Date(),
): Promise<void> {
  const user = await UserModel.findById(userId).lean();
  if (user) {
    const erased: ErasedUser = {
      id: user._id,
      username: user.username,
      email: user.email,
      pseudonym: pseudonymOf(user._id, settings.pseudonymKey),
    };
    for (const holder of USER_DATA_HOLDERS) await holder.erase(erased);
    // The seat goes back with the user (a retried erasure finds no user and releases nothing twice).
    const gone = await UserModel.deleteOne({ _id: user._id });
    if (gone.deletedCount === 1) await releaseSeat(user.license);
    await recordAudit(
      { actor: null, via: 'system' },
      { action: 'user.erased', at: now, target: { type: 'User', id: null, label: erased.pseudonym } },
    );
  }
  await DeletionRequestModel.deleteOne({ _id: userId });
}

/**
 * Erases every user whose grace period is over, one claimed request at a time. Every completed sign-in
 * cancels at once (cancelDeletionOnSignIn, run by src/signin/areas.ts for each method); as a safety net, a
 * user whose last sign-in is later than the request is spared here too: the request is dropped instead.
 */
export async function sweepDueDeletions(
  settings: DeletionSettings,
  opts: { now?: () => Date; owner?: string; leaseMs?: number } = {},
): Promise<number> {
  const clock = opts.now ?? (() => new Date());
  const owner = opts.owner ?? randomUUID();
  let erased = 0;
  for (;;) {
    const now = clock();
    const claimed = await DeletionRequestModel.findOneAndUpdate(
      { dueAt: trusted({ $lte: now }), $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: trusted({ $lte: now }) }] },
      { $set: { leaseOwner: owner, leaseExpiresAt: new Date(now.getTime() + (opts.leaseMs ?? 60_000)) } },
      { sort: { dueAt: 1 }, returnDocument: 'after' },
    ).lean();
    if (!claimed) return erased;
    const user = await UserModel.findById(claimed._id).select('lastLoginAt username userType').lean();
    if (user?.lastLoginAt && user.lastLoginAt > claimed.requestedAt) {
      await DeletionRequestModel.deleteOne({ _id: claimed._id, leaseOwner: owner });
      await recordAudit(
        { actor: null, via: 'system' },
        { action: 'user.deletion_cancelled', at: now, target: { type: 'User', id: user._id, label: user.username } },
      );
      continue;
    }
    await eraseUser(claimed._id, settings, now);
    erased++;
  }
}

/** Records still naming the user, per holder (the deletion test's "nothing left behind"). */
export async function leftBehind(user: ErasedUser): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const holder of USER_DATA_HOLDERS) counts[holder.name] = await holder.remaining(user);
  return counts;
}

/**
 * The deletion sweep on a timer (every DELETION_SWEEP_MINUTES, each instance; the lease keeps them from
 * erasing one user twice). A failed sweep is logged and retried at the next tick.
 */
export function startDeletionSweep(
  settings: DeletionSettings & { sweepMs: number },
  log: { error(obj: object, msg: string): void; info(obj: object, msg: string): void },
  now: () => Date = () => new Date(),
): { stop(): void } {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const erased = await sweepDueDeletions(settings, { now });
      if (erased) log.info({ erased }, 'Accounts erased after their deletion grace period');
    } catch (err) {
      log.error({ err }, 'The deletion sweep failed; it runs again at the next interval');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), settings.sweepMs);
  timer.unref();
  void tick();
  return { stop: () => clearInterval(timer) };
}
