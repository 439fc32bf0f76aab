import { Schema, model, type HydratedDocument, type InferSchemaType } from 'mongoose';

/** The scopes a connected app may be allowed (src/oidc/claims.ts says what each one releases). */
export const APP_SCOPES = ['openid', 'offline_access', 'email', 'profile', 'portal'] as const;
export type AppScope = (typeof APP_SCOPES)[number];

/**
 * A connected app: a company's own application that signs a site's members in through the portal's
 * OpenID Connect provider. Redirect URIs are compared exactly (no prefix, no case folding). A
 * confidential app has a secret, shown once and stored as the SHA-256 of a 256-bit random value (a
 * slow hash adds nothing to a secret nobody chose); a public app has none and relies on PKCE alone.
 */
const connectedAppSchema = new Schema(
  {
    clientId: { type: String, required: true, unique: true },
    name: { type: String, required: true, trim: true, maxlength: 100 },
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    redirectUris: { type: [String], required: true },
    postLogoutRedirectUris: { type: [String], default: [] },
    scopes: { type: [{ type: String, enum: APP_SCOPES }], default: ['openid'] },
    /** The company's own app: the person is not asked to consent. */
    firstParty: { type: Boolean, default: false },
    type: { type: String, enum: ['confidential', 'public'], required: true },
    secretHash: { type: String, default: null },
    backchannelLogoutUri: { type: String, default: null },
  },
  { timestamps: true },
);

export type ConnectedApp = InferSchemaType<typeof connectedAppSchema>;
export type ConnectedAppDoc = HydratedDocument<ConnectedApp>;
export const ConnectedAppModel = model('ConnectedApp', connectedAppSchema);
