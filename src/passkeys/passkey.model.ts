import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * A passkey (a WebAuthn credential) a user registered. The public key and the signature counter are what
 * a sign-in is checked against; the credential id (base64url, unique across users) is how the browser's
 * answer finds it. `name` is the person's own label ("Laptop", "Phone"); `lastUsedAt` tells them which
 * one they still use before they remove one.
 */
const passkeySchema = new Schema({
  user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  credentialId: { type: String, required: true, maxlength: 1400 },
  publicKey: { type: Buffer, required: true },
  counter: { type: Number, required: true, default: 0, min: 0 },
  transports: { type: [String], default: [] },
  name: { type: String, required: true, trim: true, maxlength: 60 },
  /** singleDevice or multiDevice (synced, e.g. an iCloud Keychain passkey) and whether it is backed up. */
  deviceType: { type: String, enum: ['singleDevice', 'multiDevice'], default: 'singleDevice' },
  backedUp: { type: Boolean, default: false },
  createdAt: { type: Date, required: true, default: () => new Date() },
  lastUsedAt: { type: Date, default: null },
});
passkeySchema.index({ credentialId: 1 }, { unique: true });
passkeySchema.index({ user: 1, createdAt: 1 });

export type Passkey = InferSchemaType<typeof passkeySchema>;
export const PasskeyModel = model('Passkey', passkeySchema);
