/**
 * Invitations: a user created without a password (admin pages, REST, bulk ingest, SCIM) gets a mail
 * with a set-password link (INVITE_TOKEN_HOURS), unless the request asked for none. Admins may send it
 * again, and their "Reset password" sends a reset link (the user chooses the password; no admin ever
 * sees one). Accepting an invitation is src/account/recovery.ts's setPasswordWithLink('invite').
 */
import crypto from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import { ActionTokenModel, UserModel, type UserDoc } from '../data/models';
import { queueMails, type MailRequest } from '../mail';
import type { Actor, RequestContext } from '../access';
import { recordAudit, recordAudits } from '../audit';
import { ConflictError } from '../shared/errors';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { homeAreaOf, linkUrl } from './links';
import { loadUserFor } from '../access';
import { siteSlugOf } from './links';
import { sendInvitation, sendResetLink } from './recovery';
import { revokeOutstandingLinks } from './tokens';

/** After creating `user` through a channel: invites them when they have no password and it was not declined. */
export async function inviteNewUser(user: UserDoc, opts: { password?: string; sendInvitation?: boolean }, ctx: RequestContext): Promise<boolean> {
  if (opts.password !== undefined || opts.sendInvitation === false || !user.isActive) return false;
  await sendInvitation(user);
  await recordAudit(ctx, { action: 'user.invitation_sent', target: { type: 'User', id: user._id, label: user.username } });
  return true;
}

const hasPasswordQuery = (id: Types.ObjectId) => UserModel.exists({ _id: id, passwordHash: trusted({ $type: 'string' }) });

/** "Send invitation again" (admin page, POST /api/v1/users/{id}/invitation). */
export async function resendInvitation(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  if (!user.isActive) throw new ConflictError('This user is inactive; activate them before inviting them.', {}, 'user_inactive');
  if (await hasPasswordQuery(user._id)) {
    throw new ConflictError('This user has already set a password; send a password reset link instead.', {}, 'password_already_set');
  }
  await sendInvitation(user);
  await recordAudit(ctx, { action: 'user.invitation_sent', target: { type: 'User', id: user._id, label: user.username } });
  return user;
}

/** The admin "Reset password": a reset link by mail to the user's address; their sessions end when it is used. */
export async function sendResetLinkAsAdmin(userId: string, ctx: RequestContext & { actor: Actor }): Promise<UserDoc> {
  const user = await loadUserFor('resetPassword', userId, ctx);
  if (!user.isActive) throw new ConflictError('This user is inactive; activate them before sending a reset link.', {}, 'user_inactive');
  // An admin's reset is for an account in doubt: its outstanding links (an email change) are cancelled first.
  await revokeOutstandingLinks(user._id);
  await sendResetLink(user, await homeAreaOf(user));
  await recordAudit(ctx, { action: 'user.password_reset_link_sent', target: { type: 'User', id: user._id, label: user.username } });
  return user;
}

/**
 * Invitations for a bulk batch in two inserts (tokens, then mails) instead of two per user. A batch
 * redone after a crash invites its users again: the newer link replaces the older (at-least-once).
 */
export async function inviteUsersInBulk(users: UserDoc[] | Array<Pick<UserDoc, '_id' | 'email' | 'username' | 'firstName' | 'lastName' | 'userType' | 'site' | 'languageLocaleKey'>>, ctx: RequestContext, now: Date = new Date()): Promise<number> {
  if (!users.length) return 0;
  const ttl = lifecycleSettings().tokens.inviteMs;
  const expiresAt = new Date(now.getTime() + ttl);
  await ActionTokenModel.deleteMany({ user: trusted({ $in: users.map((u) => u._id) }), purpose: 'invite', usedAt: null });
  const tokens: object[] = [];
  const mails: MailRequest[] = [];
  const areas = new Map<string, Awaited<ReturnType<typeof homeAreaOf>>>();
  for (const u of users) {
    const token = crypto.randomBytes(32).toString('base64url');
    tokens.push({ purpose: 'invite', user: u._id, hash: crypto.createHash('sha256').update(token).digest('hex'), expiresAt });
    const areaKey = `${u.userType}:${String(u.site)}`;
    if (!areas.has(areaKey)) areas.set(areaKey, await homeAreaOf(u));
    const url = linkUrl(areas.get(areaKey)!, 'welcome', token);
    mails.push({ to: u.email, template: 'invitation', user: u._id, language: u.languageLocaleKey, siteSlug: siteSlugOf(areas.get(areaKey)!), locals: { name: (u.firstName || u.lastName || 'there').trim(), username: u.username, url, expiresInMs: ttl } });
  }
  // Through the models (not lean): their defaults (a token's usedAt, a mail's queued state) are set.
  await ActionTokenModel.insertMany(tokens);
  await queueMails(mails, now);
  await recordAudits(ctx, users.map((u) => ({ action: 'user.invitation_sent', at: now, target: { type: 'User', id: u._id, label: u.username } })));
  return users.length;
}
