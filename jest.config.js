/** Jest runs TypeScript through ts-jest (TypeScript 5: ts-jest needs its compiler API). */
module.exports = {
  testEnvironment: 'node',
  // The engine package's tests (packages/embedded-mongo/test) run with the portal's.
  roots: ['<rootDir>/test', '<rootDir>/packages/embedded-mongo/test'],
  // The engine package from its sources, as tsconfig.json's paths say (its dist/ exists only after a build).
  moduleNameMapper: { '^@identity-portal/embedded-mongo$': '<rootDir>/packages/embedded-mongo/src/index.ts' },
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // otplib's base32 and HMAC plugins depend on ESM-only packages, and so does openid-client 6 (with
    // oauth4webapi and jose); Node requires them natively, Jest 29 cannot, so they are turned into
    // CommonJS for the tests.
    '^.+/node_modules/(@scure|@noble|openid-client|oauth4webapi|jose)/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } }],
  },
  transformIgnorePatterns: ['^(?!.*/node_modules/(@scure|@noble|openid-client|oauth4webapi|jose)/).*/node_modules/'],
  testTimeout: 30000,
  maxWorkers: 2,
};
