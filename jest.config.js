/** Jest runs TypeScript through ts-jest (TypeScript 5: ts-jest needs its compiler API). */
const ESM_ONLY = '(@scure|@noble|oidc-provider|openid-client|oauth4webapi|jose)';

module.exports = {
  testEnvironment: 'node',
  // The engine package's tests (packages/embedded-mongo/test) run with the portal's.
  roots: ['<rootDir>/test', '<rootDir>/packages/embedded-mongo/test'],
  // The engine package from its sources, as tsconfig.json's paths say (its dist/ exists only after a build).
  moduleNameMapper: { '^@identity-portal/embedded-mongo$': '<rootDir>/packages/embedded-mongo/src/index.ts' },
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // ESM-only packages that Node 20.19+ requires natively but Jest 29 cannot: otplib's base32 and HMAC
    // plugins (@scure, @noble), and the OpenID Connect provider, the client the tests use and their JOSE
    // library (oidc-provider, openid-client, oauth4webapi, jose). They are turned into CommonJS for the tests.
    [`^.+/node_modules/${ESM_ONLY}/.+\\.js$`]: [
      'ts-jest',
      { diagnostics: false, isolatedModules: true, tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } },
    ],
  },
  transformIgnorePatterns: [`^(?!.*/node_modules/${ESM_ONLY}/).*/node_modules/`],
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/helpers/known-warnings.js'],
  maxWorkers: 2,
};
