import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * What an upgrade opened, to tell the person at their next visit (upgrade-notices.ts): written by the
 * upgrade itself, shown once (shownAt claimed by one conditional update), then kept as a record.
 */
const upgradeNoticeSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    license: { type: Schema.Types.ObjectId, ref: 'License', required: true },
    profile: { type: Schema.Types.ObjectId, ref: 'Profile', required: true },
    licenseName: { type: String, required: true },
    profileName: { type: String, required: true },
    shownAt: { type: Date, default: null },
  },
  { timestamps: true },
);
upgradeNoticeSchema.index({ user: 1, shownAt: 1, createdAt: -1 });

export type UpgradeNotice = InferSchemaType<typeof upgradeNoticeSchema> & { _id: Types.ObjectId };
export const UpgradeNoticeModel = model('UpgradeNotice', upgradeNoticeSchema);
