import { Schema, model, type InferSchemaType } from 'mongoose';

/** One-time link that lets the first visitor create the first administrator. Expires by TTL. */
const setupTokenSchema = new Schema({
  hash: { type: String, required: true },
  expiresAt: { type: Date, required: true },
  usedAt: { type: Date, default: null },
});
setupTokenSchema.index({ hash: 1 }, { unique: true });
setupTokenSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type SetupToken = InferSchemaType<typeof setupTokenSchema>;
export const SetupTokenModel = model('SetupToken', setupTokenSchema);
