/**
 * The provider's storage adapter and signing keys on the real engine (or MONGODB_URI's server): what
 * oidc-provider's adapter interface requires (find by id, uid and user code, consume, destroy, revoke by
 * grant), expiry, and keys generated once, stored encrypted and rotated with a grace period.
 */
import mongoose from 'mongoose';
import { startTestApp, type TestApp } from '../../helpers/app';
import { mongoAdapter } from '../../../src/oidc/adapter';
import { loadSigningKeys, rotateSigningKeys, SigningKeyDecryptError } from '../../../src/oidc/signing-keys';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('oidc_storage');
});
afterAll(() => t.stop());

describe('storage adapter', () => {
  let clock = 1_700_000_000_000;
  const Adapter = mongoAdapter(
    async (id) => (id === 'known' ? { client_id: 'known' } : undefined),
    () => clock,
  );

  it('stores a payload and finds it by id, uid and user code within its kind only', async () => {
    const sessions = new Adapter('Session');
    const codes = new Adapter('DeviceCode');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'a1', kind: 'Session' }, 60);
    await codes.upsert('s1', { userCode: 'UC-1', kind: 'DeviceCode' }, 60);
    expect(await sessions.find('s1')).toEqual({ uid: 'u1', accountId: 'a1', kind: 'Session' });
    expect(await sessions.findByUid('u1')).toEqual({ uid: 'u1', accountId: 'a1', kind: 'Session' });
    expect(await codes.findByUserCode('UC-1')).toEqual({ userCode: 'UC-1', kind: 'DeviceCode' });
    expect(await codes.findByUid('u1')).toBeUndefined();
    const stored = await mongoose.connection.db!.collection('oidc_records').findOne({ _id: 'Session:s1' as never });
    expect(stored).toMatchObject({ kind: 'Session', uid: 'u1', accountId: 'a1', expiresAt: new Date(clock + 60_000) });
  });

  it('hides an expired record before the TTL monitor deletes it', async () => {
    const codes = new Adapter('AuthorizationCode');
    await codes.upsert('c-exp', { grantId: 'g0' }, 10);
    clock += 11_000;
    expect(await codes.find('c-exp')).toBeUndefined();
  });

  it('marks a consumed record and destroys one', async () => {
    const codes = new Adapter('AuthorizationCode');
    await codes.upsert('c1', { grantId: 'g1' }, 60);
    await codes.consume('c1');
    expect((await codes.find('c1'))?.consumed).toBe(Math.floor(clock / 1000));
    await codes.destroy('c1');
    expect(await codes.find('c1')).toBeUndefined();
    expect(
      await mongoose.connection.db!.collection('oidc_records').countDocuments({ _id: 'AuthorizationCode:c1' as never }),
    ).toBe(0);
  });

  it('revokes every record of a grant across kinds, and nothing else', async () => {
    await new Adapter('Grant').upsert('g2', { accountId: 'a2' }, 60);
    await new Adapter('AccessToken').upsert('at', { grantId: 'g2' }, 60);
    await new Adapter('RefreshToken').upsert('rt', { grantId: 'g2' }, 60);
    await new Adapter('RefreshToken').upsert('other', { grantId: 'g3' }, 60);
    await new Adapter('AccessToken').revokeByGrantId('g2');
    expect(await new Adapter('Grant').find('g2')).toBeUndefined();
    expect(await new Adapter('AccessToken').find('at')).toBeUndefined();
    expect(await new Adapter('RefreshToken').find('rt')).toBeUndefined();
    expect(await new Adapter('RefreshToken').find('other')).toEqual({ grantId: 'g3' });
  });

  it('answers Client lookups from the connected apps, not from its collection', async () => {
    expect(await new Adapter('Client').find('known')).toEqual({ client_id: 'known' });
    expect(await new Adapter('Client').find('unknown')).toBeUndefined();
  });
});

describe('signing keys', () => {
  // The app made the keys at its start, with its configured secret.
  const secret = () => t.config.oidc.keySecret;
  let now = new Date('2026-01-01T00:00:00Z');
  const clock = () => now;

  it('has one RS256 and one ES256 key, generated once at start, and stores them encrypted', async () => {
    const first = await loadSigningKeys(secret(), clock);
    expect(first.map((k) => k.alg)).toEqual(['RS256', 'ES256']);
    expect(first.every((k) => typeof k.d === 'string')).toBe(true);
    expect((await loadSigningKeys(secret(), clock)).map((k) => k.kid)).toEqual(first.map((k) => k.kid));
    const raw = JSON.stringify(await mongoose.connection.db!.collection('oidc_signing_keys').findOne({}));
    for (const k of first) expect(raw).not.toContain(k.d!);
    expect(raw).not.toContain('"d"');
  });

  it('refuses to start with another secret, naming the setting', async () => {
    await expect(loadSigningKeys('another-secret-of-thirty-two-characters!', clock)).rejects.toBeInstanceOf(
      SigningKeyDecryptError,
    );
  });

  it('rotation puts new keys first and keeps the old ones for the grace period only', async () => {
    const before = (await loadSigningKeys(secret(), clock)).map((k) => k.kid);
    const rotated = await rotateSigningKeys(secret(), 3_600_000, clock);
    expect(rotated!.retired).toEqual(before);
    const during = (await loadSigningKeys(secret(), clock)).map((k) => k.kid);
    expect(during).toEqual([...rotated!.created, ...before]);
    now = new Date(now.getTime() + 3_600_001);
    expect((await loadSigningKeys(secret(), clock)).map((k) => k.kid)).toEqual(rotated!.created);
  });
});
