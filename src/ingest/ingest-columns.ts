/**
 * The CSV of a User ingest job: Salesforce field names in the header, one user per record. Blank values
 * mean "not given" (the default applies), as in Salesforce.
 */
import type { NewUserInput } from '../users';
import { ValidationError, type FieldErrors } from '../shared/errors';

/** Salesforce column -> field of NewUserInput. */
export const USER_COLUMNS = {
  FirstName: 'firstName',
  LastName: 'lastName',
  Email: 'email',
  Alias: 'alias',
  Username: 'username',
  CommunityNickname: 'communityNickname',
  LocaleSidKey: 'localeSidKey',
  TimeZoneSidKey: 'timeZoneSidKey',
  ProfileId: 'profileId',
  LanguageLocaleKey: 'languageLocaleKey',
  EmailEncodingKey: 'emailEncodingKey',
  ContactId: 'contactId',
} as const;
export type UserColumn = keyof typeof USER_COLUMNS;
export const REQUIRED_COLUMNS: UserColumn[] = ['LastName', 'Email', 'ProfileId'];
/** Not a user field: whether the new user is mailed a set-password invitation (blank or true: yes). */
export const INVITATION_COLUMN = 'SendInvitation';

const isColumn = (name: string): name is UserColumn => Object.prototype.hasOwnProperty.call(USER_COLUMNS, name);

/** The row's SendInvitation: true when absent or blank, false for false/0/no; null when unreadable. */
export function invitationOf(columns: readonly string[], values: readonly string[]): boolean | null {
  const i = columns.indexOf(INVITATION_COLUMN);
  const v = i < 0 ? '' : (values[i] ?? '').trim().toLowerCase();
  if (v === '' || v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return null;
}

/** Checks a header: known columns only, each once, the required ones present. */
export function checkHeader(header: string[]): UserColumn[] {
  const fields: FieldErrors = {};
  const unknown = header.filter((h) => !isColumn(h) && h !== INVITATION_COLUMN);
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  const repeated = header.filter((h, i) => header.indexOf(h) !== i);
  if (unknown.length)
    fields.header = `Unknown columns: ${unknown.slice(0, 20).join(', ')}. Use: ${[...Object.keys(USER_COLUMNS), INVITATION_COLUMN].join(', ')}.`;
  if (missing.length) fields.columns = `Missing required columns: ${missing.join(', ')}.`;
  if (repeated.length) fields.duplicateColumns = `Columns named more than once: ${[...new Set(repeated)].join(', ')}.`;
  if (Object.keys(fields).length) throw new ValidationError('The CSV header is not valid.', fields);
  return header as UserColumn[];
}

/** One record as NewUserInput; blank values are left out. */
export function rowToInput(columns: readonly string[], values: readonly string[]): Omit<NewUserInput, 'password'> {
  const input: Record<string, string> = {};
  columns.forEach((c, i) => {
    const v = values[i];
    if (isColumn(c) && v !== undefined && v !== '') input[USER_COLUMNS[c]] = v;
  });
  return input as unknown as Omit<NewUserInput, 'password'>;
}

/** camelCase field (lastName, contactId) -> Salesforce column (LastName, ContactId) for row errors. */
export function columnOf(field: string): string {
  const found = (Object.entries(USER_COLUMNS) as [string, string][]).find(([, f]) => f === field);
  return found ? found[0] : field.charAt(0).toUpperCase() + field.slice(1);
}
