/**
 * What every `npm run` command shares: the configuration (silent logs), the database opened and always
 * flushed and closed, and the exit code (1 with the command's name for an unexpected error).
 */
import { loadConfig, type Config } from '../config';
import { connectDatabase, embeddedDataDir } from '../data/connection';

/** Runs `work` with the database open; its answer is the exit code. */
export async function withDatabase(work: (config: Config) => Promise<number>): Promise<number> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const db = await connectDatabase({ mongoUri: config.mongoUri, embeddedDataDir: embeddedDataDir(config.dataDir) });
  try {
    return await work(config);
  } finally {
    await db.flush();
    await db.close();
  }
}

/** Exits with `main`'s code; an unexpected error is one line on stderr and exit code 1. */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
