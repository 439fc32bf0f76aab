import { Schema, model } from 'mongoose';

/**
 * Guard documents: one per invariant that spans several documents (today "never without an
 * administrator", src/data/admin-guard.ts). Each change that could break the invariant advances the
 * generation with one conditional update; see admin-guard.ts for why that makes check and write one step.
 */
const guardSchema = new Schema(
  { _id: { type: String, required: true }, generation: { type: Number, default: 0 } },
  { versionKey: false },
);

export const GuardModel = model('Guard', guardSchema);
