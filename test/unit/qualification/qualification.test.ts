/** Qualification rules against a real database: contacts, seats, upgrades and downgrades. */
import { startTestApp, type TestApp } from '../../helpers/app';
import { ContactModel, AccountModel, LicenseModel, ProfileModel, UserModel } from '../../../src/data/models';
import { findSiteBySlug, registerContactlessUser } from '../../../src/registration/registration';
import {
  addContactAndAssociate,
  associateContact,
  downgradeUser,
  upgradeUser,
} from '../../../src/qualification/qualification';
import { createUser } from '../../../src/users/users';
import { systemContext } from '../../../src/access/actor';
import { ConflictError } from '../../../src/shared/errors';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('domain-qualification');
});
afterAll(() => t.stop());

let n = 0;
async function registrant() {
  n++;
  return registerContactlessUser(
    await findSiteBySlug('portal'),
    { firstName: 'Reg', lastName: `Istrant${n}`, email: `reg${n}@example.com`, password: 'violet-harbor-tractor-91' },
    {},
  );
}
const profile = async (name: string) => (await ProfileModel.findOne({ name }).lean())!;
const license = async (name: string) => (await LicenseModel.findOne({ name }).lean())!;

it('adds a contact with a new account and associates it', async () => {
  const user = await registrant();
  const contact = await addContactAndAssociate(
    user._id,
    {
      firstName: 'Reg',
      lastName: 'Istrant',
      email: 'c@example.com',
      phone: '+33 1 23',
      title: 'CTO',
      accountName: 'Acme',
    },
    systemContext,
  );
  expect((await UserModel.findById(user._id).lean())!.contact!.equals(contact._id)).toBe(true);
  expect((await AccountModel.findById(contact.account).lean())!.name).toBe('Acme');
});

it('creates nothing for a user who already has a contact', async () => {
  const user = await registrant();
  await addContactAndAssociate(user._id, { lastName: 'First', accountName: 'First Ltd' }, systemContext);
  const [contactsBefore, accountsBefore] = [await ContactModel.countDocuments(), await AccountModel.countDocuments()];
  await expect(
    addContactAndAssociate(user._id, { lastName: 'Second', accountName: 'Second Inc' }, systemContext),
  ).rejects.toBeInstanceOf(ConflictError);
  expect(await ContactModel.countDocuments()).toBe(contactsBefore);
  expect(await AccountModel.countDocuments()).toBe(accountsBefore);
});

it('leaves no orphan contact or account when two admins qualify the same user at once', async () => {
  const user = await registrant();
  const [contactsBefore, accountsBefore] = [await ContactModel.countDocuments(), await AccountModel.countDocuments()];
  const results = await Promise.allSettled(
    Array.from({ length: 4 }, (_, i) =>
      addContactAndAssociate(user._id, { lastName: `Racer${i}`, accountName: `Racer ${i}` }, systemContext),
    ),
  );
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  // Whatever lost the race undid its contact and account.
  expect(await ContactModel.countDocuments()).toBe(contactsBefore + 1);
  expect(await AccountModel.countDocuments()).toBe(accountsBefore + 1);
});

it('validates contact fields before creating anything', async () => {
  const user = await registrant();
  const before = await ContactModel.countDocuments();
  await expect(
    addContactAndAssociate(user._id, { lastName: '', accountName: '' }, systemContext),
  ).rejects.toMatchObject({ status: 422 });
  expect(await ContactModel.countDocuments()).toBe(before);
});

it('refuses to associate a contact another user holds', async () => {
  const [a, b] = [await registrant(), await registrant()];
  const contact = await addContactAndAssociate(a._id, { lastName: 'Shared', accountName: 'Shared Co' }, systemContext);
  await expect(associateContact(b._id, String(contact._id), systemContext)).rejects.toMatchObject({
    code: 'contact_taken',
    status: 409,
  });
});

it('refuses to upgrade a contactless user, saying a contact is needed', async () => {
  const user = await registrant();
  const cc = await profile('Customer Community User');
  await expect(upgradeUser(user._id, cc._id, systemContext)).rejects.toMatchObject({
    code: 'contact_required',
    status: 409,
  });
});

it('upgrades with a contact (a seat taken) and downgrades back (seat freed, contact kept)', async () => {
  const user = await registrant();
  const contact = await addContactAndAssociate(user._id, { lastName: 'Up', accountName: 'Up Corp' }, systemContext);
  const [cc, ei] = [await license('Customer Community'), await license('External Identity')];
  const up = await upgradeUser(user._id, (await profile('Customer Community User'))._id, systemContext);
  expect(up.license.equals(cc._id)).toBe(true);
  expect((await license('Customer Community')).usedSeats).toBe(cc.usedSeats + 1);
  expect((await license('External Identity')).usedSeats).toBe(ei.usedSeats - 1);
  const down = await downgradeUser(user._id, undefined, systemContext);
  expect(down.contact).toBeNull();
  expect((await ProfileModel.findById(down.profile).lean())!.name).toBe('External Identity User');
  expect((await license('Customer Community')).usedSeats).toBe(cc.usedSeats);
  expect(await ContactModel.exists({ _id: contact._id })).toBeTruthy();
});

it('never oversells seats under concurrent upgrades', async () => {
  const partner = await license('Partner Community');
  const free = 3;
  await LicenseModel.updateOne({ _id: partner._id }, { $set: { totalSeats: partner.usedSeats + free } });
  const eip = await profile('External Identity Partner User');
  const users = [];
  for (let i = 0; i < 10; i++) {
    const c = await ContactModel.create({
      lastName: `P${i}`,
      account: (await AccountModel.create({ name: `Partner ${i}` }))._id,
    });
    users.push(
      await createUser(
        { lastName: `Partner${i}`, email: `partner${i}@example.com`, profileId: eip._id, contactId: c._id },
        systemContext,
      ),
    );
  }
  const pc = await profile('Partner Community User');
  const results = await Promise.allSettled(users.map((u) => upgradeUser(u._id, pc._id, systemContext)));
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
  expect(ok).toHaveLength(free);
  expect(refused.every((r) => r.reason.code === 'no_seats_left')).toBe(true);
  const after = await license('Partner Community');
  expect(after.usedSeats).toBe(after.totalSeats);
  expect(await UserModel.countDocuments({ license: partner._id })).toBe(after.usedSeats);
});

it('requires a contact to create a user on a license that needs one', async () => {
  await expect(
    createUser(
      { lastName: 'X', email: 'x@example.com', profileId: (await profile('Customer Community User'))._id },
      systemContext,
    ),
  ).rejects.toMatchObject({ code: 'contact_required' });
});
