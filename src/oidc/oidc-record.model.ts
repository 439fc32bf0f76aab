import { Schema, model } from 'mongoose';

/**
 * Everything the OpenID Connect provider stores (sessions, interactions, grants, codes, access and
 * refresh tokens), one collection with a `kind` field so every instance shares it. The provider's
 * payload is kept as given (`payload`); the fields it looks records up by are copied beside it and
 * indexed. Records expire at `expiresAt` through a TTL index (the provider also checks expiry itself).
 */
const oidcRecordSchema = new Schema(
  {
    /** `${kind}:${id}`: an id is unique only within its kind. */
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    grantId: { type: String, default: undefined },
    userCode: { type: String, default: undefined },
    uid: { type: String, default: undefined },
    /** Whose and for which app (grants, sessions, tokens): deactivation and app deletion revoke by them. */
    accountId: { type: String, default: undefined },
    clientId: { type: String, default: undefined },
    expiresAt: { type: Date, default: undefined },
  },
  { versionKey: false, minimize: false },
);
oidcRecordSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
oidcRecordSchema.index({ grantId: 1 }, { sparse: true });
oidcRecordSchema.index({ uid: 1 }, { sparse: true });
oidcRecordSchema.index({ userCode: 1 }, { sparse: true });
oidcRecordSchema.index({ accountId: 1 }, { sparse: true });
oidcRecordSchema.index({ clientId: 1 }, { sparse: true });

export const OidcRecordModel = model('OidcRecord', oidcRecordSchema, 'oidc_records');
