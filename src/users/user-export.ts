/**
 * The users an admin may see, as CSV (the admin area's user export), with the filters of
 * GET /api/v1/users: read through the same search (searchUsers: permission and scope checked, keyset
 * pages of 200), streamed a page at a time, never the whole directory in memory. People open it in a
 * spreadsheet, so every cell is spreadsheet-safe (a cell starting with = + - @ tab or CR gets a ').
 */
import { stringify } from 'csv-stringify/sync';
import { LicenseModel, ProfileModel } from '../data/models';
import type { Actor } from '../access';
import { neutraliseCell } from '../shared/spreadsheet-safe';
import { searchUsers } from './user-directory';
import { MAX_PAGE_SIZE, type UserFilters } from './user-search';

export const USER_EXPORT_COLUMNS = [
  'Id',
  'Username',
  'Email',
  'FirstName',
  'LastName',
  'UserType',
  'Profile',
  'License',
  'ContactId',
  'SiteId',
  'IsActive',
  'CreatedDate',
  'LastLoginDate',
] as const;

const line = (values: unknown[]) => stringify([values.map(neutraliseCell)], { record_delimiter: 'unix' });
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : '');

/** The CSV's lines, header first. The first page is read before the header, so a refusal comes first. */
export async function* usersCsv(actor: Actor, filters: UserFilters): AsyncGenerator<string> {
  let page = await searchUsers(actor, filters, undefined, MAX_PAGE_SIZE);
  const [profiles, licenses] = await Promise.all([
    ProfileModel.find().select('name').lean(),
    LicenseModel.find().select('name').lean(),
  ]);
  const names = new Map([...profiles, ...licenses].map((d) => [String(d._id), d.name]));
  yield line([...USER_EXPORT_COLUMNS]);
  for (;;) {
    for (const u of page.records) {
      yield line([
        String(u._id),
        u.username,
        u.email,
        u.firstName ?? '',
        u.lastName,
        u.userType,
        names.get(String(u.profile)) ?? '',
        names.get(String(u.license)) ?? '',
        u.contact ? String(u.contact) : '',
        u.site ? String(u.site) : '',
        u.isActive ? 'true' : 'false',
        iso(u.createdAt),
        iso(u.lastLoginAt),
      ]);
    }
    if (!page.nextCursor) return;
    page = await searchUsers(actor, filters, page.nextCursor, MAX_PAGE_SIZE);
  }
}
