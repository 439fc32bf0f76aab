/**
 * The account lifecycle in Debian's Chromium, with mail read from the admin outbox (no SMTP_URL):
 * password recovery from "Forgot your password?" to signed in with the new password, and two-factor
 * enrolment (QR code shown under the CSP, key read from the page) and sign-in with a code, for a user
 * who joined through an invitation from the outbox.
 */
import fs from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { GOOD_PASSWORD, registerGuest } from '../helpers/forms';
import { deliverToOutbox, linkIn } from '../helpers/mail';
import { settleDetached } from '../../src/shared/detached';
import { lifecycleOf, setLifecycleSettings } from '../../src/shared/lifecycle-settings';
import { totp } from '../helpers/totp';
import { ProfileModel, UserModel } from '../../src/data/models';
import { createUser } from '../../src/users/users';
import { inviteNewUser } from '../../src/account/invitations';
import { systemContext } from '../../src/access/actor';

describeBrowser('account lifecycle in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let adminContext: BrowserContext;
  let admin: Page;
  beforeAll(async () => {
    t = await startTestApp('lifecycle-browser', { listen: true });
    setLifecycleSettings({ ...lifecycleOf(t.config), publicUrl: t.baseUrl });
    await makeAdmin();
    browser = await launchBrowser();
    adminContext = await browser.newContext();
    admin = await adminContext.newPage();
    await admin.goto(`${t.baseUrl}/admin/login`);
    await admin.getByLabel('Username').fill('admin@example.com');
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Log in' }).click();
    await admin.waitForURL(`${t.baseUrl}/admin`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  /**
   * Delivers queued mail to the outbox and returns the first link of the newest mail to `to`. The admin's
   * outbox page lists the mail with its token masked (it never shows a live link), so the link is read
   * from the mailbox, the stored message, as its recipient would.
   */
  async function linkFromOutbox(to: string): Promise<string> {
    await settleDetached();
    await deliverToOutbox();
    await admin.goto(`${t.baseUrl}/admin/outbox?to=${encodeURIComponent(to)}`);
    const shown = await admin.locator('article.mail').first().locator('pre.mail-text').textContent();
    if (!shown || !/token=\S*…/.test(shown)) throw new Error('the outbox should list the mail with its token masked');
    return `${t.baseUrl}${await linkIn(to, /./)}`;
  }

  it('recovers a forgotten password through the mailed link and signs in with the new one', async () => {
    await registerGuest(t.app, { firstName: 'Grace', email: 'grace@example.com' });
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);

    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email or username').fill('grace@example.com');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('If an account uses this address');

    const link = await linkFromOutbox('grace@example.com');
    expect(link).toMatch(new RegExp(`^${t.baseUrl}/s/portal/reset\\?token=`));
    await page.goto(link);
    const fresh = 'meadow-compass-lantern-63';
    await page.getByLabel('New password', { exact: true }).fill(fresh);
    await page.getByLabel('New password again').fill(fresh);
    await page.getByRole('button', { name: 'Change password and log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Welcome, Grace!');

    // The link is spent; the old password no longer works, the new one does.
    await page.goto(link);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('This link has already been used.');
    await page.goto(`${t.baseUrl}/s/portal/`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByLabel('Username').fill('grace@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('The username or password is incorrect.');
    await page.getByLabel('Password').fill(fresh);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('joins by invitation, sets up two-factor from the QR page, and signs in with a code', async () => {
    const profile = await ProfileModel.findOne({ name: 'External Identity User' }).lean();
    const user = await createUser(
      { firstName: 'Hedy', lastName: 'Lamarr', email: 'hedy@example.com', profileId: profile!._id },
      systemContext,
    );
    await inviteNewUser(user, {}, systemContext);
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const password = 'frequency-hopping-piano-44';

    await page.goto(await linkFromOutbox('hedy@example.com'));
    await page.getByLabel('New password', { exact: true }).fill(password);
    await page.getByLabel('New password again').fill(password);
    await page.getByRole('button', { name: 'Set password and log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);

    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByRole('link', { name: 'Set up two-factor sign-in' }).click();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = page.getByAltText('QR code of your two-factor key');
    await qr.waitFor();
    // The image really rendered: the CSP lets a data: image through.
    expect(
      await qr.evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number };
        return i.complete && i.naturalWidth > 0;
      }),
    ).toBe(true);
    const secret = (await page.locator('#totp-secret').textContent())!.trim();
    await page.getByLabel('Code from the app').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await expect(page.locator('#f-code-error').textContent()).resolves.toContain('That code is not correct.');
    await page.getByLabel('Code from the app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await expect(page.locator('#recovery-codes li').count()).resolves.toBe(10);
    // Download (.txt) gives the codes one per line; Print opens the print dialog (stubbed here).
    const codes = await page.locator('#recovery-codes li').allTextContents();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download (.txt)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const file = await download.path();
    expect(fs.readFileSync(file, 'utf8')).toBe(`${codes.join('\n')}\n`);
    await page.evaluate('window.print = () => { window.printed = true; }');
    await page.getByRole('button', { name: 'Print' }).click();
    await expect(page.evaluate('window.printed')).resolves.toBe(true);
    await expect(page.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    // Not on until "I saved them" is ticked.
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await expect(page.locator('#f-saved-error').textContent()).resolves.toContain('tick this box');
    await expect(page.locator('#recovery-codes li').allTextContents()).resolves.toEqual(codes);
    await page.getByLabel('I saved my recovery codes').check();
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await expect(page.locator('#mfa-enabled').textContent()).resolves.toContain('Two-factor sign-in is on.');

    await page.goto(`${t.baseUrl}/s/portal/`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByLabel('Username').fill('hedy@example.com');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/login/code`);
    await page.getByLabel('Code', { exact: true }).fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Welcome, Hedy!');
    expect((await UserModel.findOne({ username: 'hedy@example.com' }).lean())!.mfaEnabled).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
