/**
 * A guest's whole journey in Debian's Chromium: register by the labels and the "Register" button, see
 * "check your mail", log in, log out, log in again; no JavaScript errors or CSP violations on the way.
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { GOOD_PASSWORD } from '../helpers/forms';
import { UserModel } from '../../src/data/models';

describeBrowser('guest self-registration in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('site-browser', { listen: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('registers, is told to check their mail, logs in, logs out and logs in again', async () => {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    const errors = watchPageErrors(page);

    await page.goto(`${t.baseUrl}/register`);
    await page.getByLabel('First name').fill('Grace');
    await page.getByLabel('Last name').fill('Hopper');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();

    // The same "check your mail" page whether or not the address had an account; then the guest logs in.
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your mail');
    await page.getByRole('link', { name: 'Go to log in' }).click();
    await page.getByLabel('Email or username').fill('grace@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Welcome, Grace!');

    const user = await UserModel.findOne({ username: 'grace@example.com' }).lean();
    expect(user).toMatchObject({ contact: null, timeZoneSidKey: 'Asia/Tokyo', localeSidKey: 'en_GB' });

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await page.getByRole('link', { name: 'Log in' }).first().click();
    await page.getByLabel('Username').fill('grace@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Welcome, Grace!');

    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await expect(page.getByLabel('Time zone').inputValue()).resolves.toBe('Asia/Tokyo');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it('shows field messages for a refused registration', async () => {
    const page = await browser.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${t.baseUrl}/s/portal/register`);
    await page.getByLabel('First name').fill('Grace');
    await page.getByLabel('Last name').fill('Hopper');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password', { exact: true }).fill('password');
    await page.getByRole('button', { name: 'Register' }).click();
    // The page's summary, then the password field's own message, tied to the input.
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('Some fields need attention.');
    await expect(page.locator('#f-password-error').textContent()).resolves.toContain('Use at least 12 characters.');
    await expect(page.getByLabel('Password', { exact: true }).getAttribute('aria-describedby')).resolves.toContain(
      'f-password-error',
    );
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe('grace@example.com');
    await expect(page.getByLabel('Password', { exact: true }).inputValue()).resolves.toBe('');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
