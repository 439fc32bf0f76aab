/**
 * Collection validators, enforced as MongoDB does (issue 21): `create` with `validator` (a
 * `$jsonSchema`, query conditions, or both) makes every insert and update check the new document, and
 * a document that fails is refused with 121 DocumentValidationFailure and not written.
 * `validationLevel`: `strict` (default) checks every write, `moderate` skips updates of documents that
 * were already invalid, `off` checks nothing. `validationAction: 'error'` (the default) is the only
 * action: `warn` and `errorAndLog` would log through a server log the engine does not keep, so they are
 * refused at create (115) rather than silently behaving as `error` or as nothing. A command's
 * `bypassDocumentValidation: true` skips the check, as in MongoDB.
 *
 * `$jsonSchema` is checked with ajv (JSON Schema draft 4, MongoDB's dialect) plus MongoDB's `bsonType`
 * keyword, read with the matcher's BSON type names.
 */
import Ajv from 'ajv';
import type { Document } from 'bson';
import { MongoCommandError, badValue, notSupported } from './errors';
import { isPlainObject } from './keys';
import { bsonTypes, matcher } from './matcher';

type Check = (doc: Document) => boolean;

const ajv = new Ajv({ schemaId: 'auto', allErrors: false, jsonPointers: true });
ajv.addKeyword('bsonType', {
  errors: false,
  validate: (wanted: unknown, data: unknown) => {
    const names = Array.isArray(wanted) ? wanted : [wanted];
    const have = bsonTypes(data);
    return names.some((n) => have.includes(n === 'boolean' ? 'bool' : String(n)));
  },
});

const compiled = new WeakMap<Document, Check>();

/** The check a collection's options ask for, or null when none applies; throws for what MongoDB refuses or the engine cannot do. */
export function validatorOf(options: Document): { check: Check; moderate: boolean } | null {
  const { validator, validationLevel = 'strict', validationAction = 'error' } = options;
  if (!['strict', 'moderate', 'off'].includes(validationLevel))
    throw badValue(`Enumeration value '${validationLevel}' for field 'validationLevel' is not a valid value.`);
  if (!['error', 'warn', 'errorAndLog'].includes(validationAction))
    throw badValue(`Enumeration value '${validationAction}' for field 'validationAction' is not a valid value.`);
  if (validationAction !== 'error')
    throw notSupported(
      `validationAction '${validationAction}' is not supported by the embedded engine (it keeps no server log): use 'error'`,
    );
  if (validator === undefined || validationLevel === 'off') return null;
  if (!isPlainObject(validator)) throw badValue("'validator' must be an object");
  if (Object.keys(validator).length === 0) return null;
  let check = compiled.get(validator);
  if (!check) {
    check = compile(validator);
    compiled.set(validator, check);
  }
  return { check, moderate: validationLevel === 'moderate' };
}

function compile(validator: Document): Check {
  const { $jsonSchema: schema, ...conditions } = validator;
  for (const k of ['$where', '$near', '$nearSphere', '$text'])
    if (k in conditions) throw badValue(`${k} is not allowed in collection validators`);
  let schemaCheck: Check | null = null;
  if (schema !== undefined) {
    if (!isPlainObject(schema)) throw badValue('$jsonSchema must be an object');
    try {
      const validate = ajv.compile(schema);
      schemaCheck = (doc) => validate(doc) === true;
    } catch (err) {
      throw new MongoCommandError(9, 'FailedToParse', `$jsonSchema: ${(err as Error).message}`);
    }
  }
  const query = Object.keys(conditions).length ? matcher(conditions) : null;
  return (doc) => (!schemaCheck || schemaCheck(doc)) && (!query || query.test(doc));
}

/**
 * Throws 121 when `next` (a new document, or the new version of `previous`) fails the collection's
 * validator. Under `moderate`, an update of a document that already failed is let through.
 */
export function checkDocument(options: Document, next: Document, previous: Document | null, bypass: unknown): void {
  if (bypass === true) return;
  const v = validatorOf(options);
  if (!v || v.check(next)) return;
  if (previous && v.moderate && !v.check(previous)) return;
  throw new MongoCommandError(121, 'DocumentValidationFailure', 'Document failed validation', {
    errInfo: { failingDocumentId: next._id },
  });
}
