/**
 * "Continue with" through both servers in Chromium: the portal and a second OpenID provider
 * (oidc-provider on loopback). A first sign-in registers and signs in; an existing address asks for its
 * password. The sign-in, registration, link-confirmation, account and admin provider pages at 1280 and
 * 375 px: no sideways scrolling, no serious or critical axe-core violation, no script error.
 */
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { startExternalIdp, type ExternalIdp } from '../helpers/external-idp';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { GOOD_PASSWORD } from '../helpers/forms';
import { FederatedLinkModel, IdentityProviderModel, SiteModel, UserModel } from '../../src/data/models';
import { sealSecret } from '../../src/federation/secret-box';
import { createUser } from '../../src/users/users';
import { systemContext } from '../../src/access/actor';
import { lifecycleSettings, setLifecycleSettings } from '../../src/shared/lifecycle-settings';

describeBrowser('Continue with an external provider in a browser', () => {
  let t: TestApp;
  let idp: ExternalIdp;
  let browser: Browser;
  let siteId: string;
  beforeAll(async () => {
    t = await startTestApp('continue-with-browser', { listen: true });
    // The port is known only now: the redirect URI (built from the public URL) follows it.
    setLifecycleSettings({ ...lifecycleSettings(), publicUrl: t.baseUrl });
    const client = {
      client_id: 'portal',
      client_secret: 'portal-secret-0123456789abcdef',
      redirect_uris: [`${t.baseUrl}/s/portal/sso/callback`],
    };
    [idp, browser] = await Promise.all([startExternalIdp([client]), launchBrowser()]);
    await makeAdmin();
    const site = await SiteModel.findOneAndUpdate(
      { slug: 'portal' },
      { $set: { selfRegistrationEnabled: true } },
      { returnDocument: 'after' },
    );
    siteId = String(site!._id);
    await IdentityProviderModel.create({
      site: site!._id,
      name: 'Test ID',
      issuer: idp.issuer,
      clientId: client.client_id,
      clientSecret: sealSecret(client.client_secret),
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await idp?.stop();
    await t?.stop();
  });

  async function audit(page: Page, name: string, found: string[]) {
    if (await page.evaluate('document.documentElement.scrollWidth > window.innerWidth'))
      found.push(`${name}: scrolls sideways`);
    const violations = await axeViolations(page);
    for (const v of violations) found.push(`${name}: ${v}`);
  }

  async function atProvider(page: Page, login: string, email: string, given: string) {
    await page.waitForURL(`${idp.issuer}/interaction/**`).catch(async (err) => {
      throw new Error(
        `not at the provider's sign-in page but at ${page.url()}: ${(await page.locator('body').textContent())?.slice(0, 300)} (${err})`,
      );
    });
    await page.getByLabel('Account').fill(login);
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Given name').fill(given);
    await page.getByLabel('Family name').fill('Tester');
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it.each([
    [1280, 900],
    [375, 740],
  ])(
    'signs a new person in and links an existing account, at %i px',
    async (width, height) => {
      const found: string[] = [];
      // axe is injected as a script tag, which the strict CSP would block.
      const context = await browser.newContext({ viewport: { width, height }, bypassCSP: true });
      const page = await context.newPage();
      const errors = watchPageErrors(page);

      await page.goto(`${t.baseUrl}/s/portal/register`);
      await audit(page, 'register', found);
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await audit(page, 'login', found);
      await page.getByRole('link', { name: 'Continue with Test ID' }).click();
      await atProvider(page, `new-${width}`, `lin-${width}@example.com`, 'Lin');
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await expect(page.locator('main').textContent()).resolves.toContain('Welcome, Lin!');
      const lin = await UserModel.findOne({ email: `lin-${width}@example.com` }).lean();
      expect(lin).toMatchObject({ contact: null, firstName: 'Lin' });
      expect(await FederatedLinkModel.countDocuments({ user: lin!._id })).toBe(1);
      await page.goto(`${t.baseUrl}/s/portal/account`);
      await expect(page.locator('#linked-accounts').textContent()).resolves.toContain('Test ID');
      await audit(page, 'account', found);
      await page.getByRole('button', { name: 'Log out' }).click();
      // Another person at the provider: its session (cookies on the same host as the portal's) is dropped.
      await context.clearCookies();

      // An address that already has an account: its password first.
      await createUser(
        {
          firstName: 'Max',
          lastName: 'Tester',
          email: `max-${width}@example.com`,
          profileId: lin!.profile,
          siteId,
          password: GOOD_PASSWORD,
        },
        systemContext,
      );
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByRole('link', { name: 'Continue with Test ID' }).click();
      await atProvider(page, `max-${width}`, `max-${width}@example.com`, 'Max');
      await page.waitForURL(`${t.baseUrl}/s/portal/sso/link`);
      await audit(page, 'link', found);
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Link Test ID and log in' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await expect(page.locator('main').textContent()).resolves.toContain('Welcome, Max!');

      // The admin page of the site's providers.
      const admin = await context.newPage();
      await admin.goto(`${t.baseUrl}/admin/login`);
      await admin.getByLabel('Email or username').fill('admin@example.com');
      await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
      await admin.getByRole('button', { name: 'Log in' }).click();
      await admin.waitForURL(`${t.baseUrl}/admin`);
      await admin.goto(`${t.baseUrl}/admin/sites/${siteId}/identity-providers`);
      await expect(admin.locator('h1').textContent()).resolves.toContain('External identity providers');
      await audit(admin, 'admin providers', found);

      expect([...found, ...errors]).toEqual([]);
      await context.close();
    },
    120_000,
  );
});
