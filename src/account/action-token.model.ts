import { Schema, model, type InferSchemaType } from 'mongoose';

export const TOKEN_PURPOSES = ['reset', 'invite', 'verify', 'email-change', 'identity-link'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/**
 * A link sent by mail (password reset, invitation, email verification, email change). Only the SHA-256
 * of the token is stored; `usedAt` is set by the one conditional update that consumes it, so a link
 * works once even when two requests race. Kept a day past expiry (TTL) so an expired link can be told
 * apart from a forged one.
 */
const actionTokenSchema = new Schema(
  {
    purpose: { type: String, enum: TOKEN_PURPOSES, required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    hash: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    /** Set when the account's security changed after it was sent (password, sessions ended, admin reset): it no longer works. */
    revokedAt: { type: Date, default: null },
    /** The new address of an email change. */
    email: { type: String, default: null },
  },
  { timestamps: true },
);
actionTokenSchema.index({ hash: 1 }, { unique: true });
actionTokenSchema.index({ user: 1, purpose: 1 });
actionTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 24 * 3600 });

export type ActionToken = InferSchemaType<typeof actionTokenSchema>;
export const ActionTokenModel = model('ActionToken', actionTokenSchema);
