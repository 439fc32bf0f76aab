/**
 * A user's sessions and sign-in history: the user sees and ends their own (account page), admins see a
 * user's and end them all (user page, DELETE /api/v1/users/{id}/sessions). Ending every session moves
 * the session epoch too, so a session the store has not been asked about yet is refused at its next
 * request (src/signin/session-middleware.ts).
 */
import { LoginEventModel, UserModel, type UserDoc } from '../data/models';
import { endAllUserSessions, endUserSession, findUserSessions } from './stored-sessions';
import { selfContext, type Actor, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError } from '../shared/errors';
import { loadUserFor } from '../access';
import { describeUserAgent } from '../shared/user-agent';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { revokeOutstandingLinks } from './tokens';
import type { Area } from '../shared/area';
import { userAgentParts } from '../shared/user-agent';
import { placeOf } from './place';
import { forgetAllDevices } from '../signin';
import type { Language } from '../i18n';

export interface SessionView {
  id: string;
  area: Area;
  device: string;
  /** The country of the IP (place.ts), or "Unknown place", in the language asked for. */
  place: string;
  /** The device's parts, for pages that word it in their own language. */
  browser: string | null;
  system: string | null;
  ip: string | null;
  signedInAt: Date;
  lastSeenAt: Date;
  current: boolean;
  impersonated: boolean;
  /** Signed in with "Keep me signed in". */
  kept: boolean;
}

/** `language` words the place (place.ts) for the page that shows it; admin pages stay English. */
export async function sessionsOf(
  user: Pick<UserDoc, '_id' | 'sessionEpoch'>,
  opts: { currentId?: string; idleMs?: number; language?: Language } = {},
): Promise<SessionView[]> {
  const idleMs = opts.idleMs ?? lifecycleSettings().sessionIdleMs;
  const found = await findUserSessions(String(user._id), user.sessionEpoch ?? 0);
  return found.map((s) => ({
    id: s.id,
    area: s.area,
    device: describeUserAgent(s.userAgent),
    place: placeOf(s.ip, opts.language),
    ...userAgentParts(s.userAgent),
    ip: s.ip,
    signedInAt: s.signedInAt,
    // The store pushes `expires` to (last request + idle timeout), at most once a minute.
    lastSeenAt: new Date(Math.max(s.signedInAt.getTime(), s.expires.getTime() - (s.keepMs ?? idleMs))),
    kept: Boolean(s.keepMs),
    current: s.id === opts.currentId,
    impersonated: s.impersonated,
  }));
}

export async function historyOf(userId: UserDoc['_id'], limit = 50, language: Language = 'en') {
  const events = await LoginEventModel.find({ user: userId }).sort({ at: -1 }).limit(limit).lean();
  return events.map((e) => ({
    at: e.at,
    area: e.area,
    outcome: e.outcome ?? 'success',
    method: e.method ?? null,
    ip: e.ip,
    place: placeOf(e.ip, language),
    device: describeUserAgent(e.userAgent),
    ...userAgentParts(e.userAgent),
  }));
}

/** The user ends one of their own sessions (not a Login As session an admin holds). */
export async function endOwnSession(user: UserDoc, sessionId: string, area: Area, origin?: Origin): Promise<void> {
  if (
    typeof sessionId !== 'string' ||
    sessionId.length > 200 ||
    !(await endUserSession(sessionId, area, String(user._id)))
  ) {
    throw new NotFoundError('That session has already ended.');
  }
  await recordAudit(selfContext(user, origin), {
    action: 'user.session_ended',
    target: { type: 'User', id: user._id, label: user.username },
  });
}

/** The user ends every session but this one, and every link still outstanding (tokens.ts). */
export async function endOtherSessions(user: UserDoc, currentId: string, origin?: Origin): Promise<number> {
  const ended = await endAllUserSessions(String(user._id), currentId);
  // Whoever held another session may have asked for links (an email change): they end too.
  await revokeOutstandingLinks(user._id);
  // Ending the other sessions is what a person does after losing a device: it stops skipping the code too.
  await forgetAllDevices(user, selfContext(user, origin), 'other_sessions_ended');
  await recordAudit(selfContext(user, origin), {
    action: 'user.other_sessions_ended',
    target: { type: 'User', id: user._id, label: user.username },
    after: { ended },
  });
  return ended;
}

export async function adminUserSessions(userId: string, actor: Actor) {
  const user = await loadUserFor('view', userId, { actor: actor, via: 'admin' });
  return { user, sessions: await sessionsOf(user), history: await historyOf(user._id) };
}

/** An admin ends all of a user's sessions (page and API): epoch moved, stored sessions cleared, audited. */
export async function endAllSessionsAsAdmin(userId: string, ctx: RequestContext & { actor: Actor }): Promise<number> {
  const user = await loadUserFor('setActive', userId, ctx);
  await UserModel.updateOne({ _id: user._id }, { $inc: { sessionEpoch: 1 } });
  const ended = await endAllUserSessions(String(user._id));
  await revokeOutstandingLinks(user._id);
  await forgetAllDevices(user, ctx, 'sessions_ended_by_admin');
  await recordAudit(ctx, {
    action: 'user.sessions_ended',
    target: { type: 'User', id: user._id, label: user.username },
    after: { ended },
  });
  return ended;
}
