import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

/** A CRM account (company); contacts belong to one, delegated admin groups are assigned some. */
const accountSchema = new Schema(
  { name: { type: String, required: true, trim: true, maxlength: 120 } },
  { timestamps: true },
);
accountSchema.index({ name: 1 });

export type Account = InferSchemaType<typeof accountSchema>;
export type AccountDoc = HydratedDocument<Account>;
export const AccountModel = model('Account', accountSchema);
