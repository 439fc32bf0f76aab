/**
 * The account lifecycle in Debian's Chromium, with mail read from the admin outbox (no SMTP_URL):
 * password recovery from "Forgot your password?" to signed in with the new password.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { GOOD_PASSWORD, registerGuest } from '../helpers/forms';
import { deliverToOutbox } from '../helpers/mail';
import { settleDetached } from '../../src/jobs/detached';
import { setLifecycleSettings } from '../../src/domain/lifecycle-settings';

describeBrowser('account lifecycle in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let adminContext: BrowserContext;
  let admin: Page;
  beforeAll(async () => {
    t = await startTestApp('lifecycle-browser', { listen: true });
    setLifecycleSettings({ publicUrl: t.baseUrl, tokens: t.config.tokens });
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

  /** Delivers queued mail to the outbox and returns the first link of the newest mail to `to`, read in the admin's outbox page. */
  async function linkFromOutbox(to: string): Promise<string> {
    await settleDetached();
    await deliverToOutbox();
    await admin.goto(`${t.baseUrl}/admin/outbox?to=${encodeURIComponent(to)}`);
    const href = await admin.locator('article.mail').first().locator('pre.mail-text a').first().getAttribute('href');
    if (!href) throw new Error('no link in the outbox');
    return href;
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
});
