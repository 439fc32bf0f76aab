/**
 * The provider as mounted in the app: discovery names the issuer from PUBLIC_URL, the code flow alone,
 * PKCE with S256 only; the JWKS serves the stored keys' public halves and nothing private.
 */
import request from 'supertest';
import { startTestApp, type TestApp } from '../../helpers/app';
import { loadSigningKeys } from '../../../src/oidc';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('oidc_provider', { env: { PUBLIC_URL: 'https://id.example.com' } });
});
afterAll(() => t.stop());

it('discovery names the issuer under PUBLIC_URL, code flow and S256 PKCE only', async () => {
  const res = await request(t.app).get('/oidc/.well-known/openid-configuration').expect(200);
  expect(res.body.issuer).toBe('https://id.example.com/oidc');
  expect(res.body.authorization_endpoint).toBe('https://id.example.com/oidc/auth');
  expect(res.body.jwks_uri).toBe('https://id.example.com/oidc/jwks');
  expect(res.body.response_types_supported).toEqual(['code']);
  expect(res.body.code_challenge_methods_supported).toEqual(['S256']);
  expect(res.body.scopes_supported).toEqual(
    expect.arrayContaining(['openid', 'offline_access', 'email', 'profile', 'portal']),
  );
  expect(res.body.end_session_endpoint).toBe('https://id.example.com/oidc/session/end');
  expect(res.body.backchannel_logout_supported).toBe(true);
});

it('the JWKS serves the stored keys, public halves only', async () => {
  const res = await request(t.app).get('/oidc/jwks').expect(200);
  const stored = await loadSigningKeys(t.config.oidc.keySecret);
  expect(res.body.keys.map((k: { kid: string }) => k.kid)).toEqual(stored.map((k) => k.kid));
  expect(res.body.keys.map((k: { alg: string }) => k.alg)).toEqual(['RS256', 'ES256']);
  for (const k of res.body.keys)
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(k).not.toHaveProperty(secret);
});

it('is mounted before the portal session: no session cookie, and not cached', async () => {
  const res = await request(t.app).get('/oidc/.well-known/openid-configuration').expect(200);
  expect(res.headers['set-cookie']).toBeUndefined();
  expect(res.headers['cache-control']).toMatch(/no-store/);
});
