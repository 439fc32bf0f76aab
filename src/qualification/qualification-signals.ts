/**
 * The qualification queue's signals and their weights: plain rules, written once. Each signal is a
 * predicate over a user and what the database knows about contacts; the results are stored on the user
 * (queueSignals, queueScore: queue-signals-store.ts) so the queue is one indexed query, and each is a
 * sentence shown on the row (so an admin sees why a user ranks where they do). README, Admin guide,
 * "Qualification queue and bulk actions", has the same table: change both together.
 */

/** Days for "signed in recently" and "registered recently". */
export const RECENT_DAYS = 30;
const RECENT_MS = RECENT_DAYS * 86_400_000;

/**
 * Mail providers anyone can sign up with: a shared domain there says nothing about the company, so it
 * never counts as matching an account's domain.
 */
export const PUBLIC_MAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'mail.com',
  'yandex.com',
  'zoho.com',
  'example.net',
];

/** What the database tells about one contactless user. */
export interface Signals {
  emailVerified: boolean;
  /** The user's email is an existing contact's email (the strongest hint: the CRM knows them). */
  contactEmail: boolean;
  /** The email's domain is one of an existing account's contacts (a company already a customer). */
  accountDomain: boolean;
  signedInRecently: boolean;
  registeredRecently: boolean;
}

export type SignalName = keyof Signals;

/** The user fields the signals read. */
export interface SignalUser {
  email: string;
  emailVerifiedAt?: Date | null;
  lastLoginAt?: Date | null;
  createdAt?: Date | null;
}

/** Inputs the predicates need besides the user, read once per batch of users. */
export interface SignalInputs {
  now: Date;
  /** Emails (lower-cased) that some contact has, among the batch's users' emails. */
  contactEmails: ReadonlySet<string>;
  /** Domains of existing contacts' emails, public mail domains left out. */
  accountDomains: ReadonlySet<string>;
}

interface SignalRule {
  name: SignalName;
  weight: number;
  /** Shown on the row when the signal holds. */
  reason: string;
  holds: (u: SignalUser, i: SignalInputs) => boolean;
  /**
   * When a signal that holds now stops holding by the clock alone (the time-based ones): the stored
   * score is recomputed then (queue-signals-store.ts), so a stored score is never out of date.
   */
  endsAt?: (u: SignalUser) => Date | null;
}

/** The part of an email after the @ (emails are stored lower-cased). */
export const emailDomainOf = (email: string): string => email.split('@')[1] ?? '';
// Strictly within the window: a signal that holds then ends strictly after now, so a refresh never picks it again at once.
const recent = (at: Date | null | undefined, now: Date) =>
  at instanceof Date && at.getTime() > now.getTime() - RECENT_MS;
const endOfRecent = (at: Date | null | undefined) => (at instanceof Date ? new Date(at.getTime() + RECENT_MS) : null);

/** The rules, strongest first. The weights add up to 100, so a score reads as a percentage. */
export const SIGNAL_RULES: readonly SignalRule[] = [
  {
    name: 'contactEmail',
    weight: 35,
    reason: 'Email matches an existing contact',
    holds: (u, i) => i.contactEmails.has(u.email),
  },
  { name: 'emailVerified', weight: 25, reason: 'Email verified', holds: (u) => u.emailVerifiedAt instanceof Date },
  {
    name: 'accountDomain',
    weight: 20,
    reason: "Email domain matches an existing account's domain",
    holds: (u, i) => i.accountDomains.has(emailDomainOf(u.email)),
  },
  {
    name: 'signedInRecently',
    weight: 15,
    reason: `Signed in during the last ${RECENT_DAYS} days`,
    holds: (u, i) => recent(u.lastLoginAt, i.now),
    endsAt: (u) => endOfRecent(u.lastLoginAt),
  },
  {
    name: 'registeredRecently',
    weight: 5,
    reason: `Registered in the last ${RECENT_DAYS} days`,
    holds: (u, i) => recent(u.createdAt, i.now),
    endsAt: (u) => endOfRecent(u.createdAt),
  },
];

/** The score and the reasons of a user's signals, in rule order. */
export function scoreOf(signals: Signals): { score: number; reasons: string[] } {
  const held = SIGNAL_RULES.filter((r) => signals[r.name]);
  return { score: held.reduce((sum, r) => sum + r.weight, 0), reasons: held.map((r) => `${r.reason} (+${r.weight})`) };
}

/** A user's signals, their score, and the first moment the clock alone changes them (null: never). */
export function evaluateSignals(
  user: SignalUser,
  inputs: SignalInputs,
): { signals: Signals; score: number; changesAt: Date | null } {
  const signals = Object.fromEntries(SIGNAL_RULES.map((r) => [r.name, r.holds(user, inputs)])) as unknown as Signals;
  let changesAt: Date | null = null;
  for (const r of SIGNAL_RULES) {
    const end = signals[r.name] && r.endsAt ? r.endsAt(user) : null;
    if (end && (!changesAt || end < changesAt)) changesAt = end;
  }
  return { signals, score: scoreOf(signals).score, changesAt };
}

/** A domain that may count as an account's domain (not a public mail provider). */
export function isCompanyDomain(domain: string): boolean {
  return domain.length > 0 && !PUBLIC_MAIL_DOMAINS.includes(domain.toLowerCase());
}
