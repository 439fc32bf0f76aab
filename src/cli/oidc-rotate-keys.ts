/**
 * npm run oidc:rotate-keys: replaces the OpenID Connect provider's signing keys. The old keys stay in the
 * JWKS for OIDC_KEY_GRACE_DAYS, so tokens they signed still verify; each instance signs with the new
 * keys from its next start. With the embedded database stop the portal first (as for admin:create).
 */
import { loadConfig } from '../config';
import { connectDatabase, embeddedDataDir } from '../data/connection';
import { rotateSigningKeys } from '../oidc';

async function main(): Promise<number> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const db = await connectDatabase({ mongoUri: config.mongoUri, embeddedDataDir: embeddedDataDir(config.dataDir) });
  try {
    const result = await rotateSigningKeys(config.oidc.keySecret, config.oidc.keyGraceMs);
    if (!result) {
      process.stdout.write('Another rotation happened at the same moment; its keys stand.\n');
      return 0;
    }
    process.stdout.write(`New signing keys: ${result.created.join(', ')}. Retired (in the JWKS until ${new Date(Date.now() + config.oidc.keyGraceMs).toISOString()}): ${result.retired.join(', ')}.\nRestart each instance to sign with the new keys.\n`);
    return 0;
  } finally {
    await db.flush();
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`oidc:rotate-keys failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
