/**
 * SCIM filters (RFC 7644 3.4.2.2) as a database query. scim2-parse-filter reads the grammar (eq ne co
 * sw ew pr gt ge lt le, and or not, parentheses, value paths such as emails[type eq "work"]); its tree
 * is translated here through an allow-list of attributes, each with the comparisons it supports.
 * Everything else is 400 invalidFilter: an unknown attribute, unreadable text, a bad escape or a raw
 * control character in a value, a filter too long or too deeply nested.
 *
 * Quoted values are read here with JSON's rules (RFC 7644 says they are JSON strings) and handed to
 * the parser as placeholders, because the parser keeps backslashes literally.
 */
import { trusted, Types } from 'mongoose';
import { parse, type Filter } from 'scim2-parse-filter';
import { ScimRequestError } from './scim-error';
import { SCIM } from './schemas';
import { toObjectId } from '../shared/ids';

export const MAX_FILTER_LENGTH = 1000;
const MAX_DEPTH = 12;

type Query = Record<string, unknown>;
const NOTHING: Query = { _id: null };
const EVERYTHING: Query = {};

/** SCIM's ordering operators as MongoDB's. */
const ORDER: Record<string, string> = { gt: '$gt', ge: '$gte', lt: '$lt', le: '$lte' };

const invalid = (message: string) => new ScimRequestError(message, 'invalidFilter');
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** How an attribute is stored: lower-cased text, mixed-case text compared without case, exact text… */
type Kind = 'lower' | 'caseless' | 'exact' | 'boolean' | 'date' | 'id' | 'constant';
interface Attribute {
  field: string;
  kind: Kind;
  constant?: string | boolean;
  ownedByClient?: boolean;
}

const CORE: Record<string, Attribute> = {
  id: { field: '_id', kind: 'id' },
  username: { field: 'username', kind: 'lower' },
  externalid: { field: 'value', kind: 'exact', ownedByClient: true },
  emails: { field: 'email', kind: 'lower' },
  'emails.value': { field: 'email', kind: 'lower' },
  'emails.type': { field: '', kind: 'constant', constant: 'work' },
  'emails.primary': { field: '', kind: 'constant', constant: true },
  'name.givenname': { field: 'firstName', kind: 'caseless' },
  'name.familyname': { field: 'lastName', kind: 'caseless' },
  nickname: { field: 'communityNickname', kind: 'caseless' },
  usertype: { field: 'userType', kind: 'lower' },
  active: { field: 'isActive', kind: 'boolean' },
  'meta.created': { field: 'createdAt', kind: 'date' },
  'meta.lastmodified': { field: 'updatedAt', kind: 'date' },
};
const SUPPORTED =
  'id, userName, externalId, emails (value, type, primary), name.givenName, name.familyName, nickName, userType, active, meta.created, meta.lastModified';

/** Lower-cased attribute path without the core schema's URN. */
function attributeName(path: string, within?: string): string {
  const name = path.toLowerCase().replace(`${SCIM.core.toLowerCase()}:`, '');
  return within ? `${within}.${name.replace(`${within}.`, '')}` : name;
}

/** Each quoted value read with JSON's rules and replaced by its index, so the parser sees plain text. */
export function readQuotedValues(filter: string): { text: string; values: string[] } {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(filter)) {
    throw invalid(
      'The filter contains a control character (a tab or a line break): inside a quoted value write it as an escape such as \\t.',
    );
  }
  const values: string[] = [];
  const text = filter.replace(/"(?:[^"\\]|\\[\s\S])*"/g, (quoted) => {
    try {
      values.push(JSON.parse(quoted) as string);
    } catch {
      throw invalid(
        `The value ${quoted.slice(0, 60)} has a bad escape: inside quotes use \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX.`,
      );
    }
    return `"${values.length - 1}"`;
  });
  return { text, values };
}

/** Parses a filter (also the one inside a PATCH path's brackets); throws invalidFilter. */
export function parseFilterText(filter: string): { tree: Filter; values: string[] } {
  if (filter.length > MAX_FILTER_LENGTH) throw invalid(`The filter is longer than ${MAX_FILTER_LENGTH} characters.`);
  const { text, values } = readQuotedValues(filter);
  try {
    return { tree: parse(text), values };
  } catch {
    throw invalid(
      'The filter could not be read: write attribute operator "value" (for example userName eq "ada@example.com"), joined by and, or, not and parentheses.',
    );
  }
}

interface Context {
  values: string[];
  client: Types.ObjectId;
}

function compValue(f: { compValue: unknown }, ctx: Context): unknown {
  return typeof f.compValue === 'string' ? ctx.values[Number(f.compValue)] : f.compValue;
}

function stringQuery(attr: Attribute, op: string, value: unknown, raw: string): Query {
  if (typeof value !== 'string') throw invalid(`${raw} compares with a quoted text value.`);
  const v = attr.kind === 'lower' ? value.toLowerCase() : value;
  const flags = attr.kind === 'exact' ? '' : 'i';
  const regex = (pattern: string) => ({ [attr.field]: trusted({ $regex: new RegExp(pattern, flags) }) });
  switch (op) {
    case 'eq':
      return attr.kind === 'caseless' ? regex(`^${escapeRegex(v)}$`) : { [attr.field]: v };
    case 'ne':
      return { $nor: [stringQuery(attr, 'eq', value, raw)] };
    case 'co':
      return regex(escapeRegex(v));
    case 'sw':
      return regex(`^${escapeRegex(v)}`);
    case 'ew':
      return regex(`${escapeRegex(v)}$`);
    default:
      return { [attr.field]: trusted({ [ORDER[op]]: v }) };
  }
}

function constantMatches(constant: string | boolean, op: string, value: unknown, raw: string): boolean {
  if (op === 'pr') return true;
  if (typeof constant === 'boolean') {
    if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne'))
      throw invalid(`${raw} takes eq or ne with true or false.`);
    return (constant === value) === (op === 'eq');
  }
  if (typeof value !== 'string') throw invalid(`${raw} compares with a quoted text value.`);
  const [c, v] = [constant.toLowerCase(), value.toLowerCase()];
  const result: Record<string, boolean> = {
    eq: c === v,
    ne: c !== v,
    co: c.includes(v),
    sw: c.startsWith(v),
    ew: c.endsWith(v),
    gt: c > v,
    ge: c >= v,
    lt: c < v,
    le: c <= v,
  };
  return result[op];
}

function comparison(f: Filter & { attrPath: string }, ctx: Context, within?: string): Query {
  const name = attributeName(f.attrPath, within);
  const attr = CORE[name];
  if (!attr) throw invalid(`Filtering on "${f.attrPath}" is not supported; use ${SUPPORTED}.`);
  const op = f.op;
  const value = 'compValue' in f ? compValue(f, ctx) : undefined;
  // externalId: conditions on the calling client's own entry of scimExternalIds, never another client's.
  const owned = (q: Query): Query =>
    attr.ownedByClient ? { scimExternalIds: trusted({ $elemMatch: { owner: ctx.client, ...q } }) } : q;
  switch (attr.kind) {
    case 'constant':
      return constantMatches(attr.constant!, op, value, f.attrPath) ? EVERYTHING : NOTHING;
    case 'boolean': {
      if (op === 'pr') return EVERYTHING;
      const b = typeof value === 'string' && /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value;
      if (typeof b !== 'boolean' || (op !== 'eq' && op !== 'ne'))
        throw invalid(`${f.attrPath} takes eq or ne with true or false.`);
      return { [attr.field]: op === 'eq' ? b : !b };
    }
    case 'id': {
      if (op === 'pr') return EVERYTHING;
      if (typeof value !== 'string' || (op !== 'eq' && op !== 'ne'))
        throw invalid('id takes eq or ne with a quoted id.');
      const id = toObjectId(value);
      const eq = id ? { _id: id } : NOTHING;
      return op === 'eq' ? eq : { $nor: [eq] };
    }
    case 'date': {
      if (op === 'pr') return EVERYTHING;
      const at = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : null;
      if (!at || Number.isNaN(at.getTime()) || ['co', 'sw', 'ew'].includes(op))
        throw invalid(`${f.attrPath} compares with a quoted date and time such as "2024-05-01T00:00:00Z".`);
      if (op === 'ne') return { $nor: [{ [attr.field]: at }] };
      return op === 'eq' ? { [attr.field]: at } : { [attr.field]: trusted({ [ORDER[op]]: at }) };
    }
    default:
      if (op === 'pr') return owned({ [attr.field]: trusted({ $exists: true, $nin: [null, ''] }) });
      if (op === 'ne') return { $nor: [owned(stringQuery(attr, 'eq', value, f.attrPath))] };
      return owned(stringQuery(attr, op, value, f.attrPath));
  }
}

function translate(f: Filter, ctx: Context, depth: number, within?: string): Query {
  if (depth > MAX_DEPTH) throw invalid(`The filter is nested more than ${MAX_DEPTH} levels deep.`);
  switch (f.op) {
    case 'and':
    case 'or':
      return { [`$${f.op}`]: f.filters.map((g) => translate(g, ctx, depth + 1, within)) };
    case 'not':
      return { $nor: [translate(f.filter, ctx, depth + 1, within)] };
    case '[]': {
      const name = attributeName(f.attrPath);
      if (within || name !== 'emails')
        throw invalid(`Value filters ([...]) work on emails only, not on "${f.attrPath}".`);
      return translate(f.valFilter, ctx, depth + 1, 'emails');
    }
    default:
      return comparison(f, ctx, within);
  }
}

/**
 * The filter as conditions on users (none when there is no filter). externalId compares with the
 * calling client's own ids only (`client`: the API token's admin).
 */
export function scimFilterQuery(filter: string | undefined, client: Types.ObjectId): Query[] {
  if (filter === undefined || filter.trim() === '') return [];
  const { tree, values } = parseFilterText(filter);
  return [translate(tree, { values, client }, 0)];
}
