/**
 * Security notices by mail: the person hears of every change to how their account is protected, and of
 * a sign-in from a device it has not seen, so that someone else's doing is noticed. One template
 * (security-notice), one table of events: each mail says what happened, when (in the person's own time
 * zone), from where (browser and system, country, IP) and what to do if it was not them. Queued like
 * every mail (mail/queue.ts): a notice never blocks or fails the change that caused it.
 */
import type { UserDoc } from '../data/models';
import type { Origin } from '../access';
import { queueMail } from '../mail';
import { placeOf } from './place';
import { exactTime } from './time-format';
import { describeUserAgent } from '../shared/user-agent';

export type SecurityEvent = 'password-changed' | 'mfa-enabled' | 'mfa-disabled' | 'mfa-reset' | 'new-device' | 'recovery-codes-low';

/** Where the change came from: the request's IP and User-Agent, or an administrator. */
export interface NoticeWhere { ip?: string | null; userAgent?: string | null; byAdmin?: boolean }

/** The NoticeWhere of a change a signed-in user made (an Origin: the request's IP and browser). */
export function whereOf(origin: Origin): NoticeWhere {
  if (typeof origin === 'string') return { ip: origin };
  return { ip: origin?.ip ?? null, userAgent: origin?.userAgent ?? null, byAdmin: Boolean(origin?.impersonator) };
}

/** Recovery codes left at or below this after a use: the person is told, and the account page warns. */
export const FEW_RECOVERY_CODES = 2;

const IF_NOT_YOU_PASSWORD = 'If this was not you, someone else knows your password: use "Forgot your password?" on the log in page to choose a new one now, then end your other sessions on your account page, and tell your administrator.';
const IF_NOT_YOU_SIGNED_IN = 'If this was not you, sign in, change your password and end your other sessions on your account page, and tell your administrator.';

const EVENTS: Record<SecurityEvent, { subject: string; what: (extra: { codesLeft?: number }) => string; ifNotYou: string }> = {
  'password-changed': { subject: 'Your password was changed', what: () => 'The password of your account was changed. Your other sessions were ended and remembered devices forgotten.', ifNotYou: IF_NOT_YOU_PASSWORD },
  'mfa-enabled': { subject: 'Two-factor sign-in was turned on', what: () => 'Two-factor sign-in was turned on for your account: signing in now also asks for a code from an app.', ifNotYou: IF_NOT_YOU_SIGNED_IN },
  'mfa-disabled': { subject: 'Two-factor sign-in was turned off', what: () => 'Two-factor sign-in was turned off for your account: signing in now asks for your password only.', ifNotYou: IF_NOT_YOU_PASSWORD },
  'mfa-reset': { subject: 'Two-factor sign-in was reset by an administrator', what: () => 'An administrator reset the two-factor sign-in of your account: it is off until you set it up again, and your sessions were ended.', ifNotYou: 'If you did not ask for this, tell your administrator, and set up two-factor sign-in again from your account page.' },
  'new-device': { subject: 'New sign-in to your account', what: () => 'Your account was signed in to from a browser or network it had not been used from before.', ifNotYou: IF_NOT_YOU_PASSWORD },
  'recovery-codes-low': {
    subject: 'You are running out of recovery codes',
    what: ({ codesLeft = 0 }) => `A recovery code was used to sign in to your account. ${codesLeft === 0 ? 'None is left' : `Only ${codesLeft} ${codesLeft === 1 ? 'is' : 'are'} left`}: make new ones on the two-factor page of your account.`,
    ifNotYou: 'If this was not you, someone has your password and a recovery code: change your password and make new recovery codes now, and tell your administrator.',
  },
};

const displayName = (u: Pick<UserDoc, 'firstName' | 'lastName'>) => (u.firstName || u.lastName || 'there').trim();

type Recipient = Pick<UserDoc, '_id' | 'email' | 'username' | 'firstName' | 'lastName' | 'timeZoneSidKey' | 'languageLocaleKey'>;

/** "Firefox on Windows, United Kingdom (81.2.69.142)", or "an administrator". */
export function describeWhere(where: NoticeWhere): string {
  if (where.byAdmin) return 'an administrator, from the admin area';
  const ip = where.ip ?? null;
  return `${describeUserAgent(where.userAgent)}, ${placeOf(ip)}${ip ? ` (${ip})` : ''}`;
}

export async function sendSecurityNotice(user: Recipient, event: SecurityEvent, where: NoticeWhere, extra: { codesLeft?: number } = {}, now: Date = new Date()): Promise<void> {
  if (!user.email) return;
  const e = EVENTS[event];
  await queueMail({
    to: user.email, template: 'security-notice', user: user._id, language: user.languageLocaleKey,
    locals: {
      subject: e.subject, name: displayName(user), username: user.username, what: e.what(extra),
      when: exactTime(now, user.timeZoneSidKey), where: describeWhere(where), ifNotYou: e.ifNotYou,
    },
  }, now);
}
