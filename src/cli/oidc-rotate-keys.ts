/**
 * npm run oidc:rotate-keys: replaces the OpenID Connect provider's signing keys. The old keys stay in the
 * JWKS for OIDC_KEY_GRACE_DAYS, so tokens they signed still verify; each instance signs with the new
 * keys from its next start. With the embedded database stop the portal first (as for admin:create).
 */
import { rotateSigningKeys } from '../oidc';
import { runCommand, withDatabase } from './command';

runCommand('oidc:rotate-keys', () =>
  withDatabase(async (config) => {
    const result = await rotateSigningKeys(config.oidc.keySecret, config.oidc.keyGraceMs);
    if (!result) {
      process.stdout.write('Another rotation happened at the same moment; its keys stand.\n');
      return 0;
    }
    process.stdout.write(
      `New signing keys: ${result.created.join(', ')}. Retired (in the JWKS until ${new Date(Date.now() + config.oidc.keyGraceMs).toISOString()}): ${result.retired.join(', ')}.\nRestart each instance to sign with the new keys.\n`,
    );
    return 0;
  }),
);
