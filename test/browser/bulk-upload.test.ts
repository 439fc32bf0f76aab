/**
 * Bulk upload in Chromium at 1280 px: an admin opens Bulk upload, uploads a CSV (a real multipart form,
 * its CSRF field first), lands on the job's page, which reloads itself (public/js/portal.js) until the
 * job the worker runs is JobComplete; a broken file ends Failed with its reason; the user export
 * downloads. Each page passes axe-core (no serious or critical violation) and runs no inline script.
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { axeViolations, describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { ProfileModel, UserModel } from '../../src/data/models';
import { processAvailableJobs } from '../../src/ingest/ingest-worker';

describeBrowser('bulk upload in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let ei: string;
  beforeAll(async () => {
    t = await startTestApp('bulk-upload-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    ei = String((await ProfileModel.findOne({ name: 'External Identity User' }).lean())!._id);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('upload -> job page that follows the job -> results; a broken file fails with its reason; no accessibility violation', async () => {
    // Under the pages' real CSP: a CSP violation would show among the page errors.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const found: string[] = [];
    await page.goto(`${t.baseUrl}/admin/login`);
    await page.getByLabel('Username').fill('admin@example.com');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/admin`);

    await page.getByRole('link', { name: 'Bulk upload', exact: true }).first().click();
    await page.waitForURL(`${t.baseUrl}/admin/bulk`);
    found.push(...(await axeViolations(page)).map((v) => `bulk page: ${v}`));

    const csv = `FirstName,LastName,Email,ProfileId\nGrace,Hopper,grace@navy.example,${ei}\n`;
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await page.waitForURL(/\/admin\/bulk\/jobs\/[0-9a-f]{24}$/);
    await expect(page.locator('#job-status').textContent()).resolves.toBe('UploadComplete');
    found.push(...(await axeViolations(page)).map((v) => `job page: ${v}`));
    // The server's worker thread is not started in tests: the test runs the job; the page reloads itself.
    expect(await processAvailableJobs({ owner: 'browser-test' })).toBe(1);
    // Each reload the page makes itself is a load event; a reload already under way may still show the old state.
    for (let reloads = 0; (await page.locator('#job-status').textContent()) !== 'JobComplete'; reloads++) {
      expect(reloads).toBeLessThan(5);
      await page.waitForEvent('load', { timeout: 30_000 });
    }
    expect(await UserModel.countDocuments({ email: 'grace@navy.example' })).toBe(1);
    const ok = await page.request.get(`${page.url()}/successfulResults.csv`);
    expect(await ok.text()).toContain('grace@navy.example');

    await page.goto(`${t.baseUrl}/admin/bulk`);
    await page.getByLabel('CSV file').setInputFiles({
      name: 'broken.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`LastName,Email,ProfileId\n"Unclosed,x@example.com,${ei}\n`),
    });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    await page.waitForURL(/\/admin\/bulk\/jobs\/[0-9a-f]{24}$/);
    await expect(page.locator('#job-status').textContent()).resolves.toBe('Failed');
    await expect(page.locator('#job-error').textContent()).resolves.toContain('The CSV could not be read.');
    found.push(...(await axeViolations(page)).map((v) => `failed job page: ${v}`));

    const users = await page.request.get(`${t.baseUrl}/admin/bulk/users.csv?q=grace`);
    expect(await users.text()).toContain('grace@navy.example');
    expect(found).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
