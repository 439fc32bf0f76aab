/**
 * An admin qualifies a registrant in Chromium: signs in, searches them, opens them, adds a contact
 * with a new account, upgrades them to Customer Community, sees Login As and uses it.
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, loginAsAndReturn, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import { UserModel, ProfileModel } from '../../src/data/models';

describeBrowser('admin qualifies a registrant in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('admin-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    await registerContactlessUser(
      await findSiteBySlug('portal'),
      {
        firstName: 'Katherine',
        lastName: 'Johnson',
        email: 'katherine@example.com',
        password: 'violet-harbor-tractor-91',
      },
      {},
    );
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('signs in, searches, adds a contact, upgrades, and sees Login As appear', async () => {
    const page = await browser.newPage();
    page.on('dialog', (d) => void d.accept());
    const errors = watchPageErrors(page);
    await page.goto(`${t.baseUrl}/admin/login`);
    await page.getByLabel('Username').fill('admin@example.com');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Search').fill('katherine');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'Katherine Johnson' }).click();
    await expect(page.locator('main').textContent()).resolves.toContain('Contactless');
    expect(await page.getByRole('button', { name: 'Login As' }).count()).toBe(0);

    await page.getByLabel('Phone').fill('+1 555 0100');
    await page.getByLabel('Title').fill('Mathematician');
    await page.getByLabel('New account name').fill('NASA Langley');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Contact added');

    await page.getByLabel(/^Customer Community User:/).check();
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      'Upgraded to Customer Community User',
    );
    const user = await UserModel.findOne({ username: 'katherine@example.com' }).lean();
    expect((await ProfileModel.findById(user!.profile).lean())!.name).toBe('Customer Community User');
    expect(user!.contact).not.toBeNull();

    await loginAsAndReturn(page, t.baseUrl, 'admin@example.com is logged in as Katherine Johnson');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
