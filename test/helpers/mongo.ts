/**
 * The engine package's test database helper (packages/embedded-mongo/test/helpers/mongo.ts): the embedded
 * engine in memory, or the database named by MONGODB_URI, so the portal's tests run against either.
 */
export { failure, testMongoUri, useTestDb, type TestDb } from '../../packages/embedded-mongo/test/helpers/mongo';
