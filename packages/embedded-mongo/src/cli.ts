/**
 * npm run db: the embedded engine as a standalone server on DB_HOST:DB_PORT (127.0.0.1:27017) with its
 * files in DATA_DIR/db, so several portal instances, mongosh or Compass can share it. It has no
 * authentication, so a DB_HOST that is not a loopback address is refused with exit code 78 (EX_CONFIG).
 */
import path from 'node:path';
import { isLoopback, startEmbeddedMongo } from './index';

const EX_CONFIG = 78;

async function main() {
  const host = process.env.DB_HOST || '127.0.0.1';
  if (!isLoopback(host)) {
    process.stderr.write(
      `embedded database: refusing DB_HOST=${host}. The embedded engine has no authentication, so it listens on a loopback address only ` +
        `(127.0.0.1, ::1 or localhost). To reach it from another machine use an SSH tunnel; for a shared database use MongoDB with authentication (MONGODB_URI).\n`,
    );
    process.exit(EX_CONFIG);
  }
  const port = Number(process.env.DB_PORT || 27017);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('DB_PORT must be a port number');
  const dataDir = path.join(path.resolve(process.env.DATA_DIR || './data'), 'db');
  const log = (level: string, msg: string, extra: object = {}) =>
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), msg, ...extra })}\n`);
  const db = await startEmbeddedMongo({
    host,
    port,
    dataDir,
    logger: {
      info: (o, m) => log('info', m ?? String(o)),
      warn: (o: unknown, m?: unknown) => log('warn', String(m ?? o)),
      error: (o: unknown, m?: unknown) => log('error', String(m ?? o)),
    },
  });
  log(
    'info',
    'Embedded MongoDB-compatible engine listening: for development and tests only, use MongoDB in production',
    { uri: db.uri, dataDir },
  );
  const stop = async (signal: string) => {
    log('info', 'Stopping: flushing data', { signal });
    await db.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`embedded database failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
