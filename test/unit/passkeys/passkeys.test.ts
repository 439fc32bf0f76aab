/**
 * The passkey rules against the real engine and a software authenticator (test/helpers/webauthn.ts):
 * registration, sign-in, the second step, and each refusal with nothing written.
 */
import { startTestApp, type TestApp } from '../../helpers/app';
import { createPasskey, signWithPasskey, type SoftPasskey } from '../../helpers/webauthn';
import { AuditEventModel, MailMessageModel, PasskeyModel, UserModel, type UserDoc } from '../../../src/data/models';
import {
  MAX_PASSKEYS,
  authenticationOptions,
  registerPasskey,
  registrationOptions,
  renamePasskey,
  verifyPasskey,
  type ChallengeStore,
  type PendingChallenge,
} from '../../../src/passkeys';
import { registerGuest } from '../../helpers/forms';
import { AuthenticationError, ConflictError, NotFoundError, ValidationError } from '../../../src/shared/errors';

let t: TestApp;
const rp = { rpID: 'localhost', origin: 'http://localhost:3000' };
beforeAll(async () => {
  t = await startTestApp('passkey-rules');
});
afterAll(() => t.stop());

function sessionStore(): ChallengeStore {
  let slot: PendingChallenge | undefined;
  return {
    put: (p) => {
      slot = p;
    },
    take: () => {
      const p = slot;
      slot = undefined;
      return p;
    },
  };
}

async function user(email: string): Promise<UserDoc> {
  await registerGuest(t.app, { email });
  return (await UserModel.findOne({ email }))!;
}

async function enrol(u: UserDoc, name = 'Laptop'): Promise<SoftPasskey> {
  const s = sessionStore();
  const options = await registrationOptions(u, 'Portal', s, Date.now(), rp);
  const { passkey, response } = createPasskey(options, rp.origin);
  await registerPasskey(u, { name, response }, s, { ip: '10.0.0.1' }, new Date(), rp);
  return passkey;
}

describe('registering', () => {
  it('keeps the key, counter, transports and name; audits it and queues a security notice', async () => {
    const u = await user('reg@example.com');
    const s = sessionStore();
    const options = await registrationOptions(u, 'Portal', s, Date.now(), rp);
    expect(options.rp.id).toBe('localhost');
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'required' });
    const { passkey, response } = createPasskey(options, rp.origin);
    const saved = await registerPasskey(
      u,
      { name: '  Work   laptop ', response },
      s,
      { ip: '10.0.0.1' },
      new Date(),
      rp,
    );
    expect(saved.name).toBe('Work laptop');
    const stored = await PasskeyModel.findOne({ user: u._id }).lean();
    expect(stored).toMatchObject({
      credentialId: passkey.id,
      counter: 0,
      transports: ['internal'],
      name: 'Work laptop',
    });
    expect(await AuditEventModel.countDocuments({ action: 'user.passkey_added', 'target.id': u._id })).toBe(1);
    expect(
      await MailMessageModel.findOne({ to: 'reg@example.com', subject: 'A passkey was added to your account' }).lean(),
    ).not.toBeNull();
  });

  it('refuses an answer from another origin, for another rpID, or without user verification, and writes nothing', async () => {
    const u = await user('reg-bad@example.com');
    for (const tamper of [{ origin: 'http://evil.example:3000' }, { rpID: 'evil.example' }, { userVerified: false }]) {
      const s = sessionStore();
      const options = await registrationOptions(u, 'Portal', s, Date.now(), rp);
      const { response } = createPasskey(options, rp.origin, tamper);
      await expect(registerPasskey(u, { name: 'X', response }, s, undefined, new Date(), rp)).rejects.toBeInstanceOf(
        ValidationError,
      );
    }
    expect(await PasskeyModel.countDocuments({ user: u._id })).toBe(0);
    expect(await AuditEventModel.countDocuments({ action: 'user.passkey_added', 'target.id': u._id })).toBe(0);
  });

  it('uses a challenge once: the same answer sent again is refused', async () => {
    const u = await user('reg-twice@example.com');
    const s = sessionStore();
    const { response } = createPasskey(await registrationOptions(u, 'Portal', s, Date.now(), rp), rp.origin);
    await registerPasskey(u, { name: 'One', response }, s, undefined, new Date(), rp);
    await expect(registerPasskey(u, { name: 'Two', response }, s, undefined, new Date(), rp)).rejects.toThrow(
      /expired or was already used/,
    );
    expect(await PasskeyModel.countDocuments({ user: u._id })).toBe(1);
  });

  it('refuses a name that is empty or too long, and more than the most passkeys an account may have', async () => {
    const u = await user('reg-many@example.com');
    const s = sessionStore();
    const { response } = createPasskey(await registrationOptions(u, 'Portal', s, Date.now(), rp), rp.origin);
    await expect(registerPasskey(u, { name: '   ', response }, s, undefined, new Date(), rp)).rejects.toMatchObject({
      fields: { name: expect.any(String) },
    });
    await expect(
      registerPasskey(u, { name: 'x'.repeat(61), response }, s, undefined, new Date(), rp),
    ).rejects.toMatchObject({ fields: { name: expect.any(String) } });
    for (let i = 0; i < MAX_PASSKEYS; i++) await enrol(u, `Key ${i}`);
    await expect(registrationOptions(u, 'Portal', sessionStore(), Date.now(), rp)).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it("renames only the user's own passkey", async () => {
    const a = await user('ren-a@example.com');
    const b = await user('ren-b@example.com');
    await enrol(a, 'Old');
    const id = String((await PasskeyModel.findOne({ user: a._id }))!._id);
    await expect(renamePasskey(b, id, 'Mine now')).rejects.toBeInstanceOf(NotFoundError);
    await renamePasskey(a, id, 'Phone');
    expect((await PasskeyModel.findById(id))!.name).toBe('Phone');
  });
});

describe('signing in', () => {
  it("returns the passkey's user and moves the counter and the last use on", async () => {
    const u = await user('sign@example.com');
    const passkey = await enrol(u);
    const s = sessionStore();
    const options = await authenticationOptions(s, null, Date.now(), rp);
    expect(options.userVerification).toBe('required');
    expect(options.allowCredentials ?? []).toEqual([]);
    const who = await verifyPasskey(signWithPasskey(passkey, options, rp.origin), s, null, new Date(), rp);
    expect(String(who._id)).toBe(String(u._id));
    const stored = (await PasskeyModel.findOne({ credentialId: passkey.id }).lean())!;
    expect(stored.counter).toBe(1);
    expect(stored.lastUsedAt).toBeInstanceOf(Date);
  });

  it('refuses a wrong origin, a wrong rpID, no user verification, an unknown passkey and a reused challenge, and moves no counter', async () => {
    const u = await user('sign-bad@example.com');
    const passkey = await enrol(u);
    for (const tamper of [{ origin: 'https://evil.example' }, { rpID: 'evil.example' }, { userVerified: false }]) {
      const s = sessionStore();
      const options = await authenticationOptions(s, null, Date.now(), rp);
      await expect(
        verifyPasskey(signWithPasskey(passkey, options, rp.origin, { ...tamper, counter: 5 }), s, null, new Date(), rp),
      ).rejects.toBeInstanceOf(AuthenticationError);
    }
    const stranger = createPasskey({ challenge: 'x', rp: { id: 'localhost' }, user: { id: 'eA' } }, rp.origin).passkey;
    const s1 = sessionStore();
    await expect(
      verifyPasskey(
        signWithPasskey(stranger, await authenticationOptions(s1, null, Date.now(), rp), rp.origin),
        s1,
        null,
        new Date(),
        rp,
      ),
    ).rejects.toBeInstanceOf(AuthenticationError);
    const s2 = sessionStore();
    const answer = signWithPasskey(passkey, await authenticationOptions(s2, null, Date.now(), rp), rp.origin, {
      counter: 7,
    });
    await verifyPasskey(answer, s2, null, new Date(), rp);
    await expect(verifyPasskey(answer, s2, null, new Date(), rp)).rejects.toBeInstanceOf(AuthenticationError);
    expect((await PasskeyModel.findOne({ credentialId: passkey.id }).lean())!.counter).toBe(7);
  });

  it('refuses a counter that went back (a cloned authenticator) and keeps the stored one', async () => {
    const u = await user('sign-clone@example.com');
    const passkey = await enrol(u);
    const s = sessionStore();
    await verifyPasskey(
      signWithPasskey(passkey, await authenticationOptions(s, null, Date.now(), rp), rp.origin, { counter: 10 }),
      s,
      null,
      new Date(),
      rp,
    );
    for (const counter of [10, 9]) {
      const answer = signWithPasskey(passkey, await authenticationOptions(s, null, Date.now(), rp), rp.origin, {
        counter,
      });
      await expect(verifyPasskey(answer, s, null, new Date(), rp)).rejects.toBeInstanceOf(AuthenticationError);
    }
    expect((await PasskeyModel.findOne({ credentialId: passkey.id }).lean())!.counter).toBe(10);
  });

  it("as the second step: lists only the user's passkeys, accepts presence alone, refuses another user's passkey", async () => {
    const a = await user('second-a@example.com');
    const b = await user('second-b@example.com');
    const pa = await enrol(a);
    const pb = await enrol(b);
    const s = sessionStore();
    const options = await authenticationOptions(s, a._id, Date.now(), rp);
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([pa.id]);
    expect(
      String(
        (
          await verifyPasskey(
            signWithPasskey(pa, options, rp.origin, { userVerified: false }),
            s,
            a._id,
            new Date(),
            rp,
          )
        )._id,
      ),
    ).toBe(String(a._id));
    const again = await authenticationOptions(s, a._id, Date.now(), rp);
    await expect(verifyPasskey(signWithPasskey(pb, again, rp.origin), s, a._id, new Date(), rp)).rejects.toBeInstanceOf(
      AuthenticationError,
    );
  });
});
