import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { trusted } from 'mongoose';
import { EMAIL_PATTERN, QUEUE_STALE, UserModel } from '../users/user.model';
import { emailDomainOf } from './qualification-signals';
import { MSG } from '../shared/messages';

/** A CRM contact. Created only when an admin qualifies a user; always belongs to an account. */
const contactSchema = new Schema(
  {
    firstName: { type: String, trim: true, maxlength: 40, default: '' },
    lastName: { type: String, required: [true, MSG.enterLastName], trim: true, maxlength: 80 },
    email: {
      type: String,
      trim: true,
      lowercase: true,
      maxlength: 254,
      match: [EMAIL_PATTERN, 'Enter a valid email address.'],
    },
    phone: { type: String, trim: true, maxlength: 40, default: '' },
    title: { type: String, trim: true, maxlength: 128, default: '' },
    account: { type: Schema.Types.ObjectId, ref: 'Account', required: [true, 'Choose or name an account.'] },
  },
  { timestamps: true },
);
contactSchema.index({ account: 1 });
// Matching registrants to contacts by email (qualification queue, matchBy=email).
contactSchema.index({ email: 1 });

/**
 * A contact's email feeds two queue signals (same email; same company domain): when contacts with
 * these emails appear, change or go, the users with such an email or domain get their stored ranking
 * marked stale (queue-signals-store.ts recomputes it before the queue is read).
 */
export async function markQueueStaleForContactEmails(emails: readonly (string | null | undefined)[]): Promise<void> {
  const list = [
    ...new Set(emails.filter((e): e is string => typeof e === 'string' && e.length > 0).map((e) => e.toLowerCase())),
  ];
  if (!list.length) return;
  const mark = { $set: { queueStaleAt: QUEUE_STALE }, $inc: { queueVersion: 1 } };
  await UserModel.updateMany({ email: trusted({ $in: list }), contact: null }, mark);
  await UserModel.updateMany({ queueDomain: trusted({ $in: [...new Set(list.map(emailDomainOf))] }) }, mark);
}

contactSchema.pre('save', async function () {
  if (this.isNew || !this.isModified('email')) return;
  const before = await ContactModel.findById(this._id).select('email').lean();
  this.$locals.queueEmailsBefore = before?.email ?? null;
});
contactSchema.post('save', async function () {
  if (this.$locals.queueEmailsBefore !== undefined || this.email)
    await markQueueStaleForContactEmails([this.email, this.$locals.queueEmailsBefore as string | null]);
});
contactSchema.post('insertMany', async function (docs: unknown) {
  await markQueueStaleForContactEmails((docs as { email?: string | null }[]).map((d) => d.email));
});
// Updates and deletes: the emails before (read first) and the one set, if any, kept per query.
const queueEmailsOf = new WeakMap<object, (string | null | undefined)[]>();
for (const op of [
  'updateOne',
  'updateMany',
  'findOneAndUpdate',
  'deleteOne',
  'deleteMany',
  'findOneAndDelete',
] as const) {
  contactSchema.pre(op, async function () {
    const update = (op.startsWith('delete') || op === 'findOneAndDelete' ? null : this.getUpdate()) as Record<
      string,
      Record<string, unknown>
    > | null;
    if (update && !('email' in (update.$set ?? {})) && !('email' in update) && !('email' in (update.$unset ?? {})))
      return;
    const before = await ContactModel.find(this.getFilter()).select('email').lean();
    const after = update ? (update.$set?.email ?? update.email) : null;
    queueEmailsOf.set(this, [...before.map((c) => c.email), typeof after === 'string' ? after : null]);
  });
  contactSchema.post(op, async function () {
    const emails = queueEmailsOf.get(this);
    if (emails) await markQueueStaleForContactEmails(emails);
  });
}

export type Contact = InferSchemaType<typeof contactSchema>;
export type ContactDoc = HydratedDocument<Contact>;
export const ContactModel = model('Contact', contactSchema);
