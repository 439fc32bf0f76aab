import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { EMAIL_PATTERN } from '../users/user.model';
import { MSG } from '../shared/messages';

/** A CRM contact. Created only when an admin qualifies a user; always belongs to an account. */
const contactSchema = new Schema(
  {
    firstName: { type: String, trim: true, maxlength: 40, default: '' },
    lastName: { type: String, required: [true, MSG.enterLastName], trim: true, maxlength: 80 },
    email: { type: String, trim: true, lowercase: true, maxlength: 254, match: [EMAIL_PATTERN, 'Enter a valid email address.'] },
    phone: { type: String, trim: true, maxlength: 40, default: '' },
    title: { type: String, trim: true, maxlength: 128, default: '' },
    account: { type: Schema.Types.ObjectId, ref: 'Account', required: [true, 'Choose or name an account.'] },
  },
  { timestamps: true },
);
contactSchema.index({ account: 1 });
// Matching registrants to contacts by email (qualification queue, matchBy=email).
contactSchema.index({ email: 1 });

export type Contact = InferSchemaType<typeof contactSchema>;
export type ContactDoc = HydratedDocument<Contact>;
export const ContactModel = model('Contact', contactSchema);
