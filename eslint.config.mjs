// A small rule set: ESLint's and typescript-eslint's recommended rules, without type information (fast).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import fs from 'node:fs';
// Turns off the stylistic rules that Prettier owns (`npm run lint` runs `prettier --check` too).
import prettierConfig from 'eslint-config-prettier';

// Layer rules (issue 25). Each feature has two surfaces: index.ts, its rules (what other features'
// rules, the ingest thread and the CLI may import: never Express, views or routers), and routes.ts,
// its HTTP part (routers, pages, sign-in glue) for the app, the admin shell and other routes (api/, scim/
// and admin/ are HTTP through and through: their index.ts is their router). A feature's other files are
// its own. data/ never imports http/; shared/ imports no feature, http/ or data/;
// only http/, the routes and app.ts import Express.
const FEATURES = [
  'access',
  'users',
  'qualification',
  'roles',
  'sites',
  'signin',
  'account',
  'registration',
  'audit',
  'ingest',
  'scim',
  'api',
  'mail',
  'dashboard',
  'admin',
  'passkeys',
  'bot-check',
  'privacy',
  'federation',
];
const zones = (surfaces) => [
  ...FEATURES.flatMap((feature) =>
    FEATURES.filter((other) => other !== feature).map((other) => ({
      target: `./src/${feature}`,
      from: `./src/${other}`,
      except: surfaces,
      message: `import ${other}/ through ${surfaces.join(' or ')}, not its files`,
    })),
  ),
  // Outside the features (app.ts, server.ts, http/, shared/, data/, cli/): through the surfaces too.
  // data/models registers every feature's model, so it may import the model files (*.model.ts).
  ...FEATURES.map((feature) => ({
    target: ['./src/*.ts', './src/http', './src/shared', './src/data/*.ts', './src/cli'],
    from: `./src/${feature}`,
    except: ['./index.ts', './routes.ts'],
    message: `import ${feature}/ through its index.ts or routes.ts, not its files`,
  })),
  { target: './src/data', from: './src/http', message: 'data/ never imports http/' },
  {
    target: './src/shared',
    from: [...FEATURES.map((f) => `./src/${f}`), './src/http', './src/data'],
    message: 'shared/ is below every feature, http/ and data/',
  },
];
// A model may import the models it builds on (a contact's email pattern, a license's user types), not
// through index.ts: the rules behind an index import the models back, and a schema needs its values at load.
const modelFiles = (feature) =>
  fs
    .readdirSync(`src/${feature}`)
    .filter((f) => f.endsWith('.model.ts'))
    .map((f) => `./${f}`);
// A feature's HTTP files: they may also use other features' routes.ts.
const HTTP_FILES = [
  'src/**/routes.ts',
  'src/**/*-routes.ts',
  'src/**/*-pages.ts',
  'src/**/*-page.ts',
  'src/admin/**',
  'src/api/**',
  'src/scim/index.ts',
  'src/scim/users.ts',
  'src/account/admin-password-links.ts',
  'src/account/site-paths.ts',
  'src/audit/audit-view.ts',
  'src/**/*-middleware.ts',
  'src/signin/passport.ts',
];
// Files that may import Express: http/, app.ts, the routes and a feature's Express middleware
// (*-middleware.ts: signin's session areas and passport run on req/res; only HTTP files import them).
const EXPRESS_ALLOWED = [
  'src/http/**',
  'src/app.ts',
  'src/**/routes.ts',
  'src/**/*-routes.ts',
  'src/**/*-middleware.ts',
  'src/**/*-pages.ts',
  'src/**/*-page.ts',
  'src/admin/**',
  'src/api/**',
  'src/scim/index.ts',
  'src/scim/users.ts',
  'src/account/admin-password-links.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'packages/*/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-namespace': 'off', // Express's own typings are augmented through `declare global { namespace Express }`
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } } },
    rules: {
      'import/no-restricted-paths': ['error', { zones: zones(['./index.ts']) }],
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'express', message: 'only http/, the routes and app.ts import Express' }],
          patterns: [{ group: ['**/*-middleware'], message: "a feature's Express middleware is for HTTP files only" }],
        },
      ],
    },
  },
  {
    files: ['src/**/*.model.ts'],
    rules: {
      'import/no-restricted-paths': [
        'error',
        {
          zones: FEATURES.flatMap((feature) =>
            FEATURES.filter((other) => other !== feature).map((other) => ({
              target: `./src/${feature}`,
              from: `./src/${other}`,
              except: modelFiles(other),
              message: 'a model imports only models',
            })),
          ),
        },
      ],
    },
  },
  {
    files: HTTP_FILES,
    rules: { 'import/no-restricted-paths': ['error', { zones: zones(['./index.ts', './routes.ts']) }] },
  },
  { files: EXPRESS_ALLOWED, rules: { 'no-restricted-imports': 'off' } },
  // The engine (packages/embedded-mongo) is started by the connection code only; nothing else knows which
  // database runs. A syntax rule, not a path zone: the package resolves to its dist/ only after a build.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/data/connection.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportDeclaration[source.value=/embedded-mongo/]',
          message: 'only data/connection.ts imports the embedded engine',
        },
      ],
    },
  },
  {
    files: ['public/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        Intl: 'readonly',
        navigator: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URLSearchParams: 'readonly',
        URL: 'readonly',
        Blob: 'readonly',
      },
    },
  },
  {
    files: ['*.js', '*.mjs', 'packages/*/*.js'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly' } },
  },
  {
    // The example app of the README (a plain CommonJS Node program).
    files: ['docs/example-app/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
  prettierConfig,
);
