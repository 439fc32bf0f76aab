/**
 * A site's extra sign-up fields (its registration policy lists them, in form order, each required or
 * optional), read from the registration form with zod. Only fields of the allow-list
 * (EXTRA_SIGNUP_FIELDS) can be asked, and only the ones the site asks are read: nothing else a guest
 * sends reaches the user.
 */
import { z } from 'zod';
import { isTimeZone, type ExtraSignupField, type SiteRecord } from '../data/models';
import { LOCALE_KEYS } from '../i18n';
import { MSG } from '../shared/messages';

const RULES: Record<ExtraSignupField, { schema: z.ZodString; missing: string }> = {
  phone: {
    schema: z
      .string()
      .max(40, MSG.atMostCharacters(40))
      .regex(/^\+?[0-9][0-9 ()./-]{4,38}$/, 'Enter a phone number with digits, like +81 3 1234 5678.'),
    missing: 'Enter your phone number.',
  },
  companyName: { schema: z.string().max(80, MSG.atMostCharacters(80)), missing: 'Enter your company.' },
  localeSidKey: {
    schema: z.string().refine((v) => (LOCALE_KEYS as readonly string[]).includes(v), 'Choose a locale from the list.'),
    missing: 'Choose your locale.',
  },
  timeZoneSidKey: {
    schema: z.string().refine(isTimeZone, 'Choose a time zone from the list.'),
    missing: 'Choose your time zone.',
  },
};

export type ExtraValues = Partial<Record<ExtraSignupField, string>>;

/** The fields the site asks for, in its order. */
export function extraFieldsOf(site: SiteRecord): ReadonlyArray<{ field: ExtraSignupField; required: boolean }> {
  return site.registrationPolicy?.extraFields ?? [];
}

/**
 * The asked fields' values from what the form sent (trimmed; '' when left empty), and a message for
 * each one that is missing or malformed, to be reported with the form's other problems.
 */
export function readExtraFields(
  site: SiteRecord,
  sent: Record<string, unknown>,
): { values: ExtraValues; problems: Record<string, string> } {
  const values: ExtraValues = {};
  const problems: Record<string, string> = {};
  for (const { field, required } of extraFieldsOf(site)) {
    const raw = sent[field];
    if (raw !== undefined && typeof raw !== 'string') {
      problems[field] = MSG.sendOnceAsText;
      continue;
    }
    const text = (raw ?? '').trim();
    if (!text) {
      if (required) problems[field] = RULES[field].missing;
      continue;
    }
    const parsed = RULES[field].schema.safeParse(text);
    if (parsed.success) values[field] = parsed.data;
    else problems[field] = parsed.error.issues[0]?.message ?? MSG.required;
  }
  return { values, problems };
}
