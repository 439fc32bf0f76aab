import { Schema, model } from 'mongoose';

/**
 * The provider's signing keys: one document (`_id` "signing-keys") holding every key, so creating the
 * first set and each rotation are one write (two instances starting at once cannot make two sets: the
 * second insert fails on the `_id` and that instance reads the first one's). Private keys are stored
 * encrypted (AES-256-GCM, src/oidc/signing-keys.ts); `version` guards rotation against a concurrent one.
 */
const signingKeySchema = new Schema(
  {
    kid: { type: String, required: true },
    alg: { type: String, enum: ['RS256', 'ES256'], required: true },
    createdAt: { type: Date, required: true },
    /** Set when a rotation replaced it: it then only verifies (stays in the JWKS) until `removeAfter`. */
    retiredAt: { type: Date, default: null },
    removeAfter: { type: Date, default: null },
    iv: { type: String, required: true },
    tag: { type: String, required: true },
    data: { type: String, required: true },
  },
  { _id: false },
);

const signingKeySetSchema = new Schema(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    keys: { type: [signingKeySchema], default: [] },
  },
  { versionKey: false },
);

export const SigningKeySetModel = model('OidcSigningKeySet', signingKeySetSchema, 'oidc_signing_keys');
