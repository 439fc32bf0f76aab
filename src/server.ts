/** Process entry: configuration, database, seed, first administrator, HTTP listen, graceful shutdown. */
import { lifecycleOf } from './shared/lifecycle-settings';
import './threadpool'; // first: before anything starts the thread pool
import type { Server } from 'node:http';
import { loadConfig, ConfigError, secretFor, type Config } from './config';
import { createLogger } from './logger';
import { connectDatabase, embeddedDataDir } from './data/connection';
import { DEFAULT_SITE_SLUG, seed } from './data/seed';
import { administratorExists, createAdministrator, issueSetupToken } from './users';
import { createApp } from './app';
import { isDomainError } from './shared/errors';
import { startBackgroundWork } from './ingest';
import { startDeletionSweep } from './privacy';
import { startSeatMeter } from './qualification';
import { warmPasswordPolicy } from './signin';
import { installProcessGuard } from './process-guard';
import { warnOfSharedEmails } from './data/shared-emails';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  installProcessGuard(logger);
  const db = await connectDatabase({
    mongoUri: config.mongoUri,
    embeddedDataDir: embeddedDataDir(config.dataDir),
    logger,
  });
  await seed();
  await warnOfSharedEmails(logger);

  if (config.admin) {
    try {
      const created = await createAdministrator(config.admin, { onlyIfMissing: true });
      if (created) logger.info({ username: created.username }, 'Created the administrator from ADMIN_USERNAME');
    } catch (err) {
      if (!isDomainError(err)) throw err;
      logger.fatal(
        { reason: err.message, fields: (err as { fields?: unknown }).fields },
        'ADMIN_USERNAME/ADMIN_PASSWORD were refused',
      );
      await db.close();
      process.exit(78);
    }
  }
  if (!(await administratorExists())) {
    const token = await issueSetupToken();
    logger.warn(
      { setupUrl: `${config.publicUrl}/admin/setup?token=${token}` },
      'No administrator exists yet. Open this one-time link (valid for 1 hour) to create one.',
    );
  }

  warmPasswordPolicy();
  const app = createApp(config, db, logger);
  const background = startBackgroundWork({
    logger,
    databaseUri: db.uri,
    ingest: config.ingest,
    mail: { settings: config.mail, isProduction: config.isProduction },
    lifecycle: lifecycleOf(config),
  });
  // Accounts whose deletion grace period is over are erased by this sweep (src/privacy/deletion.ts).
  const deletionSweep = startDeletionSweep(
    { ...config.deletion, pseudonymKey: secretFor(config, 'audit-pseudonym') },
    logger,
  );
  const seatMeter = startSeatMeter({
    warningDays: config.seatWarningDays,
    log: logger.child({ component: 'seat-meter' }),
  });
  const server: Server = app.listen(config.port, config.host, () => {
    // The addresses to open, so a first start needs no reading to find the site and the admin area.
    logger.info(
      {
        port: config.port,
        host: config.host,
        database: db.kind,
        site: `${config.publicUrl}/s/${DEFAULT_SITE_SLUG}/`,
        admin: `${config.publicUrl}/admin`,
      },
      `Identity portal listening: open ${config.publicUrl}/s/${DEFAULT_SITE_SLUG}/ (admin area: ${config.publicUrl}/admin)`,
    );
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down: finishing in-flight requests');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    server.close(async () => {
      try {
        deletionSweep.stop();
        seatMeter.stop();
        await background.stop();
        await db.flush();
        await db.close();
        logger.info('Stopped cleanly');
        process.exit(0);
      } catch (err) {
        logger.error({ err }, 'Error during shutdown');
        process.exit(1);
      }
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
