import { Schema, model, type InferSchemaType } from 'mongoose';

/** Login history shown on the admin user page; kept for 180 days. */
const loginEventSchema = new Schema({
  user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  at: { type: Date, required: true, default: () => new Date() },
  ip: { type: String, default: null },
  userAgent: { type: String, default: null, maxlength: 300 },
  area: { type: String, enum: ['site', 'admin', 'login-as'], required: true },
});
loginEventSchema.index({ user: 1, at: -1 });
loginEventSchema.index({ at: 1 }, { expireAfterSeconds: 180 * 24 * 3600 });

export type LoginEvent = InferSchemaType<typeof loginEventSchema>;
export const LoginEventModel = model('LoginEvent', loginEventSchema);
