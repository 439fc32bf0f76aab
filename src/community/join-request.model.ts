import { Schema, model, type InferSchemaType, type Types } from 'mongoose';

/**
 * "Ask to become a community member": a contactless person's request, with their reason, shown in the
 * qualification queue. One open request per person (a unique partial index, so two requests sent at
 * once give one success and one refusal); it closes when the person is upgraded or given a contact
 * (qualification/upgrade-notices.ts) and is kept afterwards, so asking again is throttled by the last one.
 */
const joinRequestSchema = new Schema(
  {
    user: { type: Schema.Types.ObjectId, ref: 'User', required: true },
    site: { type: Schema.Types.ObjectId, ref: 'Site', required: true },
    reason: { type: String, required: true, trim: true, maxlength: 500 },
    /** When it was asked, by the caller's clock (tests move it), for the throttle and the queue. */
    askedAt: { type: Date, required: true },
    status: { type: String, enum: ['open', 'closed'], default: 'open' },
    closedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
joinRequestSchema.index({ user: 1 }, { unique: true, partialFilterExpression: { status: 'open' } });
joinRequestSchema.index({ user: 1, askedAt: -1 });
joinRequestSchema.index({ status: 1, askedAt: -1 });

export type JoinRequest = InferSchemaType<typeof joinRequestSchema> & { _id: Types.ObjectId };
export const JoinRequestModel = model('JoinRequest', joinRequestSchema);
