/** The engine's own tests (unit and conformance), run alone by `npm test -w @identity-portal/embedded-mongo`; the root jest.config.js runs them with the portal's. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testTimeout: 30000,
  maxWorkers: 2,
};
