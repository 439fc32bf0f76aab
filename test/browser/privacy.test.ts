/**
 * Export and deletion in Chromium at 375 px: the account page's "Your data" and "Delete your account",
 * and the page that confirms a deletion was asked for. No sideways scrolling, no serious or critical
 * axe-core violation, no script error.
 */
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD } from '../helpers/forms';
import { UserModel } from '../../src/data/models';
import { DeletionRequestModel } from '../../src/privacy/deletion-request.model';

const SOLVED = `Boolean(document.querySelector('input[name="altcha"]') && document.querySelector('input[name="altcha"]').value)`;

describeBrowser('export and deletion in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('privacy-browser', { listen: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function audit(page: Page, found: string[], what: string) {
    if (await page.evaluate('document.documentElement.scrollWidth > window.innerWidth'))
      found.push(`${what}: scrolls sideways`);
    const violations = await axeViolations(page);
    for (const v of violations) found.push(`${what}: ${v}`);
  }

  it('at 375 px: downloads the data, then deletes the account with the password again', async () => {
    // axe is injected as a script, which the CSP forbids: this context bypasses it (bot-check.test.ts checks the CSP).
    const context = await browser.newContext({
      viewport: { width: 375, height: 740 },
      bypassCSP: true,
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const found: string[] = [];
    await page.goto(`${t.baseUrl}/s/portal/register`);
    await page.getByLabel('First name').fill('Rosalind');
    await page.getByLabel('Last name').fill('Franklin');
    await page.getByLabel('Email').fill('rosalind@example.com');
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
    await page.waitForFunction(SOLVED, null, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForSelector('h1');
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByLabel('Email or username').fill('rosalind@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await page.goto(`${t.baseUrl}/s/portal/account`);
    await audit(page, found, 'account');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download your data' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^rosalind_example\.com-data-\d{4}-\d{2}-\d{2}\.json$/);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(JSON.parse(Buffer.concat(chunks).toString()).profile.email).toBe('rosalind@example.com');

    await page.getByLabel('Password, to confirm the deletion').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.waitForSelector('#deletion-requested');
    await expect(page.locator('h1').textContent()).resolves.toBe('Your account will be deleted');
    await audit(page, found, 'deletion requested');
    const user = (await UserModel.findOne({ username: 'rosalind@example.com' }).lean())!;
    expect(await DeletionRequestModel.exists({ _id: user._id })).not.toBeNull();
    expect(found).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
