import { Schema, model, type InferSchemaType, type HydratedDocument } from 'mongoose';
import { USER_TYPES } from '../qualification/license.model';
import { SEARCH_SOURCE_FIELDS, searchTermsOf } from './search-terms';
import { MSG } from '../shared/messages';

/** Deliberately simple: one @, no spaces, a dot in the domain. Real verification is by mail. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const EMAIL_ENCODINGS = ['UTF-8', 'ISO-8859-1', 'Shift_JIS', 'EUC-JP', 'ISO-2022-JP', 'Big5', 'GB2312'] as const;
/**
 * The form of an address that "one address, one account" compares (src/users/email-owner.ts): trimmed,
 * lower-cased, Unicode-normalised (NFKC), so `Ada@Example.com ` and `ada@example.com` are one address.
 */
/** The stale mark of the queue's stored ranking: any date not after now; the epoch reads plainly. */
export const QUEUE_STALE = new Date(0);
/** The fields the queue's signals and membership read: writing one marks the stored ranking stale. */
export const QUEUE_SOURCE_FIELDS = [
  'email',
  'emailVerifiedAt',
  'lastLoginAt',
  'createdAt',
  'contact',
  'isActive',
  'userType',
] as const;

export function emailKeyOf(email: string): string {
  return String(email ?? '')
    .normalize('NFKC')
    .trim()
    .toLowerCase();
}

/** Salesforce-style locale keys: en_US, fr, pt_BR. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(?:_[A-Z]{2})?$/;

/** Answers are cached: building an Intl.DateTimeFormat costs ~0.1 ms, and bulk imports validate 100k users. */
const timeZoneAnswers = new Map<string, boolean>();

export function isTimeZone(value: string): boolean {
  if (value === 'GMT') return true;
  const known = timeZoneAnswers.get(value);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    valid = true;
  } catch {
    valid = false;
  }
  if (typeof value === 'string' && value.length <= 64 && timeZoneAnswers.size < 2000) timeZoneAnswers.set(value, valid);
  return valid;
}

/**
 * A user, with the fields of a Salesforce user. `contact` is null for a contactless user.
 * `userType` and `license` are copied from the profile so that lists, filters and seat counts need no
 * join; they change only together with the profile (src/qualification/qualification.ts).
 */
const userSchema = new Schema(
  {
    firstName: { type: String, trim: true, maxlength: [40, MSG.atMostCharacters(40)], default: '' },
    lastName: {
      type: String,
      required: [true, MSG.enterLastName],
      trim: true,
      maxlength: [80, MSG.atMostCharacters(80)],
    },
    /** Asked at registration when the site's policy lists them (extra sign-up fields); absent otherwise. */
    phone: { type: String, trim: true, maxlength: [40, MSG.atMostCharacters(40)] },
    companyName: { type: String, trim: true, maxlength: [80, MSG.atMostCharacters(80)] },
    email: {
      type: String,
      required: [true, 'Enter an email address.'],
      trim: true,
      lowercase: true,
      maxlength: [254, MSG.atMostCharacters(254)],
      match: [EMAIL_PATTERN, MSG.enterValidEmail],
    },
    /**
     * emailKeyOf(email), kept by the hooks below: the unique partial index on it is the race-proof guard of
     * "one address, one account". Null only for the later holders of an address that several users
     * already shared before the rule (the migration reports them; they sign in by username).
     */
    emailKey: { type: String, default: null, select: false },
    alias: { type: String, required: true, trim: true, maxlength: [8, MSG.atMostCharacters(8)] },
    /** Email-shaped and unique; stored lower-cased, so uniqueness is case-insensitive. */
    username: {
      type: String,
      required: [true, 'Enter a username.'],
      trim: true,
      lowercase: true,
      maxlength: [80, MSG.atMostCharacters(80)],
      match: [EMAIL_PATTERN, 'A username looks like an email address, like name@example.com.'],
    },
    /** Unique regardless of case (index with collation strength 2). */
    communityNickname: { type: String, required: true, trim: true, maxlength: [40, MSG.atMostCharacters(40)] },
    localeSidKey: {
      type: String,
      required: true,
      match: [LOCALE_PATTERN, 'Use a locale like en_US.'],
      default: 'en_US',
    },
    languageLocaleKey: {
      type: String,
      required: true,
      match: [LOCALE_PATTERN, 'Use a language like en_US.'],
      default: 'en_US',
    },
    timeZoneSidKey: {
      type: String,
      required: true,
      default: 'GMT',
      validate: { validator: isTimeZone, message: 'Use an IANA time zone like Europe/Paris.' },
    },
    emailEncodingKey: {
      type: String,
      enum: { values: EMAIL_ENCODINGS, message: 'Use one of: ' + EMAIL_ENCODINGS.join(', ') + '.' },
      default: 'UTF-8',
    },
    profile: { type: Schema.Types.ObjectId, ref: 'Profile', required: true },
    license: { type: Schema.Types.ObjectId, ref: 'License', required: true },
    userType: { type: String, enum: USER_TYPES, required: true },
    /** Permission sets assigned to an internal user, on top of the profile's permissions. */
    permissionSets: { type: [{ type: Schema.Types.ObjectId, ref: 'PermissionSet' }], default: [] },
    contact: { type: Schema.Types.ObjectId, ref: 'Contact', default: null },
    site: { type: Schema.Types.ObjectId, ref: 'Site', default: null },
    isActive: { type: Boolean, default: true },
    /** argon2id PHC string; never selected unless asked for, never serialised. */
    passwordHash: { type: String, default: null, select: false },
    passwordChangedAt: { type: Date, default: null },
    /** Bumped to end every session of the user (password change, deactivation). */
    sessionEpoch: { type: Number, default: 0 },
    lastLoginAt: { type: Date, default: null },
    /** SCIM: the userName exactly as the provisioning client sent it (`username` is its lower-cased form). */
    usernameAsSent: { type: String, default: null, maxlength: [80, MSG.atMostCharacters(80)] },
    /**
     * SCIM: each provisioning client's own id for the user (the client is the API token's admin), unique
     * per client; clients never see or overwrite each other's (src/users/external-ids.ts).
     */
    scimExternalIds: {
      type: [
        {
          _id: false,
          owner: { type: Schema.Types.ObjectId, ref: 'User', required: true },
          value: { type: String, required: true, maxlength: [255, MSG.atMostCharacters(255)] },
        },
      ],
      default: [],
    },
    /** SCIM DELETE: deactivated and gone from SCIM, kept for the audit trail and the admin area. */
    deprovisionedAt: { type: Date, default: null },
    /** When the user proved they read mail at `email` (a verification, invitation or reset link). */
    emailVerifiedAt: { type: Date, default: null },
    /** Whether sign-in asks for a second factor (the details below are never selected by default). */
    mfaEnabled: { type: Boolean, default: false },
    /** Two-factor sign-in (TOTP): the secret once enrolment is confirmed, and hashed one-time recovery codes. */
    mfa: {
      type: new Schema(
        {
          secret: { type: String, default: null },
          /** A secret shown for enrolment, kept until a correct code confirms it. */
          pendingSecret: { type: String, default: null },
          enabledAt: { type: Date, default: null },
          /** The last time step whose code was accepted: a code is accepted once. */
          lastStep: { type: Number, default: 0 },
          recoveryCodes: { type: [String], default: [] },
          /** Enrolment confirmed by a code, waiting for "I saved them": the new recovery codes' hashes and that code's step. */
          pendingRecoveryCodes: { type: [String], default: [] },
          pendingStep: { type: Number, default: 0 },
        },
        { _id: false },
      ),
      default: null,
      select: false,
    },
    /** The admin search's normalized words (search-terms.ts), kept by the hooks below; not selected unless asked for. */
    searchTerms: { type: [String], default: undefined, select: false },
    /**
     * The qualification queue's stored ranking (qualification/queue-signals-store.ts): the score and
     * signals while the user is in the queue (active, contactless, not internal), else null. A write to a
     * field the signals read sets queueStaleAt to QUEUE_STALE (hooks below); the queue recomputes users
     * whose queueStaleAt has passed before it reads, so the page is one indexed query.
     */
    queueScore: { type: Number, default: null },
    queueSignals: { type: Schema.Types.Mixed, default: null },
    /** The email's domain while in the queue: a contact with a new company domain marks these users stale. */
    queueDomain: { type: String, default: null },
    /** When the stored ranking must be recomputed (a change, or a time-based signal ending); null: never. */
    queueStaleAt: { type: Date, default: () => QUEUE_STALE },
    /** Bumped with every stale mark, so a recompute that read an older state does not overwrite the mark. */
    queueVersion: { type: Number, default: 0 },
  },
  { timestamps: true },
);
userSchema.index({ username: 1 }, { unique: true });
userSchema.index({ communityNickname: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
// A contact belongs to at most one user; contactless users (null) are exempt.
userSchema.index({ contact: 1 }, { unique: true, partialFilterExpression: { contact: { $type: 'objectId' } } });
userSchema.index({ email: 1 });
userSchema.index({ emailKey: 1 }, { unique: true, partialFilterExpression: { emailKey: { $type: 'string' } } });
// The qualification queue starts from contactless users (contact null), optionally of one site.
userSchema.index({ contact: 1, site: 1 });
userSchema.index(
  { 'scimExternalIds.owner': 1, 'scimExternalIds.value': 1 },
  { unique: true, partialFilterExpression: { 'scimExternalIds.value': { $type: 'string' } } },
);
userSchema.index({ createdAt: -1, _id: -1 });
userSchema.index({ profile: 1 });
userSchema.index({ permissionSets: 1 });
// Multikey: one entry per term; a search word is a range on it (user-search.ts).
userSchema.index({ searchTerms: 1 });
// The qualification queue: ranked by the stored score (walked in this order), the stale ones found by date.
userSchema.index({ queueScore: -1, createdAt: -1, _id: -1 });
userSchema.index({ queueStaleAt: 1 });
userSchema.index({ queueDomain: 1 });

// The terms follow their fields on every save (creation, the admin and account edits, SCIM and the API).
userSchema.pre('save', function () {
  if (this.isNew || SEARCH_SOURCE_FIELDS.some((f) => this.isModified(f))) this.set('searchTerms', searchTermsOf(this));
  // A new or changed address claims its key; the unique index refuses a second claim, even in a race.
  if (this.isNew || this.isModified('email')) this.set('emailKey', emailKeyOf(this.email));
  if (this.isNew || QUEUE_SOURCE_FIELDS.some((f) => this.isModified(f))) {
    this.set('queueStaleAt', QUEUE_STALE);
    this.set('queueVersion', (this.queueVersion ?? 0) + 1);
  }
});

/** Update paths cannot recompute the terms (they lack the other fields): changing a source field there is a bug. */
function touchesSearchSources(update: Record<string, unknown> | null): boolean {
  if (!update) return false;
  const paths = Object.entries(update).flatMap(([k, v]) =>
    k.startsWith('$') && v && typeof v === 'object' ? Object.keys(v) : [k],
  );
  return !paths.includes('searchTerms') && paths.some((p) => (SEARCH_SOURCE_FIELDS as readonly string[]).includes(p));
}
function setsEmailWithoutKey(update: Record<string, unknown> | null): boolean {
  if (!update) return false;
  const paths = Object.entries(update).flatMap(([k, v]) =>
    k.startsWith('$') && v && typeof v === 'object' ? Object.keys(v) : [k],
  );
  return paths.includes('email') && !paths.includes('emailKey');
}
/**
 * Marks the queue's stored ranking stale in the same write as a change to a field it reads (a sign-in,
 * a verification, an association...), so no path can change a signal and leave the ranking behind.
 */
function withQueueStaleMark(update: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!update || Array.isArray(update)) return null;
  const paths = Object.entries(update).flatMap(([k, v]) =>
    k.startsWith('$') && v && typeof v === 'object' ? Object.keys(v) : [k],
  );
  if (!paths.some((p) => (QUEUE_SOURCE_FIELDS as readonly string[]).includes(p))) return null;
  const plain = Object.fromEntries(Object.entries(update).filter(([k]) => !k.startsWith('$')));
  const ops = Object.fromEntries(Object.entries(update).filter(([k]) => k.startsWith('$')));
  return {
    ...ops,
    $set: { ...plain, ...(ops.$set as object | undefined), queueStaleAt: QUEUE_STALE },
    $inc: { ...(ops.$inc as object | undefined), queueVersion: 1 },
  };
}

for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'findOneAndReplace'] as const) {
  userSchema.pre(op, function () {
    const marked =
      op === 'replaceOne' || op === 'findOneAndReplace'
        ? null
        : withQueueStaleMark(this.getUpdate() as Record<string, unknown> | null);
    if (marked) this.setUpdate(marked);
    if (touchesSearchSources(this.getUpdate() as Record<string, unknown> | null)) {
      throw new Error(
        `User.${op} changes a searched field without searchTerms: change names and addresses through document.save() so the search terms follow.`,
      );
    }
    if (setsEmailWithoutKey(this.getUpdate() as Record<string, unknown> | null)) {
      throw new Error(
        `User.${op} changes the email without emailKey: set emailKey: emailKeyOf(email) too, so one address stays one account.`,
      );
    }
  });
}

// bulkWrite runs none of the query middleware above, so its updates get the same treatment here: a bulk
// upgrade or association (qualification's bulk actions) changes signals too and must mark the ranking
// stale in the same write; and the same guards refuse a bulk change of a searched field or the email.
userSchema.pre('bulkWrite', function (ops: unknown[]) {
  for (const op of ops as Record<string, { update?: Record<string, unknown> } | undefined>[]) {
    for (const kind of ['updateOne', 'updateMany'] as const) {
      const spec = op[kind];
      if (!spec?.update) continue;
      if (touchesSearchSources(spec.update) || setsEmailWithoutKey(spec.update)) {
        throw new Error(
          `User.bulkWrite ${kind} changes a searched field or the email: change them through document.save() so the search terms and emailKey follow.`,
        );
      }
      spec.update = withQueueStaleMark(spec.update) ?? spec.update;
    }
  }
});

export type User = InferSchemaType<typeof userSchema>;
export type UserDoc = HydratedDocument<User>;
export const UserModel = model('User', userSchema);
