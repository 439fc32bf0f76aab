/**
 * In Chromium: an admin creates a "Customer Support" profile with Manage Internal Users and Manage
 * Customer Users, gives it to a new internal user, and that user qualifies a customer registrant but is
 * refused a partner user and the Sites page.
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import { createUser } from '../../src/users/users';
import { systemContext } from '../../src/access/actor';
import { deliverToOutbox, linkIn } from '../helpers/mail';
import { ProfileModel, UserModel } from '../../src/data/models';

describeBrowser('roles in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let partnerId: string;
  beforeAll(async () => {
    t = await startTestApp('roles-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    await registerContactlessUser(
      await findSiteBySlug('portal'),
      { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', password: 'violet-harbor-tractor-91' },
      {},
    );
    const partnerProfile = (await ProfileModel.findOne({ name: 'External Identity Partner User' }).lean())!;
    partnerId = String(
      (
        await createUser(
          { firstName: 'Pat', lastName: 'Partner', email: 'pat@example.com', profileId: partnerProfile._id },
          systemContext,
        )
      )._id,
    );
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('Customer Support qualifies customers, but is refused partners and the Sites page', async () => {
    const admin = await browser.newPage();
    admin.on('dialog', (d) => void d.accept());
    const errors = watchPageErrors(admin);
    await admin.goto(`${t.baseUrl}/admin/login`);
    await admin.getByLabel('Username').fill('admin@example.com');
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Log in' }).click();
    await admin.waitForURL(`${t.baseUrl}/admin`);

    await admin.getByRole('link', { name: 'Profiles' }).click();
    await admin.getByLabel('Profile name').fill('Customer Support');
    await admin.getByLabel('License', { exact: true }).selectOption({ label: 'Salesforce (internal)' });
    await admin.getByLabel('Manage Internal Users').check();
    await admin.getByLabel('Manage Customer Users').check();
    await admin.getByRole('button', { name: 'Create profile' }).click();
    await expect(admin.getByRole('status').first().textContent()).resolves.toContain(
      'Profile Customer Support created',
    );

    await admin.getByRole('link', { name: 'Users', exact: true }).click();
    // "New user" has an internal and an external form: this is the internal one.
    const internal = admin.locator('#new-internal-user');
    await internal.getByLabel('First name', { exact: true }).fill('Sam');
    await internal.getByLabel('Last name', { exact: true }).fill('Support');
    await internal.getByLabel('Email (also the username)').fill('sam@example.com');
    await internal.getByLabel('Internal profile').selectOption({ label: 'Customer Support' });
    await admin.getByRole('button', { name: 'Create internal user' }).click();
    await expect(admin.getByRole('status').first().textContent()).resolves.toContain(
      'Internal user sam@example.com created and invited',
    );
    const sam = (await UserModel.findOne({ username: 'sam@example.com' }).lean())!;
    expect((await ProfileModel.findById(sam.profile).lean())!.name).toBe('Customer Support');
    expect(sam.contact).toBeNull();
    expect(errors).toEqual([]);

    const context = await browser.newContext();
    const page = await context.newPage();
    const samErrors = watchPageErrors(page);
    // Sam accepts the invitation from the outbox, chooses a password and is signed in.
    await deliverToOutbox();
    await page.goto(`${t.baseUrl}${await linkIn('sam@example.com', /./)}`);
    await page.getByLabel('New password', { exact: true }).fill('quartz-meadow-lantern-63');
    await page.getByLabel('New password again').fill('quartz-meadow-lantern-63');
    await page.getByRole('button', { name: 'Set password and log in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);
    expect(await page.getByRole('link', { name: 'Sites' }).count()).toBe(0);

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Search').fill('grace');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Grace Hopper' }).click();
    await page.getByLabel('New account name').fill('Navy');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Contact added');
    await page.getByLabel(/^Customer Community User:/).check();
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      'Upgraded to Customer Community User',
    );

    // The partner user is not even listed, and opening them directly is refused.
    await page.goto(`${t.baseUrl}/admin/users?q=pat`);
    expect(await page.getByRole('link', { name: 'Pat Partner' }).count()).toBe(0);
    const partner = await page.goto(`${t.baseUrl}/admin/users/${partnerId}`);
    expect(partner!.status()).toBe(404);
    const sites = await page.goto(`${t.baseUrl}/admin/sites`);
    expect(sites!.status()).toBe(403);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This needs the Manage Sites permission.');
    expect(samErrors).toEqual([]);
    await context.close();
    await admin.close();
  }, 90_000);
});
