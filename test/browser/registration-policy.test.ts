/**
 * Registration with terms and extra sign-up fields in Chromium, at 1280 and 375 px: the form (and the
 * form refused), check-your-mail, the new-terms page at the next sign-in, and the admin pages this work
 * added or changed (Sites, Terms, the consent ledger). Each: no sideways scrolling, no serious or
 * critical axe-core violation, no script error or CSP violation.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD } from '../helpers/forms';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { ConsentModel, SiteModel, TermsVersionModel, UserModel } from '../../src/data/models';

describeBrowser('registration with terms and extra fields in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('registration-policy-browser', { listen: true });
    await makeAdmin();
    const site = await SiteModel.findOneAndUpdate(
      { slug: 'portal' },
      {
        $set: {
          selfRegistrationEnabled: true,
          'registrationPolicy.extraFields': [
            { field: 'companyName', required: false },
            { field: 'phone', required: true },
          ],
        },
      },
      { returnDocument: 'after' },
    );
    await TermsVersionModel.create({
      site: site!._id,
      version: '1.0',
      text: 'Be kind.\n'.repeat(40),
      effectiveAt: new Date('2020-01-01T00:00:00Z'),
    });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function audit(page: Page, label: string, found: string[]) {
    if (await page.evaluate('document.documentElement.scrollWidth > window.innerWidth'))
      found.push(`${label}: scrolls sideways`);
    const violations = await axeViolations(page);
    for (const v of violations) found.push(`${label}: ${v}`);
  }

  async function logIn(page: Page, area: 's/portal' | 'admin', name: string, password: string) {
    await page.goto(`${t.baseUrl}/${area}/login`);
    await page.getByLabel('Email or username').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForLoadState();
  }

  it.each([
    [1280, 900],
    [375, 740],
  ])(
    'registers with terms and extra fields at %i px, and accepts new terms at the next sign-in',
    async (width, height) => {
      const found: string[] = [];
      const email = `reg-${width}@example.com`;
      // The version in effect (the first run publishes a newer one).
      const current = (await TermsVersionModel.findOne().sort({ effectiveAt: -1 }).lean())!.version;
      const context: BrowserContext = await browser.newContext({ viewport: { width, height }, bypassCSP: true });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      await page.goto(`${t.baseUrl}/s/portal/register`);
      await audit(page, 'register', found);
      // The extra fields come after the password, in the site's order, the optional one marked (then the terms; the
      // proof-of-work widget's own label follows).
      const labels = await page.locator('form label').allTextContents();
      expect(labels.slice(labels.indexOf('Confirm password') + 1, labels.indexOf('Confirm password') + 4)).toEqual([
        'Company (optional)',
        'Phone',
        `I have read and accept the terms (version ${current})`,
      ]);
      await page.getByLabel('First name').fill('Grace');
      await page.getByLabel('Last name').fill('Hopper');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
      // Refused first: the phone is required and the terms not accepted; the summary names both.
      await page.getByRole('button', { name: 'Register' }).click();
      await page.waitForLoadState();
      await expect(page.locator('#error-summary').textContent()).resolves.toMatch(
        /Enter your phone number\.[\s\S]*Accept the terms to register\./,
      );
      await audit(page, 'register refused', found);
      await page.getByLabel('Phone').fill('+1 555 0100');
      await page.getByLabel('Company (optional)').fill('Navy');
      await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
      await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
      await page.getByLabel(`I have read and accept the terms (version ${current})`).check();
      await page.getByRole('button', { name: 'Register' }).click();
      await page.waitForLoadState();
      await expect(page.locator('#check-email').isVisible()).resolves.toBe(true);
      await audit(page, 'check-email', found);
      const user = await UserModel.findOne({ email }).lean();
      expect(user).toMatchObject({ phone: '+1 555 0100', companyName: 'Navy' });
      expect(await ConsentModel.countDocuments({ user: user!._id, version: current, how: 'registration' })).toBe(1);

      // A new version in effect: the next sign-in lands on it; accepting it opens the site.
      await TermsVersionModel.create({
        site: user!.site!,
        version: `2.0-${width}`,
        text: 'Be kinder.',
        effectiveAt: new Date(Date.now() - 1000),
      });
      await logIn(page, 's/portal', email, GOOD_PASSWORD);
      await page.waitForURL(/\/s\/portal\/terms\/accept/);
      await audit(page, 'terms-accept', found);
      await page.getByLabel(`I have read and accept the terms (version 2.0-${width})`).check();
      await page.getByRole('button', { name: 'Accept and continue' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      expect(await ConsentModel.countDocuments({ user: user!._id })).toBe(2);

      // The admin pages: Sites (policy, invitations), Terms, the consent ledger.
      await logIn(page, 'admin', 'admin@example.com', ADMIN_PASSWORD);
      for (const path of ['/admin/sites', '/admin/terms', `/admin/consents?user=${email}`]) {
        await page.goto(`${t.baseUrl}${path}`);
        await audit(page, path, found);
      }
      await expect(page.locator('#consents').textContent()).resolves.toContain(email);
      expect([...found, ...errors]).toEqual([]);
      await context.close();
    },
    180_000,
  );
});
