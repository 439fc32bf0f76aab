import { Schema, model, type InferSchemaType } from 'mongoose';

/**
 * A browser remembered at the second-factor step ("Remember this device"): only the SHA-256 hash of the
 * random id its cookie holds is stored, so a copy of the database lets nobody skip a code. One browser
 * may hold records for several people and both areas (one id, one record per user and area); a record
 * counts only for its own user and area. `expiresAt` is checked at sign-in and also drops the record
 * through a TTL index.
 */
const rememberedDeviceSchema = new Schema({
  hash: { type: String, required: true, maxlength: 64 },
  user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  area: { type: String, enum: ['site', 'admin'], required: true },
  /** "Firefox on Windows" (shared/user-agent.ts), for the account page. */
  label: { type: String, required: true, maxlength: 120 },
  browser: { type: String, default: null, maxlength: 60 },
  system: { type: String, default: null, maxlength: 60 },
  createdAt: { type: Date, required: true },
  expiresAt: { type: Date, required: true },
});
rememberedDeviceSchema.index({ hash: 1, user: 1, area: 1 }, { unique: true });
rememberedDeviceSchema.index({ user: 1, createdAt: -1 });
rememberedDeviceSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type RememberedDevice = InferSchemaType<typeof rememberedDeviceSchema>;
export const RememberedDeviceModel = model('RememberedDevice', rememberedDeviceSchema);
