import { Schema, model } from 'mongoose';

/**
 * An account deletion waiting for its grace period to end (src/privacy/deletion.ts): one per user (the
 * user's id is the _id). Signing in during the grace period removes it; after `dueAt` the deletion sweep
 * claims it (a lease, so one instance erases each user) and erases the user.
 */
const deletionRequestSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    requestedAt: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    /** Who asked: the person (site), an administrator (admin) or an API token (api). */
    via: { type: String, enum: ['site', 'admin', 'api'], required: true },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
  },
  { versionKey: false },
);
deletionRequestSchema.index({ dueAt: 1 });

export const DeletionRequestModel = model('DeletionRequest', deletionRequestSchema);
