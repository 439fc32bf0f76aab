/**
 * matchBy=email for many rows at once (bulk ingest): for each email, the one contact that has it and that
 * no user holds, or why not. Two rows matching the same free contact both get it; the unique index on
 * users' contacts then lets only one keep it (the other fails contact_taken), so it is never held twice.
 */
import { trusted, type Types } from 'mongoose';
import { ContactModel, UserModel } from '../data/models';

export type EmailMatch = { contactId: Types.ObjectId } | { code: 'ambiguous_match' | 'contact_taken'; message: string };

/** Emails are compared lower-cased, as they are stored. An email no contact has is absent from the map. */
export async function matchContactsByEmail(emails: string[]): Promise<Map<string, EmailMatch>> {
  const wanted = [...new Set(emails.map((e) => e.trim().toLowerCase()).filter(Boolean))];
  const out = new Map<string, EmailMatch>();
  if (!wanted.length) return out;
  const contacts = await ContactModel.find({ email: trusted({ $in: wanted }) })
    .select('email')
    .lean();
  const held = new Set(
    (
      await UserModel.find({ contact: trusted({ $in: contacts.map((c) => c._id) }) })
        .select('contact')
        .lean()
    ).map((u) => String(u.contact)),
  );
  const byEmail = new Map<string, Types.ObjectId[]>();
  for (const c of contacts) byEmail.set(c.email!, [...(byEmail.get(c.email!) ?? []), c._id]);
  for (const [email, ids] of byEmail) {
    if (ids.length > 1)
      out.set(email, {
        code: 'ambiguous_match',
        message: `Several contacts have the email ${email}; give the row a ContactId.`,
      });
    else if (held.has(String(ids[0])))
      out.set(email, {
        code: 'contact_taken',
        message: `The contact with the email ${email} already belongs to another user.`,
      });
    else out.set(email, { contactId: ids[0] });
  }
  return out;
}
