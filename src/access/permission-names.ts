/** Reading permission names sent by a form or the API: known names only, anything else is named back. */
import { PERMISSIONS, isPermission, type Permission } from '../data/models';
import { noPermissions } from './actor';
import { ValidationError } from '../shared/errors';
import { MSG } from '../shared/messages';

/** `["manageInternalUsers", ...]` (or one name, as a form sends a single checkbox) to a full record. */
export function parsePermissionNames(value: unknown, field = 'permissions'): Record<Permission, boolean> {
  const names = value === undefined || value === null || value === '' ? [] : Array.isArray(value) ? value : [value];
  const unknown = names.filter((n) => !isPermission(n)).map((n) => (typeof n === 'string' ? n.slice(0, 60) : typeof n));
  if (unknown.length) {
    throw new ValidationError(MSG.fieldsNeedAttention, {
      [field]: `Unknown permission${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known permissions: ${PERMISSIONS.join(', ')}.`,
    });
  }
  const record = noPermissions();
  for (const n of names as Permission[]) record[n] = true;
  return record;
}

export function permissionNames(record: Partial<Record<Permission, boolean | null>> | null | undefined): Permission[] {
  return PERMISSIONS.filter((p) => record?.[p]);
}
