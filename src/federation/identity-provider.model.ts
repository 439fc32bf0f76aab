import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/**
 * An external OpenID provider a site offers as "Continue with <name>". The client secret is stored
 * encrypted (src/federation/secret-box.ts) and never read back out to a page: only the flow decrypts it.
 */
const identityProviderSchema = new Schema(
  {
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    name: { type: String, required: true, trim: true, maxlength: 60 },
    issuer: { type: String, required: true, trim: true, maxlength: 500 },
    clientId: { type: String, required: true, trim: true, maxlength: 300 },
    /** AES-256-GCM: iv, tag and ciphertext, base64url, joined by dots. */
    clientSecret: { type: String, required: true, select: false },
    scopes: { type: String, required: true, default: 'openid email profile', maxlength: 300 },
    enabled: { type: Boolean, default: true },
  },
  { timestamps: true },
);
identityProviderSchema.index({ site: 1, name: 1 });

/**
 * A user's link to an account at an external provider: (issuer, subject) names the account there, and
 * signs in the one user it is linked to. One link per (issuer, subject), so two users never share one.
 */
const federatedLinkSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    provider: { type: Schema.Types.ObjectId, ref: 'IdentityProvider', required: true },
    issuer: { type: String, required: true },
    subject: { type: String, required: true },
    /** The address the provider gave when the link was made, to show on the account page. */
    email: { type: String, default: null },
  },
  { timestamps: true },
);
federatedLinkSchema.index({ issuer: 1, subject: 1 }, { unique: true });
federatedLinkSchema.index({ user: 1 });

export type IdentityProvider = InferSchemaType<typeof identityProviderSchema>;
export type IdentityProviderDoc = HydratedDocument<IdentityProvider>;
export const IdentityProviderModel = model('IdentityProvider', identityProviderSchema);
export type FederatedLink = InferSchemaType<typeof federatedLinkSchema>;
export const FederatedLinkModel = model('FederatedLink', federatedLinkSchema);
