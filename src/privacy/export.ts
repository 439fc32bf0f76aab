/**
 * A person's data as JSON (GDPR access and portability): their profile, sign-in history, sessions,
 * consents (the terms they accepted: version, when, from where) and the audit trail of changes to their account. Read by the account
 * page, the admin user page and GET /api/v1/users/{id}/export alike; every export is audited.
 * Never in it: the password hash, second-factor secrets and recovery codes, link tokens.
 */
import type { Types } from 'mongoose';
import {
  AuditEventModel,
  JoinRequestModel,
  LicenseModel,
  LoginEventModel,
  ProfileModel,
  SiteModel,
  UserModel,
  type UserDoc,
} from '../data/models';
import { loadUserFor, selfContext, type Origin, type RequestContext } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError } from '../shared/errors';
import { MSG } from '../shared/messages';
import { findUserSessions } from '../account';
import { consentsOf } from '../registration';
import { DeletionRequestModel } from './deletion-request.model';

export const EXPORT_FORMAT = 'identity-portal-user-export/1';

export async function userDataOf(userId: Types.ObjectId, now: Date = new Date()) {
  const user = await UserModel.findById(userId).lean();
  if (!user) throw new NotFoundError(MSG.noUser);
  const [profile, license, site, history, sessions, consents, audit, deletion, joinRequests] = await Promise.all([
    ProfileModel.findById(user.profile).select('name').lean(),
    LicenseModel.findById(user.license).select('name').lean(),
    user.site ? SiteModel.findById(user.site).select('slug name').lean() : null,
    LoginEventModel.find({ user: user._id }).sort({ at: -1 }).lean(),
    findUserSessions(String(user._id), user.sessionEpoch ?? 0, now),
    consentsOf(user._id),
    AuditEventModel.find({ 'target.id': user._id }).sort({ at: 1, _id: 1 }).lean(),
    DeletionRequestModel.findById(user._id).lean(),
    JoinRequestModel.find({ user: user._id }).sort({ askedAt: 1 }).lean(),
  ]);
  return {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    profile: {
      id: String(user._id),
      username: user.username,
      email: user.email,
      emailVerifiedAt: user.emailVerifiedAt ?? null,
      firstName: user.firstName,
      lastName: user.lastName,
      communityNickname: user.communityNickname,
      alias: user.alias,
      locale: user.localeSidKey,
      language: user.languageLocaleKey,
      timeZone: user.timeZoneSidKey,
      emailEncoding: user.emailEncodingKey,
      userType: user.userType,
      profile: profile?.name ?? null,
      license: license?.name ?? null,
      site: site ? { slug: site.slug, name: site.name } : null,
      hasContact: Boolean(user.contact),
      isActive: user.isActive,
      twoFactor: user.mfaEnabled,
      createdAt: (user as { createdAt?: Date }).createdAt ?? null,
      updatedAt: (user as { updatedAt?: Date }).updatedAt ?? null,
      lastLoginAt: user.lastLoginAt,
      passwordChangedAt: user.passwordChangedAt,
    },
    signInHistory: history.map((e) => ({
      at: e.at,
      area: e.area,
      outcome: e.outcome ?? 'success',
      ip: e.ip,
      userAgent: e.userAgent,
    })),
    sessions: sessions.map((s) => ({
      area: s.area,
      signedInAt: s.signedInAt,
      expires: s.expires,
      ip: s.ip,
      userAgent: s.userAgent,
      keptSignedIn: Boolean(s.keepMs),
      loginAs: s.impersonated,
    })),
    consents,
    auditOfChanges: audit.map((e) => ({
      at: e.at,
      action: e.action,
      by: e.actor?.username ?? null,
      onBehalfOf: e.onBehalfOf?.username ?? null,
      via: e.via,
      ip: e.ip,
      before: e.before,
      after: e.after,
    })),
    deletion: deletion ? { requestedAt: deletion.requestedAt, erasedAfter: deletion.dueAt } : null,
    communityRequests: joinRequests.map((r) => ({ askedAt: r.askedAt, reason: r.reason, status: r.status })),
  };
}

export type UserDataExport = Awaited<ReturnType<typeof userDataOf>>;

/** The signed-in person's own data (the account page). */
export async function exportOwnData(
  user: Pick<UserDoc, '_id' | 'username' | 'userType'>,
  origin: Origin,
  now: Date = new Date(),
): Promise<UserDataExport> {
  const data = await userDataOf(user._id, now);
  await recordAudit(selfContext(user, origin), {
    action: 'user.data_exported',
    at: now,
    target: { type: 'User', id: user._id, label: user.username },
  });
  return data;
}

/** An administrator's or an API token's export of a user they may view (access/: else 404 or 403). */
export async function exportUserDataAs(
  userId: string,
  ctx: RequestContext,
  now: Date = new Date(),
): Promise<UserDataExport> {
  const user = await loadUserFor('view', userId, ctx);
  const data = await userDataOf(user._id, now);
  await recordAudit(ctx, {
    action: 'user.data_exported',
    at: now,
    target: { type: 'User', id: user._id, label: user.username },
  });
  return data;
}

/** The download's file name. */
export const exportFileName = (username: string, now: Date) =>
  `${username.replace(/[^a-z0-9._-]+/gi, '_')}-data-${now.toISOString().slice(0, 10)}.json`;
