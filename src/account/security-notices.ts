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
import { userAgentParts } from '../shared/user-agent';
import { DEFAULT_LANGUAGE, pickLanguage, translator, type Language, type Translate } from '../i18n';

export type SecurityEvent =
  | 'password-changed'
  | 'mfa-enabled'
  | 'mfa-disabled'
  | 'mfa-reset'
  | 'new-device'
  | 'recovery-codes-low'
  | 'passkey-added'
  | 'passkey-removed';

/** Where the change came from: the request's IP and User-Agent, or an administrator. */
export interface NoticeWhere {
  ip?: string | null;
  userAgent?: string | null;
  byAdmin?: boolean;
}

/** The NoticeWhere of a change a signed-in user made (an Origin: the request's IP and browser). */
export function whereOf(origin: Origin): NoticeWhere {
  if (typeof origin === 'string') return { ip: origin };
  return { ip: origin?.ip ?? null, userAgent: origin?.userAgent ?? null, byAdmin: Boolean(origin?.impersonator) };
}

/** Recovery codes left at or below this after a use: the person is told, and the account page warns. */
export const FEW_RECOVERY_CODES = 2;

/** Catalogue keys (locales/<language>.json, securityNotice.*) of each event's subject, text and advice. */
const EVENTS: Record<SecurityEvent, { key: string; ifNotYou: string }> = {
  'password-changed': { key: 'passwordChanged', ifNotYou: 'securityNotice.ifNotYouPassword' },
  'mfa-enabled': { key: 'mfaEnabled', ifNotYou: 'securityNotice.ifNotYouSignedIn' },
  'mfa-disabled': { key: 'mfaDisabled', ifNotYou: 'securityNotice.ifNotYouPassword' },
  'mfa-reset': { key: 'mfaReset', ifNotYou: 'securityNotice.mfaReset.ifNotYou' },
  'new-device': { key: 'newDevice', ifNotYou: 'securityNotice.ifNotYouPassword' },
  'recovery-codes-low': { key: 'recoveryCodesLow', ifNotYou: 'securityNotice.recoveryCodesLow.ifNotYou' },
  'passkey-added': { key: 'passkeyAdded', ifNotYou: 'securityNotice.ifNotYouSignedIn' },
  'passkey-removed': { key: 'passkeyRemoved', ifNotYou: 'securityNotice.ifNotYouSignedIn' },
};

function whatHappened(t: Translate, event: SecurityEvent, extra: { codesLeft?: number }): string {
  const key = `securityNotice.${EVENTS[event].key}.what`;
  if (event !== 'recovery-codes-low') return t(key);
  const codesLeft = extra.codesLeft ?? 0;
  return t(key, {
    left:
      codesLeft === 0
        ? t('securityNotice.recoveryCodesLow.none')
        : t('securityNotice.recoveryCodesLow.left', { count: codesLeft }),
  });
}

const displayName = (u: Pick<UserDoc, 'firstName' | 'lastName'>, t: Translate) =>
  (u.firstName || u.lastName || t('securityNotice.there')).trim();

type Recipient = Pick<
  UserDoc,
  '_id' | 'email' | 'username' | 'firstName' | 'lastName' | 'timeZoneSidKey' | 'languageLocaleKey'
>;

/** "Firefox on Windows, United Kingdom (81.2.69.142)", or "an administrator", in the mail's language. */
export function describeWhere(where: NoticeWhere, language: Language = DEFAULT_LANGUAGE): string {
  const t = translator(language);
  if (where.byAdmin) return t('securityNotice.byAdmin');
  const ip = where.ip ?? null;
  const { browser, system } = userAgentParts(where.userAgent);
  const device = browser ?? t('sessions.unknownBrowser');
  return `${system ? t('sessions.deviceOn', { browser: device, system }) : device}, ${placeOf(ip, language)}${ip ? ` (${ip})` : ''}`;
}

export async function sendSecurityNotice(
  user: Recipient,
  event: SecurityEvent,
  where: NoticeWhere,
  extra: { codesLeft?: number } = {},
  now: Date = new Date(),
): Promise<void> {
  if (!user.email) return;
  // The values are worded here, in the language the mail folder is chosen by (mail/templates.ts).
  const language = pickLanguage({ userKey: user.languageLocaleKey });
  const t = translator(language);
  await queueMail(
    {
      to: user.email,
      template: 'security-notice',
      user: user._id,
      language: user.languageLocaleKey,
      locals: {
        subject: t(`securityNotice.${EVENTS[event].key}.subject`),
        name: displayName(user, t),
        username: user.username,
        what: whatHappened(t, event, extra),
        when: exactTime(now, user.timeZoneSidKey, language === 'en' ? 'en-GB' : language),
        where: describeWhere(where, language),
        ifNotYou: t(EVENTS[event].ifNotYou),
      },
    },
    now,
  );
}
