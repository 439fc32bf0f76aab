/**
 * SCIM filters (RFC 7644 3.4.2.2), the subset provisioning tools send to find a user: comparisons with
 * `eq` on userName, emails(.value), active and id, joined by `and`. Anything else is invalidFilter.
 */
import type { UserFilters } from '../../data/user-search';
import { BadRequestError } from '../../domain/errors';

export class InvalidFilter extends BadRequestError {
  constructor(message: string) {
    super(message, 'invalid_filter', 'invalidFilter');
  }
}

const COMPARISON = /^\s*([A-Za-z][\w.:]*)\s+(eq)\s+("(?:[^"\\]|\\.)*"|true|false)\s*$/i;

export function parseScimFilter(filter: string | undefined): UserFilters & { id?: string } {
  const out: UserFilters & { id?: string } = {};
  if (filter === undefined || filter.trim() === '') return out;
  if (filter.length > 500) throw new InvalidFilter('The filter is too long.');
  for (const part of filter.split(/\s+and\s+/i)) {
    const m = COMPARISON.exec(part);
    if (!m) throw new InvalidFilter(`Unsupported filter "${part.trim()}": use attribute eq "value" (userName, emails, active), joined by and.`);
    const attr = m[1].toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:user:/, '');
    const raw = m[3];
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.toLowerCase() === 'true';
    if (attr === 'username' && typeof value === 'string') out.username = value;
    else if ((attr === 'emails' || attr === 'emails.value') && typeof value === 'string') out.email = value;
    else if (attr === 'active' && typeof value === 'boolean') out.active = value;
    else if (attr === 'id' && typeof value === 'string') out.id = value;
    else throw new InvalidFilter(`Filtering on "${m[1]}" is not supported; use userName, emails or active.`);
  }
  return out;
}
