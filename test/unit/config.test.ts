import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULTS, loadConfig } from '../../src/config';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'portal-config-'));

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const dir = tmp();
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).toBe(3000);
    // Loopback unless told otherwise: production behind a load balancer sets HOST=0.0.0.0.
    expect(c.host).toBe('127.0.0.1');
    expect(c.mongoUri).toBeUndefined();
    expect(c.logLevel).toBe('info');
    expect(c.session).toEqual({
      idleMs: 30 * 60_000,
      absoluteMs: 12 * 3_600_000,
      keepSignedInMs: 30 * 86_400_000,
      rememberDeviceMs: 30 * 86_400_000,
    });
    expect(c.throttle).toEqual({ maxFailsPerUserIp: 5, maxFailsPerIp: 100, lockSeconds: 900 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('generates a development session secret once and keeps it in DATA_DIR', () => {
    const dir = tmp();
    const first = loadConfig({ DATA_DIR: dir }).sessionSecret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ DATA_DIR: dir }).sessionSecret).toBe(first);
    expect(fs.statSync(path.join(dir, 'session-secret')).mode & 0o077).toBe(0);
  });

  it('requires SESSION_SECRET in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(/SESSION_SECRET: required/);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ MONGODB_URI: 'postgres://x' }, /MONGODB_URI/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ SESSION_SECRET: 'short' }, /SESSION_SECRET/],
    [{ ADMIN_USERNAME: 'admin@example.com' }, /ADMIN_USERNAME and ADMIN_PASSWORD/],
  ])('refuses %j with a message naming the setting', (env, pattern) => {
    let error: unknown;
    try {
      loadConfig({ DATA_DIR: tmp(), ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(pattern);
  });

  it.each(['https://example.com/portal', 'https://example.com/portal/', 'https://example.com/?tenant=a'])(
    'refuses a PUBLIC_URL with a path prefix, a query or a fragment (%s), saying what to set instead',
    (value) => {
      expect(() => loadConfig({ DATA_DIR: tmp(), PUBLIC_URL: value })).toThrow(
        /PUBLIC_URL: must be the portal's origin alone, like https:\/\/example\.com .*path prefix/,
      );
    },
  );

  it('accepts a PUBLIC_URL that is an origin, with or without its slash; issuer and links build on it', () => {
    for (const value of ['https://portal.example.com', 'https://portal.example.com/', 'http://127.0.0.1:8080']) {
      const c = loadConfig({ DATA_DIR: tmp(), PUBLIC_URL: value });
      expect(c.publicUrl).toBe(value.replace(/\/$/, ''));
      expect(c.oidc.issuer).toBe(`${value.replace(/\/$/, '')}/oidc`);
    }
  });

  it('accepts a MongoDB URI and the admin pair', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      MONGODB_URI: 'mongodb+srv://u:p@cluster.example.net/portal',
      ADMIN_USERNAME: 'a@example.com',
      ADMIN_PASSWORD: 'x',
    });
    expect(c.mongoUri).toMatch(/^mongodb\+srv:/);
    expect(c.admin).toEqual({ username: 'a@example.com', password: 'x' });
  });
});

describe('DEFAULTS (the one place defaults live)', () => {
  it('is what loadConfig gives with no variables set, but for the session secret and the data folder it never writes', () => {
    const dir = tmp();
    const loaded = loadConfig({ DATA_DIR: dir });
    // What is derived from the session secret differs with it: the key of stored provider secrets, the OIDC key secret.
    const { sessionSecret: _a, dataDir: _b, idpSecretKey: _d, oidc: o1, ...fromEnv } = loaded;
    const { sessionSecret, dataDir: _c, idpSecretKey: _e, oidc: o2, ...defaults } = DEFAULTS;
    expect(defaults).toEqual(fromEnv);
    expect({ ...o2, keySecret: '' }).toEqual({ ...o1, keySecret: '' });
    expect(sessionSecret).toBe('');
  });

  it('is what the lifecycle rules read before createApp passes the configuration in', () => {
    // A fresh module registry: the settings as a rule sees them before any app started in this process.
    jest.isolateModules(() => {
      const settings =
        require('../../src/shared/lifecycle-settings') as typeof import('../../src/shared/lifecycle-settings');
      expect(settings.lifecycleSettings()).toEqual(settings.lifecycleOf(loadConfig({ DATA_DIR: tmp() })));
      expect(settings.lifecycleSettings().sessionIdleMs).toBe(30 * 60_000);
      expect(settings.lifecycleSettings().apiTokens).toEqual({ defaultDays: 90, maxDays: 365 });
    });
  });
});
