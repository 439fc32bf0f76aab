/**
 * API tokens: named, shown once, stored as a SHA-256 hash (they are 256-bit random values, so a fast
 * hash suffices and lookups stay O(1)). A token acts with the permissions of the admin who made it,
 * as they are now: if that admin loses a permission or is deactivated, so does the token. It also has
 * scopes (what it may be used for) and an expiry, chosen at creation within the configured maximum.
 */
import crypto from 'node:crypto';
import { trusted, type Types } from 'mongoose';
import { ApiTokenModel, type ApiTokenDoc } from '../data/models';
import { loadActor, type Actor, type RequestContext, assertPermission } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError } from '../shared/errors';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';
import { ForbiddenError } from '../shared/errors';
import { assertUserAdministrator } from '../access';
import { lifecycleSettings } from '../shared/lifecycle-settings';

export const TOKEN_PREFIX = 'ipt_';
export const LAST_USED_RESOLUTION_MS = 60_000;
const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('hex');

/**
 * What a token may do. Every /api and /scim route needs one (scopeOfRequest); the token still acts with
 * its creator's permissions as they are now, so a scope narrows a token and never widens it.
 */
export const API_SCOPES = ['users:read', 'users:write', 'bulk', 'scim'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface TokenChoices {
  /** The scopes asked for; when absent (tokens minted by code), all of them. */
  scopes?: unknown;
  /** Days until it expires; the default when absent or blank. */
  days?: unknown;
  limits?: { defaultDays: number; maxDays: number };
  now?: Date;
}

export async function createApiToken(
  name: unknown,
  ctx: RequestContext & { actor: Actor },
  choices: TokenChoices = {},
): Promise<{ token: string; record: ApiTokenDoc }> {
  assertPermission(ctx.actor, 'manageApiTokens');
  const limits = choices.limits ?? lifecycleSettings().apiTokens;
  const fields: Record<string, string> = {};
  if (typeof name !== 'string' || !name.trim()) fields.name = 'Name the token, e.g. "CRM sync".';
  else if (name.length > 80) fields.name = MSG.atMostCharacters(80);
  const asked = choices.scopes === undefined ? [...API_SCOPES] : ([] as unknown[]).concat(choices.scopes);
  const scopes = API_SCOPES.filter((s) => asked.includes(s));
  if (!scopes.length || scopes.length !== new Set(asked).size)
    fields.scopes = `Choose one or more of: ${API_SCOPES.join(', ')}.`;
  const days = choices.days === undefined || choices.days === '' ? limits.defaultDays : Number(choices.days);
  if (!Number.isInteger(days) || days < 1 || days > limits.maxDays)
    fields.days = `Choose a whole number of days from 1 to ${limits.maxDays}.`;
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  // Scopes chosen on the page are refused beyond the creator's own rights: every scope acts on users.
  if (choices.scopes !== undefined && !isUserAdministrator(ctx.actor)) {
    throw new ForbiddenError(
      `You cannot give a token the scope ${scopes[0]}: you do not manage users yourself.`,
      scopes[0],
    );
  }
  const expiresAt = new Date((choices.now ?? new Date()).getTime() + days * 86_400_000);
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
  const record = await ApiTokenModel.create({
    name: (name as string).trim(),
    prefix: token.slice(0, 10),
    hash: sha256(token),
    createdBy: ctx.actor.id,
    scopes,
    expiresAt,
  });
  await recordAudit(ctx, {
    action: 'api_token.created',
    target: { type: 'ApiToken', id: record._id, label: record.name },
    after: { scopes, expiresAt: expiresAt.toISOString() },
  });
  return { token, record };
}

function isUserAdministrator(actor: Actor): boolean {
  try {
    assertUserAdministrator(actor);
    return true;
  } catch {
    return false;
  }
}

/**
 * The scope a request needs: SCIM is `scim`, ingest jobs and bulk actions `bulk`, other reads
 * `users:read`, other writes `users:write`.
 */
export function scopeOfRequest(via: 'api' | 'scim', method: string, path: string): ApiScope {
  if (via === 'scim') return 'scim';
  if (/^\/v1\/(?:jobs|bulk-actions)(?:\/|$)/.test(path)) return 'bulk';
  return method === 'GET' || method === 'HEAD' ? 'users:read' : 'users:write';
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
  const token = isObjectIdString(id)
    ? await ApiTokenModel.findOneAndUpdate({ _id: id, revokedAt: null }, { $set: { revokedAt: new Date() } })
    : null;
  if (!token) throw new NotFoundError('No active token has this id: it may have been revoked already.');
  await recordAudit(ctx, {
    action: 'api_token.revoked',
    target: { type: 'ApiToken', id: token._id, label: token.name },
  });
  return token;
}

/** Resolves a bearer token to the actor it acts for; null when unknown, revoked, or its admin is gone. */
export async function actorForToken(
  bearer: unknown,
  now: Date = new Date(),
): Promise<{ actor: Actor; tokenId: Types.ObjectId; scopes: string[] } | null> {
  if (typeof bearer !== 'string' || !bearer.startsWith(TOKEN_PREFIX) || bearer.length > 200) return null;
  const token = await ApiTokenModel.findOne({ hash: sha256(bearer), revokedAt: null }).lean();
  if (!token) return null;
  // An expired token is refused like a revoked one (null expiry: made before expiries, until migrated).
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return null;
  // "Last used" is shown to the minute, so a busy integration costs one write a minute, not one a request.
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await ApiTokenModel.updateOne(
      {
        _id: token._id,
        $or: [
          { lastUsedAt: null },
          { lastUsedAt: trusted({ $lte: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) }) },
        ],
      },
      { $set: { lastUsedAt: now } },
    );
  }
  const actor = await loadActor(token.createdBy);
  return actor ? { actor, tokenId: token._id, scopes: token.scopes ?? [] } : null;
}
