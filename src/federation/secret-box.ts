/**
 * Client secrets of external providers, encrypted at rest with AES-256-GCM under IDP_SECRET_KEY (or a key
 * derived from SESSION_SECRET when unset: see src/config.ts). A database dump alone does not give them away,
 * and the tag refuses a ciphertext changed in the database.
 */
import crypto from 'node:crypto';

let key: Buffer | null = null;

/** Set once at start (createApp) from the configuration. */
export function configureSecretBox(secretKey: Buffer): void {
  if (secretKey.length !== 32) throw new Error('the client secret key must be 32 bytes');
  key = secretKey;
}

function currentKey(): Buffer {
  if (!key) throw new Error('the secret box is not configured');
  return key;
}

export function sealSecret(plain: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', currentKey(), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
}

export function openSecret(sealed: string): string {
  const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = crypto.createDecipheriv('aes-256-gcm', currentKey(), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}
