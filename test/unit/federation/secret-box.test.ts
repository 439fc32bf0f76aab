import crypto from 'node:crypto';
import { configureSecretBox, openSecret, sealSecret } from '../../../src/federation/secret-box';
import { loadConfig } from '../../../src/config';

const base = {
  NODE_ENV: 'test',
  SESSION_SECRET: 'a-session-secret-of-at-least-32-characters',
  DATA_DIR: '/tmp/portal-test-data',
};

describe('client secrets of external providers', () => {
  beforeAll(() => configureSecretBox(crypto.randomBytes(32)));

  it('seals a secret so that the stored text does not contain it, and opens it again', () => {
    const sealed = sealSecret('s3cret-value');
    expect(sealed).not.toContain('s3cret');
    expect(sealSecret('s3cret-value')).not.toBe(sealed);
    expect(openSecret(sealed)).toBe('s3cret-value');
  });

  it('refuses a sealed secret changed in the database, and one sealed under another key', () => {
    const sealed = sealSecret('s3cret-value');
    const [iv, tag, data] = sealed.split('.');
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    expect(() => openSecret([iv, tag, flipped.toString('base64url')].join('.'))).toThrow();
    configureSecretBox(crypto.randomBytes(32));
    expect(() => openSecret(sealed)).toThrow();
  });

  it('takes IDP_SECRET_KEY as hex or base64, else derives one from the session secret', () => {
    const hex = 'ab'.repeat(32);
    expect(loadConfig({ ...base, IDP_SECRET_KEY: hex }).idpSecretKey.toString('hex')).toBe(hex);
    const b64 = crypto.randomBytes(32).toString('base64');
    expect(loadConfig({ ...base, IDP_SECRET_KEY: b64 }).idpSecretKey.toString('base64')).toBe(b64);
    const derived = loadConfig(base).idpSecretKey;
    expect(derived).toHaveLength(32);
    expect(loadConfig(base).idpSecretKey.equals(derived)).toBe(true);
    expect(
      loadConfig({ ...base, SESSION_SECRET: 'another-session-secret-of-32-characters' }).idpSecretKey.equals(derived),
    ).toBe(false);
    expect(() => loadConfig({ ...base, IDP_SECRET_KEY: 'too-short' })).toThrow(/IDP_SECRET_KEY/);
  });
});
