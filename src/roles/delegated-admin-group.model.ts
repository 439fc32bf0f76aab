import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { MSG } from '../shared/messages';

/**
 * Delegated administration: members (internal users without Manage Internal Users) may manage external
 * users whose contact belongs to one of the assigned accounts.
 */
const delegatedAdminGroupSchema = new Schema(
  {
    name: { type: String, required: [true, MSG.nameTheGroup], trim: true, maxlength: 80 },
    members: [{ type: Schema.Types.ObjectId, ref: 'User' }],
    accounts: [{ type: Schema.Types.ObjectId, ref: 'Account' }],
  },
  { timestamps: true },
);
delegatedAdminGroupSchema.index({ name: 1 }, { unique: true });
delegatedAdminGroupSchema.index({ members: 1 });

export type DelegatedAdminGroup = InferSchemaType<typeof delegatedAdminGroupSchema>;
export type DelegatedAdminGroupDoc = HydratedDocument<DelegatedAdminGroup>;
export const DelegatedAdminGroupModel = model('DelegatedAdminGroup', delegatedAdminGroupSchema);
