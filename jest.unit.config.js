/**
 * `npm run test:unit`: the database-free unit tests only (pure rules, parsing, configuration), in seconds.
 * A unit test that starts a database or a process (the engine's, ingest, mail delivery, the CLI) stays out
 * of this list and runs with the whole suite (`npx jest`).
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  testMatch: [
    '<rootDir>/test/unit/config.test.ts',
    '<rootDir>/test/unit/logger.test.ts',
    '<rootDir>/test/unit/access/permissions.test.ts',
    '<rootDir>/test/unit/users/search-terms.test.ts',
    '<rootDir>/test/unit/users/users-and-passwords.test.ts',
    '<rootDir>/test/unit/ingest/ingest-columns.test.ts',
    '<rootDir>/test/unit/qualification/qualification-signals.test.ts',
    '<rootDir>/test/unit/federation/secret-box.test.ts',
    '<rootDir>/test/unit/community/community-text.test.ts',
  ],
};
