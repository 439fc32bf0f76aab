/**
 * npm run admin:create -- --username admin@example.com [--password ...] [--first-name ...] [--last-name ...]
 * Creates an internal System Administrator. Asks for the password (hidden) when not given. With the
 * embedded database it opens DATA_DIR directly, so stop the portal first; with MONGODB_URI it can run
 * any time.
 */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { runCommand, withDatabase } from './command';
import { seed } from '../data/seed';
import { createAdministrator } from '../users';
import { isDomainError } from '../shared/errors';
import { normaliseUsername } from '../shared/username';

function askHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const rlAny = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    rlAny._writeToOutput = (s: string) => {
      if (s.startsWith(question)) rlAny.output.write(s);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      username: { type: 'string' },
      password: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
    },
  });
  if (!values.username) {
    process.stderr.write(
      'Usage: npm run admin:create -- --username admin@example.com [--password ...] [--first-name ...] [--last-name ...]\n',
    );
    return 64;
  }
  const password = values.password ?? (process.stdin.isTTY ? await askHidden('Password: ') : '');
  if (!password) {
    process.stderr.write('Give --password, or run in a terminal to be asked for it.\n');
    return 64;
  }
  const username = values.username;
  return withDatabase(async () => {
    try {
      await seed();
      const user = await createAdministrator(
        { username, password, firstName: values['first-name'], lastName: values['last-name'] },
        { onlyIfMissing: true },
      );
      if (!user) {
        process.stdout.write(`A user named ${normaliseUsername(username)} already exists; nothing changed.\n`);
        return 0;
      }
      process.stdout.write(`Created administrator ${user.username}. Sign in at /admin/login.\n`);
      return 0;
    } catch (err) {
      if (!isDomainError(err)) throw err;
      const fields = (err as { fields?: Record<string, string> }).fields ?? {};
      process.stderr.write(
        `${err.message}\n${Object.entries(fields)
          .map(([k, v]) => `  ${k}: ${v}\n`)
          .join('')}`,
      );
      return 65;
    }
  });
}

runCommand('admin:create', main);
