/**
 * API tokens: named, shown once, stored as a SHA-256 hash (they are 256-bit random values, so a fast
 * hash suffices and lookups stay O(1)). A token acts with the permissions of the admin who made it,
 * as they are now: if that admin loses a permission or is deactivated, so does the token.
 */
import crypto from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import { ApiTokenModel, type ApiTokenDoc } from '../data/models';
import { loadActor, type Actor, type RequestContext, assertPermission } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError } from '../shared/errors';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';

export const TOKEN_PREFIX = 'ipt_';
export const LAST_USED_RESOLUTION_MS = 60_000;
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

export async function createApiToken(name: unknown, ctx: RequestContext & { actor: Actor }): Promise<{ token: string; record: ApiTokenDoc }> {
  assertPermission(ctx.actor, 'manageApiTokens');
  if (typeof name !== 'string' || !name.trim()) throw new ValidationError(MSG.fieldsNeedAttention, { name: 'Name the token, e.g. "CRM sync".' });
  if (name.length > 80) throw new ValidationError(MSG.fieldsNeedAttention, { name: MSG.atMostCharacters(80) });
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const record = await ApiTokenModel.create({ name: name.trim(), prefix: token.slice(0, 10), hash: sha256(token), createdBy: ctx.actor.id });
  await recordAudit(ctx, { action: 'api_token.created', target: { type: 'ApiToken', id: record._id, label: record.name } });
  return { token, record };
}

export async function listApiTokens(ctx: RequestContext & { actor: Actor }) {
  assertPermission(ctx.actor, 'manageApiTokens');
  return ApiTokenModel.find().sort({ createdAt: -1 }).populate('createdBy', 'username').lean();
}

/** An active token, for the page that asks before revoking it; 404 when unknown or already revoked. */
export async function findActiveApiToken(id: string, actor: Actor) {
  assertPermission(actor, 'manageApiTokens');
  const token = isObjectIdString(id) ? await ApiTokenModel.findOne({ _id: id, revokedAt: null }).lean() : null;
  if (!token) throw new NotFoundError('No active token has this id: it may have been revoked already.');
  return token;
}

export async function revokeApiToken(id: string, ctx: RequestContext & { actor: Actor }): Promise<ApiTokenDoc> {
  assertPermission(ctx.actor, 'manageApiTokens');
  const token = isObjectIdString(id) ? await ApiTokenModel.findOneAndUpdate({ _id: id, revokedAt: null }, { $set: { revokedAt: new Date() } }) : null;
  if (!token) throw new NotFoundError('No active token has this id: it may have been revoked already.');
  await recordAudit(ctx, { action: 'api_token.revoked', target: { type: 'ApiToken', id: token._id, label: token.name } });
  return token;
}

/** Resolves a bearer token to the actor it acts for; null when unknown, revoked, or its admin is gone. */
export async function actorForToken(bearer: unknown, now: Date = new Date()): Promise<{ actor: Actor; tokenId: Types.ObjectId } | null> {
  if (typeof bearer !== 'string' || !bearer.startsWith(TOKEN_PREFIX) || bearer.length > 200) return null;
  const token = await ApiTokenModel.findOne({ hash: sha256(bearer), revokedAt: null }).lean();
  if (!token) return null;
  // "Last used" is shown to the minute, so a busy integration costs one write a minute, not one a request.
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await ApiTokenModel.updateOne(
      { _id: token._id, $or: [{ lastUsedAt: null }, { lastUsedAt: trusted({ $lte: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) }) }] },
      { $set: { lastUsedAt: now } },
    );
  }
  const actor = await loadActor(token.createdBy);
  return actor ? { actor, tokenId: token._id } : null;
}
