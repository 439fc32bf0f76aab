/**
 * The qualification queue in Chromium at 1280 px: an admin opens Qualify, selects two registrants,
 * chooses "Add contacts by rule" (new contacts in an account), dry-runs, runs, and reads the job's result;
 * each page passes axe-core (no serious or critical violation).
 */
import { trusted } from 'mongoose';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import { AccountModel, UserModel } from '../../src/data/models';
import { processAvailableBulkJobs } from '../../src/qualification/bulk-action-worker';

describeBrowser('the qualification queue in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('qualify-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    await AccountModel.create({ name: 'Analytical Engines' });
    const site = await findSiteBySlug('portal');
    for (const [firstName, lastName, email] of [
      ['Ada', 'Lovelace', 'ada@engines.example'],
      ['Charles', 'Babbage', 'charles@engines.example'],
    ]) {
      await registerContactlessUser(site, { firstName, lastName, email, password: 'violet-harbor-tractor-91' }, {});
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('queue -> select -> dry run -> run -> results, with no accessibility violation', async () => {
    // bypassCSP only so axe-core's script can be added; the portal's own pages run none.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const found: string[] = [];
    await page.goto(`${t.baseUrl}/admin/login`);
    await page.getByLabel('Username').fill('admin@example.com');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);

    await page.getByRole('link', { name: 'Qualify', exact: true }).first().click();
    await page.waitForURL(`${t.baseUrl}/admin/qualify`);
    found.push(...(await axeViolations(page)).map((v) => `queue: ${v}`));
    await expect(page.locator('#result-count').textContent()).resolves.toContain('2 contactless users');
    await page.getByLabel('Select Ada Lovelace').check();
    await page.getByLabel('Select Charles Babbage').check();
    await page.getByLabel('Action').selectOption('addContact');
    await page.getByLabel('Contact rule (add contacts)').selectOption('newInAccount');
    await page.getByLabel('Account (new contacts)').selectOption({ label: 'Analytical Engines' });
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.waitForURL(`${t.baseUrl}/admin/qualify/dry-run`);
    await expect(page.locator('#dry-summary').textContent()).resolves.toContain('2 of 2 users would succeed');
    await expect(page.locator('#dry-table').textContent()).resolves.toContain(
      'Would get a new contact Ada Lovelace in Analytical Engines.',
    );
    found.push(...(await axeViolations(page)).map((v) => `dry run: ${v}`));
    expect(
      await UserModel.countDocuments({ contact: trusted({ $ne: null }), userType: trusted({ $ne: 'internal' }) }),
    ).toBe(0);

    await page.getByRole('button', { name: 'Run for 2 users' }).click();
    await page.waitForURL(/\/admin\/qualify\/jobs\/[0-9a-f]{24}$/);
    // The server's worker thread is not started in tests: the test runs the job, then reloads.
    expect(await processAvailableBulkJobs({ owner: 'browser-test' })).toBe(1);
    await page.reload();
    await expect(page.locator('#job-status').textContent()).resolves.toBe('JobComplete');
    found.push(...(await axeViolations(page)).map((v) => `job: ${v}`));
    const csv = await page.request.get(`${page.url()}/results.csv`);
    const text = await csv.text();
    expect(text).toContain('ada@engines.example,succeeded,New contact in Analytical Engines.');
    expect(text).toContain('charles@engines.example,succeeded,New contact in Analytical Engines.');
    expect(
      await UserModel.countDocuments({ contact: trusted({ $ne: null }), userType: trusted({ $ne: 'internal' }) }),
    ).toBe(2);
    expect(found).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
