/** npm run admin:create, run as a process against a data folder, as a person would. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const cli = path.join(__dirname, '../../../src/cli/admin-create.ts');
const run = (dataDir: string, args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'development' };
  delete env.MONGODB_URI; // always the embedded engine in this folder
  return spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { env, encoding: 'utf8', timeout: 60_000 });
};

it('creates an administrator once, refuses a weak password, and explains its usage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-create-'));
  const weak = run(dir, ['--username', 'boss@example.com', '--password', 'password']);
  expect(weak.status).toBe(65);
  expect(weak.stderr).toMatch(/password: /);

  const ok = run(dir, [
    '--username',
    'Boss@Example.com',
    '--password',
    'lantern-copper-wisdom-77',
    '--first-name',
    'Big',
  ]);
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/Created administrator boss@example.com/);

  const again = run(dir, ['--username', 'boss@example.com', '--password', 'another-long-passphrase-9']);
  expect(again.status).toBe(0);
  expect(again.stdout).toMatch(/already exists; nothing changed/);

  expect(run(dir, []).status).toBe(64);
}, 120_000);
