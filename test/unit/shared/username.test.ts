import { normaliseUsername } from '../../../src/shared/username';
import { normaliseUsername as fromUsers } from '../../../src/users/users';
import { AREAS } from '../../../src/shared/area';
import { DEFAULT_LOGIN_HISTORY_DAYS, loadConfig } from '../../../src/config';

describe('one rule each (src/shared)', () => {
  test('normaliseUsername drops surrounding spaces and case, and keeps inner characters', () => {
    expect(normaliseUsername('  Ada.Lovelace@Example.COM \t')).toBe('ada.lovelace@example.com');
    expect(normaliseUsername('a b')).toBe('a b');
    expect(fromUsers).toBe(normaliseUsername);
  });

  test('the sign-in areas are site and admin', () => {
    expect(AREAS).toEqual(['site', 'admin']);
  });

  test('the login-history default is the configuration default', () => {
    expect(loadConfig({ SESSION_SECRET: 'x'.repeat(32) }).loginHistoryDays).toBe(DEFAULT_LOGIN_HISTORY_DAYS);
    expect(loadConfig({ SESSION_SECRET: 'x'.repeat(32), LOGIN_HISTORY_DAYS: '30' }).loginHistoryDays).toBe(30);
  });
});
