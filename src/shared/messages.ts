/**
 * The message catalogue: every sentence the portal says in more than one place, by name, so a change of
 * wording happens once and the pages, the API, SCIM and the bulk importer keep saying the same thing.
 * The English text is part of the contract (tests and clients read it): change it here only on purpose.
 * A message said in one place only stays beside its rule.
 * Each entry is also `refusal.<name>` in locales/en.json (`${n}` written `{{n}}`) with its translations:
 * the site pages say it in the reader's language (src/i18n/refusals.ts); a test keeps the two equal.
 */
export const MSG = {
  /** The summary above a form (or an API error) whose fields each say what to correct. */
  fieldsNeedAttention: 'Some fields need attention.',
  required: 'This field is required.',
  useValidId: 'Use a valid id.',
  /** A form or query field sent twice, or as something other than text. */
  sendOnceAsText: 'Send this field once, as text.',
  atMostCharacters: (n: number) => `Use at most ${n} characters.`,
  enterLastName: 'Enter a last name.',
  enterValidEmail: 'Enter a valid email address, like name@example.com.',
  passwordsDiffer: 'The two passwords differ. Type the same password twice.',
  currentPasswordWrong: 'Your current password is not correct.',
  /** Optimistic concurrency: an update must carry the version it was based on. */
  sendVersion: 'Send the version you read (an integer).',
  noUser: 'No user has this id.',
  noProfile: 'No profile has this id.',
  noContact: 'No contact has this id.',
  noPermissionSet: 'No permission set has this id.',
  contactTaken: 'That contact already belongs to another user.',
  profileLicenseGone: "This profile's license no longer exists.",
  chooseExternalProfile: 'Choose an External Identity profile.',
  nameTheGroup: 'Name the group.',
  nameThePermissionSet: 'Name the permission set.',
  nothingHere: 'There is nothing at this address.',
  /** The password policy (src/signin/passwords.ts). */
  passwordTooShort: (n: number) =>
    `Use at least ${n} characters. A few unrelated words make a long password that is easy to remember.`,
  passwordTooCommon: 'This password is too common or easy to guess. Add more unrelated words or make it longer.',
  passwordFromYou:
    'This password is built from your name or email and is easy to guess. Choose something unrelated to you.',
  /** An element of a list field (checkboxes) that is not text. */
  sendEachChoiceAsText: 'Send each choice as text.',
  setupLinkInvalid: 'This setup link is invalid, used or expired. Restart the portal to print a new one.',
} as const;
