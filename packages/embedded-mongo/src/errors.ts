/** MongoDB server errors as the driver expects them: { ok: 0, code, codeName, errmsg }. */
export class MongoCommandError extends Error {
  constructor(
    public readonly code: number,
    public readonly codeName: string,
    message: string,
    public readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export class DuplicateKeyError extends MongoCommandError {
  constructor(
    ns: string,
    indexName: string,
    public readonly keyPattern: Record<string, unknown>,
    public readonly keyValue: Record<string, unknown>,
  ) {
    super(
      11000,
      'DuplicateKey',
      `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${JSON.stringify(keyValue)}`,
      { keyPattern, keyValue },
    );
  }
}

export const badValue = (msg: string) => new MongoCommandError(2, 'BadValue', msg);
export const typeMismatch = (msg: string) => new MongoCommandError(14, 'TypeMismatch', msg);
export const failedToParse = (msg: string) => new MongoCommandError(9, 'FailedToParse', msg);
export const namespaceNotFound = (ns: string) =>
  new MongoCommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
export const namespaceExists = (ns: string) =>
  new MongoCommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
export const cursorNotFound = (id: string) => new MongoCommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
export const commandNotFound = (name: string) =>
  new MongoCommandError(59, 'CommandNotFound', `no such command: '${name}'`);
export const indexNotFound = (name: string) =>
  new MongoCommandError(27, 'IndexNotFound', `index not found with name [${name}]`);
export const indexOptionsConflict = (msg: string) => new MongoCommandError(85, 'IndexOptionsConflict', msg);
export const immutableField = (msg: string) => new MongoCommandError(66, 'ImmutableField', msg);
export const notSupported = (msg: string) => new MongoCommandError(115, 'CommandNotSupported', msg);
export const conflictingUpdateOperators = (msg: string) => new MongoCommandError(40, 'ConflictingUpdateOperators', msg);
export const pathNotViable = (msg: string) => new MongoCommandError(28, 'PathNotViable', msg);
export const invalidOptions = (msg: string) => new MongoCommandError(72, 'InvalidOptions', msg);
export const maxTimeExpired = () => new MongoCommandError(50, 'MaxTimeMSExpired', 'operation exceeded time limit');
export const illegalOperation = (msg: string) => new MongoCommandError(20, 'IllegalOperation', msg);
export const objectTooLarge = (msg: string) => new MongoCommandError(10334, 'BSONObjectTooLarge', msg);

/**
 * Any error as a MongoDB error. mingo (the query library) throws plain Errors for malformed queries,
 * unknown operators and stages and bad expression arguments: they become the codes MongoDB uses
 * (40324 unknown stage, 2 BadValue otherwise), never a generic code 1.
 */
export function asMongoError(err: unknown): MongoCommandError {
  if (err instanceof MongoCommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RangeError && /call stack/i.test(message))
    return new MongoCommandError(15, 'Overflow', 'document or query nested too deeply');
  const stage = /unregistered pipeline operator '?(\$\w+)/i.exec(message);
  if (stage) return new MongoCommandError(40324, 'Location40324', `Unrecognized pipeline stage name: '${stage[1]}'`);
  const queryOp = /unknown (top level |query )?operator:?\s*'?(\$\w+)/i.exec(message);
  if (queryOp) return badValue(`unknown ${queryOp[1] ? 'top level ' : ''}operator: ${queryOp[2]}`);
  const expression = /(?:accumulator|operator) '?(\$\w+)'? is not registered/i.exec(message);
  if (expression) return new MongoCommandError(31325, 'Location31325', `Unknown expression ${expression[1]}`);
  if (/\$group specification must include an '_id'/.test(message))
    return new MongoCommandError(15955, 'Location15955', 'a group specification must specify an _id');
  return badValue(message);
}
