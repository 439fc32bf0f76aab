/**
 * SCIM PATCH (RFC 7644 3.5.2) applied by scim-patch to the SCIM view of a user; the patched view is then
 * saved like a PUT body (resource.ts, resourceToChanges), so PUT and PATCH share one path.
 *
 * Before scim-patch runs, the operations are put in the shape it expects and the vendors send:
 * - ops are lower-cased (Entra ID sends Replace, Add, Remove);
 * - a path-less add or replace is split into one operation per key of its value, because Entra puts
 *   dotted (name.givenName), filtered (emails[type eq "work"].value) and URN-prefixed keys there;
 * - the extension's old URN is read as the new one;
 * - operations on attributes the portal does not keep (displayName, title, name.formatted, phone
 *   numbers, addresses, roles, the enterprise extension, the create-only contact fields…) are
 *   dropped, so the supported changes of the same request still apply.
 * Only a path that cannot be parsed is refused (400 invalidPath).
 */
import { scimPatch, ScimError, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { parseFilterText } from './filter';
import { PASSWORDS_REFUSED, type PatchOperation, type ScimView } from './resource';
import { ScimRequestError, type ScimType } from './scim-error';
import { SCIM } from './schemas';

/** Attributes of the core schema the portal keeps, in the view's spelling; sub-attributes too. */
const CORE_ATTRIBUTES: Record<string, { name: string; sub?: Record<string, string> }> = {
  username: { name: 'userName' },
  externalid: { name: 'externalId' },
  name: { name: 'name', sub: { givenname: 'givenName', familyname: 'familyName' } },
  emails: { name: 'emails', sub: { value: 'value', type: 'type', primary: 'primary', display: 'display' } },
  active: { name: 'active' },
  nickname: { name: 'nickName' },
  locale: { name: 'locale' },
  preferredlanguage: { name: 'preferredLanguage' },
  timezone: { name: 'timezone' },
};
/** Of the portal's extension only profileId can be compared (it is immutable); the rest is create-only. */
const EXTENSION_ATTRIBUTES: Record<string, string> = { profileid: 'profileId' };

const KNOWN_SCHEMAS = [SCIM.core, SCIM.extension, SCIM.legacyExtension, SCIM.enterprise];
const NAME = /^[A-Za-z][\w$-]*$/;
const URN = /^urn:[a-z0-9][a-z0-9-]{0,31}:[^\s[\]"]+$/i;

const badPath = (path: string, why: string) =>
  new ScimRequestError(`The path "${path.slice(0, 200)}" cannot be read: ${why}`, 'invalidPath');

interface ParsedPath {
  schema: string;
  attr: string;
  filter?: string;
  sub?: string;
}

/** attrPath / valuePath of RFC 7644's PATCH grammar: [URN:]attr[.sub] or [URN:]attr[filter][.sub]. */
export function parsePath(path: string): ParsedPath {
  let rest = path.trim();
  let schema: string = SCIM.core;
  if (/^urn:/i.test(rest)) {
    const known = KNOWN_SCHEMAS.find((s) => rest.toLowerCase().startsWith(`${s.toLowerCase()}:`));
    const head = rest.split('[')[0];
    const cut = known ? known.length : head.lastIndexOf(':');
    schema = rest.slice(0, cut);
    rest = rest.slice(cut + 1);
    if (!URN.test(schema)) throw badPath(path, 'the schema URN is not well formed.');
    if (schema.toLowerCase() === SCIM.legacyExtension.toLowerCase()) schema = SCIM.extension;
  }
  const m = /^([^[\].]+)(?:\[(.*)\])?(?:\.([^[\].]+))?$/s.exec(rest);
  if (!m || !NAME.test(m[1]) || (m[3] !== undefined && !NAME.test(m[3]))) {
    throw badPath(
      path,
      'use attribute, attribute.subAttribute or attribute[filter].subAttribute, optionally after a schema URN.',
    );
  }
  if (m[2] !== undefined) {
    try {
      parseFilterText(m[2]);
    } catch (err) {
      throw badPath(path, `the filter in brackets is not valid (${(err as Error).message})`);
    }
  }
  return {
    schema: KNOWN_SCHEMAS.find((s) => s.toLowerCase() === schema.toLowerCase()) ?? schema,
    attr: m[1],
    filter: m[2],
    sub: m[3],
  };
}

/** The path in the view's spelling when the portal keeps that attribute; null when it is ignored. */
function supportedPath(p: ParsedPath): string | null {
  if (p.schema === SCIM.extension) {
    const name = EXTENSION_ATTRIBUTES[p.attr.toLowerCase()];
    return name && !p.filter && !p.sub ? `${SCIM.extension}:${name}` : null;
  }
  if (p.schema !== SCIM.core) return null;
  if (p.attr.toLowerCase() === 'password') throw new ScimRequestError(PASSWORDS_REFUSED, 'invalidValue');
  const attr = CORE_ATTRIBUTES[p.attr.toLowerCase()];
  if (!attr) return null;
  if (p.filter !== undefined && attr.name !== 'emails') return null;
  let sub = '';
  if (p.sub !== undefined) {
    const name = attr.sub?.[p.sub.toLowerCase()];
    if (!name) return null;
    sub = `.${name}`;
  }
  return `${attr.name}${p.filter !== undefined ? `[${p.filter}]` : ''}${sub}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The operations in scim-patch's shape, the ignored ones left out. */
export function normaliseOperations(operations: PatchOperation[]): ScimPatchOperation[] {
  const out: ScimPatchOperation[] = [];
  const queue = operations.map((o) => ({ op: o.op, path: o.path, value: o.value, hasValue: 'value' in o }));
  while (queue.length) {
    const o = queue.shift()!;
    const op = o.op.toLowerCase() as 'add' | 'replace' | 'remove';
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw new ScimRequestError(`Unknown op "${o.op}": use add, replace or remove.`, 'invalidSyntax');
    if (op !== 'remove' && !o.hasValue) throw new ScimRequestError(`An ${op} operation needs a value.`, 'invalidValue');
    if (o.path === undefined || o.path.trim() === '') {
      if (op === 'remove') throw new ScimRequestError('A remove operation needs a path.', 'noTarget');
      if (!isObject(o.value))
        throw new ScimRequestError('An operation without a path needs an object value.', 'invalidValue');
      for (const [key, value] of Object.entries(o.value)) {
        const schema = KNOWN_SCHEMAS.find((s) => s.toLowerCase() === key.toLowerCase());
        if (schema && isObject(value)) {
          for (const [sub, v] of Object.entries(value))
            queue.push({ op, path: `${schema}:${sub}`, value: v, hasValue: true });
        } else {
          queue.push({ op, path: key, value, hasValue: true });
        }
      }
      continue;
    }
    const whole = KNOWN_SCHEMAS.find((s) => s.toLowerCase() === o.path!.trim().toLowerCase());
    if (whole) {
      // A whole extension as the path: its object value's keys, one by one; removing it keeps the portal's.
      if (op !== 'remove' && isObject(o.value))
        for (const [sub, v] of Object.entries(o.value))
          queue.push({ op, path: `${whole}:${sub}`, value: v, hasValue: true });
      continue;
    }
    const path = supportedPath(parsePath(o.path));
    if (!path) continue;
    out.push(op === 'remove' ? { op, path } : { op, path, value: o.value });
  }
  return out;
}

/** The view with the operations applied (a copy); scim-patch's refusals become SCIM 400s. */
export function applyPatch(view: ScimView, operations: PatchOperation[]): Record<string, unknown> {
  const ops = normaliseOperations(operations);
  if (!ops.length) return structuredClone(view) as Record<string, unknown>;
  try {
    return scimPatch(structuredClone(view) as unknown as ScimResource, ops, {
      mutateDocument: true,
      treatMissingAsAdd: true,
    }) as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ScimError)
      throw new ScimRequestError(
        err.message,
        ((err as ScimError & { scimCode?: string }).scimCode ?? 'invalidValue') as ScimType,
      );
    if (err instanceof TypeError)
      throw new ScimRequestError(
        'An operation does not fit the attribute it targets (an object where text belongs, for example).',
        'invalidValue',
      );
    throw err;
  }
}
