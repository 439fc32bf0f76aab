/** MongoDB server errors as the driver expects them: { ok: 0, code, codeName, errmsg }. */
export class MongoCommandError extends Error {
  constructor(public readonly code: number, public readonly codeName: string, message: string, public readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export class DuplicateKeyError extends MongoCommandError {
  constructor(ns: string, indexName: string, public readonly keyPattern: Record<string, unknown>, public readonly keyValue: Record<string, unknown>) {
    super(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${indexName} dup key: ${JSON.stringify(keyValue)}`, { keyPattern, keyValue });
  }
}

export const badValue = (msg: string) => new MongoCommandError(2, 'BadValue', msg);
export const typeMismatch = (msg: string) => new MongoCommandError(14, 'TypeMismatch', msg);
export const failedToParse = (msg: string) => new MongoCommandError(9, 'FailedToParse', msg);
export const namespaceNotFound = (ns: string) => new MongoCommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
export const namespaceExists = (ns: string) => new MongoCommandError(48, 'NamespaceExists', `Collection ${ns} already exists.`);
export const cursorNotFound = (id: string) => new MongoCommandError(43, 'CursorNotFound', `cursor id ${id} not found`);
export const commandNotFound = (name: string) => new MongoCommandError(59, 'CommandNotFound', `no such command: '${name}'`);
export const indexNotFound = (name: string) => new MongoCommandError(27, 'IndexNotFound', `index not found with name [${name}]`);
export const indexOptionsConflict = (msg: string) => new MongoCommandError(85, 'IndexOptionsConflict', msg);
export const immutableField = (msg: string) => new MongoCommandError(66, 'ImmutableField', msg);
export const notSupported = (msg: string) => new MongoCommandError(115, 'CommandNotSupported', msg);
