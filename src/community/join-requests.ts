/**
 * "Ask to become a community member": a contactless person of a site sends a short reason; it lands in
 * the qualification queue (the "Asked to join" flag, with the reason as its why, and a filter), where
 * admins act on it as on any row (match a contact, upgrade). One open request per person (a unique
 * partial index decides a race), and a new one no sooner than JOIN_REQUEST_INTERVAL_MS after the last.
 * The upgrade closes it (qualification/upgrade-notices.ts). Audited as the person's own action.
 */
import type { Types } from 'mongoose';
import { JoinRequestModel, type UserType } from '../data/models';
import { selfContext, type Origin } from '../access';
import { recordAudit } from '../audit';
import { duplicateKeyField } from '../data/errors';
import { ConflictError, TooManyRequestsError, ValidationError } from '../shared/errors';
import { MSG } from '../shared/messages';

export const JOIN_REASON_MAX = 500;
/** A person asks again (after an answered request) no sooner than a day after their last request. */
export const JOIN_REQUEST_INTERVAL_MS = 86_400_000;

export const JOIN_ALREADY_ASKED =
  'You have already asked to become a community member; an administrator will answer that request.';
export const JOIN_NOT_CONTACTLESS = 'Your account is already a member account: there is nothing to ask for.';
export const JOIN_REASON_NEEDED = 'Say in a few words why you would like to join.';
export const JOIN_TOO_SOON = 'You asked recently; try again tomorrow.';

interface Asker {
  _id: Types.ObjectId;
  username: string;
  userType: UserType;
  contact?: Types.ObjectId | null;
  site?: Types.ObjectId | null;
}

/** Whether this person may ask at all (the account page and a closed page show the button only then). */
export const mayAskToJoin = (user: Pick<Asker, 'userType' | 'contact'>): boolean =>
  user.userType !== 'internal' && !user.contact;

/** The person's open request, if any (the account page says it is pending instead of offering the form). */
export async function openJoinRequestOf(userId: Types.ObjectId) {
  return JoinRequestModel.findOne({ user: userId, status: 'open' }).lean();
}

export async function askToJoin(
  user: Asker,
  siteId: Types.ObjectId,
  reasonTyped: string,
  origin: Origin,
  now = new Date(),
): Promise<void> {
  if (!mayAskToJoin(user)) throw new ConflictError(JOIN_NOT_CONTACTLESS, {}, 'not_contactless');
  const reason = reasonTyped.trim();
  if (!reason) throw new ValidationError(MSG.fieldsNeedAttention, { reason: JOIN_REASON_NEEDED });
  if (reason.length > JOIN_REASON_MAX)
    throw new ValidationError(MSG.fieldsNeedAttention, { reason: MSG.atMostCharacters(JOIN_REASON_MAX) });
  const last = await JoinRequestModel.findOne({ user: user._id }).sort({ askedAt: -1 }).lean();
  if (last?.status === 'open') throw new ConflictError(JOIN_ALREADY_ASKED, {}, 'already_asked');
  if (last && now.getTime() - last.askedAt.getTime() < JOIN_REQUEST_INTERVAL_MS) {
    const wait = Math.ceil((last.askedAt.getTime() + JOIN_REQUEST_INTERVAL_MS - now.getTime()) / 1000);
    throw new TooManyRequestsError(JOIN_TOO_SOON, wait);
  }
  let request;
  try {
    request = await JoinRequestModel.create({ user: user._id, site: siteId, reason, askedAt: now });
  } catch (err) {
    // Two requests at once: the unique partial index lets one in.
    if (duplicateKeyField(err) === 'user') throw new ConflictError(JOIN_ALREADY_ASKED, {}, 'already_asked');
    throw err;
  }
  await recordAudit(selfContext(user, origin), {
    action: 'user.asked_to_join',
    target: { type: 'User', id: user._id, label: user.username },
    // The reason itself stays in the request (erased with the person); the trail keeps that one was sent.
    after: { joinRequest: String(request._id), site: String(siteId), reasonLength: reason.length },
  });
}
