import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';

export const MAIL_STATES = ['queued', 'sending', 'sent', 'failed'] as const;
export type MailState = (typeof MAIL_STATES)[number];

/**
 * One outgoing mail, rendered when it is queued. The delivery worker (src/mail/worker.ts) claims it with
 * a lease like an ingest job: it is due while `queued` and `nextAttemptAt` has passed, or while `sending`
 * under a lease that ran out (the worker died mid-delivery). A failed attempt puts it back in `queued`
 * with a later `nextAttemptAt`; after the last attempt it is `failed`.
 *
 * Without SMTP_URL the outbox is the destination: delivered messages keep their text, with its links,
 * and are listed at /admin/outbox. Messages sent by SMTP lose their bodies once sent, so no reset link
 * stays readable in the database after it has left.
 */
const mailMessageSchema = new Schema(
  {
    to: { type: String, required: true, maxlength: 254 },
    subject: { type: String, required: true, maxlength: 300 },
    text: { type: String, default: null },
    html: { type: String, default: null },
    /** The template it came from (password-reset, invitation, ...). */
    template: { type: String, required: true },
    user: { type: Schema.Types.ObjectId, ref: 'User', default: null },
    state: { type: String, enum: MAIL_STATES, required: true, default: 'queued' },
    /** 'smtp' or 'outbox', once delivered. */
    deliveredVia: { type: String, enum: ['smtp', 'outbox', null], default: null },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true, default: () => new Date() },
    lastError: { type: String, default: null },
    leaseOwner: { type: String, default: null },
    leaseExpiresAt: { type: Date, default: null },
    sentAt: { type: Date, default: null },
  },
  { timestamps: true },
);
mailMessageSchema.index({ state: 1, nextAttemptAt: 1 });
mailMessageSchema.index({ deliveredVia: 1, createdAt: -1, _id: -1 });

export type MailMessage = InferSchemaType<typeof mailMessageSchema>;
export type MailMessageDoc = HydratedDocument<MailMessage>;
export const MailMessageModel = model('MailMessage', mailMessageSchema);
