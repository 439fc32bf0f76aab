import { ValidationError } from '../../../src/shared/errors';
import { checkHeader, columnOf, rowToInput } from '../../../src/ingest/ingest-columns';
import { rowError } from '../../../src/ingest/ingest-worker';

describe('the CSV header of a User job', () => {
  it('accepts Salesforce field names and maps a record, leaving blanks out', () => {
    const cols = checkHeader(['FirstName', 'LastName', 'Email', 'ProfileId', 'ContactId', 'TimeZoneSidKey']);
    expect(rowToInput(cols, ['Zoë', "O'Brien, Jr.", 'z@example.com', 'abc', '', 'Europe/Paris'])).toEqual({
      firstName: 'Zoë',
      lastName: "O'Brien, Jr.",
      email: 'z@example.com',
      profileId: 'abc',
      timeZoneSidKey: 'Europe/Paris',
    });
  });

  it('refuses unknown, missing and repeated columns, naming them', () => {
    expect(() => checkHeader(['LastName', 'Email'])).toThrow('The CSV header is not valid.');
    let thrown: unknown;
    try {
      checkHeader(['LastName', 'Email', 'ProfileId', 'passwordHash', 'Email', '__proto__']);
    } catch (err) {
      thrown = err;
    }
    // Outside the catch, so the test fails if nothing was thrown.
    expect(thrown).toBeInstanceOf(ValidationError);
    const fields = (thrown as ValidationError).fields;
    expect(fields.header).toContain('passwordHash');
    expect(fields.header).toContain('__proto__');
    expect(fields.duplicateColumns).toContain('Email');
  });

  it('names fields in errors by their column', () => {
    expect(columnOf('timeZoneSidKey')).toBe('TimeZoneSidKey');
    expect(columnOf('contactId')).toBe('ContactId');
    expect(columnOf('username')).toBe('Username');
    expect(
      rowError({
        ok: false,
        code: 'validation_failed',
        message: 'Some fields need attention.',
        fields: { email: 'Enter a valid email address.' },
      }),
    ).toBe('validation_failed: Some fields need attention. (Email: Enter a valid email address.)');
  });
});
