/**
 * The qualification queue's signals and their weights: plain rules, written once. Each signal is both a
 * database expression (so the queue is ranked by the database, never by loading every user here) and a
 * sentence shown on the row (so an admin sees why a user ranks where they do). README, Admin guide,
 * "Qualification queue and bulk actions", has the same table: change both together.
 */

/** Days for "signed in recently" and "registered recently". */
export const RECENT_DAYS = 30;

/**
 * Mail providers anyone can sign up with: a shared domain there says nothing about the company, so it
 * never counts as matching an account's domain.
 */
export const PUBLIC_MAIL_DOMAINS: readonly string[] = [
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'yahoo.com', 'icloud.com', 'me.com',
  'aol.com', 'proton.me', 'protonmail.com', 'gmx.com', 'gmx.de', 'mail.com', 'yandex.com', 'zoho.com', 'example.net',
];

/** What the database tells about one contactless user (computed by the queue's aggregation). */
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

/** Inputs the expressions need, computed once per query. */
export interface SignalInputs {
  now: Date;
  /** Domains of existing contacts' emails, public mail domains left out. */
  accountDomains: string[];
}

interface SignalRule {
  name: SignalName;
  weight: number;
  /** Shown on the row when the signal holds. */
  reason: string;
  /** An aggregation expression over a user document (after the queue's $lookup of contacts by email). */
  expr: (inputs: SignalInputs) => unknown;
}

const since = (inputs: SignalInputs) => new Date(inputs.now.getTime() - RECENT_DAYS * 86_400_000);
/** The part of the email after the @ (emails are stored lower-cased). */
export const EMAIL_DOMAIN_EXPR = { $arrayElemAt: [{ $split: ['$email', '@'] }, 1] };

/** The rules, strongest first. The weights add up to 100, so a score reads as a percentage. */
export const SIGNAL_RULES: readonly SignalRule[] = [
  { name: 'contactEmail', weight: 35, reason: 'Email matches an existing contact', expr: () => ({ $gt: [{ $size: '$matchedContacts' }, 0] }) },
  { name: 'emailVerified', weight: 25, reason: 'Email verified', expr: () => ({ $eq: [{ $type: '$emailVerifiedAt' }, 'date'] }) },
  { name: 'accountDomain', weight: 20, reason: "Email domain matches an existing account's domain", expr: (i) => ({ $in: [EMAIL_DOMAIN_EXPR, i.accountDomains] }) },
  { name: 'signedInRecently', weight: 15, reason: `Signed in during the last ${RECENT_DAYS} days`, expr: (i) => ({ $gte: ['$lastLoginAt', since(i)] }) },
  { name: 'registeredRecently', weight: 5, reason: `Registered in the last ${RECENT_DAYS} days`, expr: (i) => ({ $gte: ['$createdAt', since(i)] }) },
];

/** The score and the reasons of a user's signals, in rule order. */
export function scoreOf(signals: Signals): { score: number; reasons: string[] } {
  const held = SIGNAL_RULES.filter((r) => signals[r.name]);
  return { score: held.reduce((sum, r) => sum + r.weight, 0), reasons: held.map((r) => `${r.reason} (+${r.weight})`) };
}

/** $addFields computing each signal as a boolean, then the score from the same weights. */
export function signalStages(inputs: SignalInputs): Record<string, unknown>[] {
  const signals = Object.fromEntries(SIGNAL_RULES.map((r) => [r.name, r.expr(inputs)]));
  const score = { $add: SIGNAL_RULES.map((r) => ({ $cond: [`$signals.${r.name}`, r.weight, 0] })) };
  return [{ $addFields: { signals } }, { $addFields: { score } }];
}

/** A domain that may count as an account's domain (not a public mail provider). */
export function isCompanyDomain(domain: string): boolean {
  return domain.length > 0 && !PUBLIC_MAIL_DOMAINS.includes(domain.toLowerCase());
}
