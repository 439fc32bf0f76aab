/**
 * The admin console in Chromium: qualification through the guided user page, a confirmation that works
 * without JavaScript, a reload after creating an API token (no second token), every admin page at 375 px
 * without sideways scrolling, and an axe-core check of every admin page (no serious or critical violation).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, loginAsAndReturn, watchPageErrors, axeViolations } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin, makeStaff } from '../helpers/admin';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import {
  ApiTokenModel,
  LicenseModel,
  PermissionSetModel,
  ProfileModel,
  SiteModel,
  UserModel,
} from '../../src/data/models';
import { createApiToken } from '../../src/api/api-tokens';
import { addToGroup, saveGroupName } from '../../src/roles/delegated-admin';
import { loadActor } from '../../src/access/actor';

async function signIn(context: BrowserContext, baseUrl: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/admin/login`);
  await page.getByLabel('Username').fill('admin@example.com');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/admin`);
  return page;
}

describeBrowser('the admin console in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const register = (firstName: string, lastName: string, email: string) =>
    findSiteBySlug('portal').then((site) =>
      registerContactlessUser(site, { firstName, lastName, email, password: 'violet-harbor-tractor-91' }, {}),
    );

  beforeAll(async () => {
    t = await startTestApp('console-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    await register('Katherine', 'Johnson', 'katherine@example.com');
    await register('Dorothy', 'Vaughan', 'dorothy.vaughan.with.a.rather.long.address@computing-division.example.com');
    context = await browser.newContext();
    page = await signIn(context, t.baseUrl);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('qualifies a registrant step by step on the guided page', async () => {
    const errors = watchPageErrors(page);
    await page.goto(`${t.baseUrl}/admin/users?q=katherine`);
    await expect(page.locator('#result-count').textContent()).resolves.toBe('1 user match.');
    await page.getByRole('link', { name: 'Katherine Johnson' }).click();
    await expect(page.locator('#user-state').textContent()).resolves.toContain('Contactless');
    // Step 2 waits for step 1, and says why.
    await expect(page.getByRole('button', { name: 'Upgrade', exact: true }).isDisabled()).resolves.toBe(true);
    await expect(page.locator('#upgrade-reason').textContent()).resolves.toContain('Add or associate a contact first');
    await expect(page.locator('#step-login-as').textContent()).resolves.toContain('Login As requires a contact.');

    await page.getByLabel('New account name').fill('NASA Langley');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      'Contact added and associated with the user: Katherine Johnson. Next: choose a license.',
    );
    await expect(page.locator('#user-state').textContent()).resolves.toContain('Katherine Johnson, NASA Langley');

    const license = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!;
    const left = license.totalSeats - license.usedSeats;
    await page.getByLabel(`Customer Community User: ${left} of ${license.totalSeats} seats left`).check();
    await page.getByRole('button', { name: 'Upgrade', exact: true }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain(
      `Upgraded to Customer Community User; Customer Community: ${license.usedSeats + 1} of ${license.totalSeats} seats used.`,
    );
    await expect(
      page.getByLabel(`Customer Community User: ${left - 1} of ${license.totalSeats} seats left (current)`).isChecked(),
    ).resolves.toBe(true);

    await loginAsAndReturn(page, t.baseUrl, 'admin@example.com is logged in as Katherine Johnson');
    expect(errors).toEqual([]);
  }, 60_000);

  it('confirms a deactivation on a page naming the person and the consequence, without JavaScript', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const p = await signIn(noScript, t.baseUrl);
    const dorothy = (await UserModel.findOne({ lastName: 'Vaughan' }).lean())!;
    await p.goto(`${t.baseUrl}/admin/users/${dorothy._id}`);
    await p.locator('#danger').getByRole('link', { name: 'Deactivate' }).click();
    await expect(p.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Deactivate Dorothy Vaughan?');
    await expect(p.locator('#consequence').textContent()).resolves.toBe(
      "Dorothy Vaughan is signed out everywhere and can't sign in until activated again.",
    );
    expect((await UserModel.findById(dorothy._id).lean())!.isActive).toBe(true);
    await p.getByRole('button', { name: 'Deactivate' }).click();
    await p.waitForURL(`${t.baseUrl}/admin/users/${dorothy._id}`);
    await expect(p.getByRole('status').first().textContent()).resolves.toContain('User deactivated');
    expect((await UserModel.findById(dorothy._id).lean())!.isActive).toBe(false);
    await expect(p.locator('#user-state').textContent()).resolves.toMatch(/Active\s*No/);
    await noScript.close();
  }, 60_000);

  it('asks before revoking an API token, naming it and the consequence, without JavaScript', async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false });
    const p = await signIn(noScript, t.baseUrl);
    await p.goto(`${t.baseUrl}/admin/api-tokens`);
    await p.getByLabel('Token name').fill('Warehouse sync');
    await p.getByRole('button', { name: 'Create token' }).click();
    await p.locator('#new-token').waitFor();
    await p.goto(`${t.baseUrl}/admin/api-tokens`);
    await p.getByRole('link', { name: 'Revoke Warehouse sync' }).click();
    await expect(p.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Revoke the API token "Warehouse sync"?',
    );
    await expect(p.locator('#consequence').textContent()).resolves.toMatch(
      /^Integrations using "Warehouse sync" \(ipt_.+…\) stop working at once/,
    );
    expect((await ApiTokenModel.findOne({ name: 'Warehouse sync' }).lean())!.revokedAt).toBeNull();
    await p.getByRole('button', { name: 'Revoke token' }).click();
    await p.waitForURL(`${t.baseUrl}/admin/api-tokens`);
    await expect(p.getByRole('status').first().textContent()).resolves.toContain(
      'Token "Warehouse sync" revoked: requests with it are now refused.',
    );
    expect((await ApiTokenModel.findOne({ name: 'Warehouse sync' }).lean())!.revokedAt).toBeInstanceOf(Date);
    await noScript.close();
  }, 60_000);

  it('does not create a second API token when the page is reloaded', async () => {
    await page.goto(`${t.baseUrl}/admin/api-tokens`);
    await page.getByLabel('Token name').fill('Reload check');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('#new-token').waitFor();
    await expect(page.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    await page.reload();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('That token was already created');
    expect(await page.locator('#new-token').count()).toBe(0);
    expect(await ApiTokenModel.countDocuments({ name: 'Reload check' })).toBe(1);
  }, 60_000);

  it('keeps the site header\'s "Log in" and "Log out" on one line at 375 px', async () => {
    // A long site name and the Community page in the navigation crowd the header.
    await SiteModel.updateOne(
      { slug: 'portal' },
      { $set: { name: 'The Analytical Engine Customer and Partner Portal' } },
    );
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const p = await phone.newPage();
    // Line boxes of an element's text: one per line it takes.
    const lines = (selector: string) =>
      p
        .locator(selector)
        .first()
        .evaluate((el) => {
          const range = el.ownerDocument.createRange();
          range.selectNodeContents(el);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        });
    await p.goto(`${t.baseUrl}/s/portal/`);
    await expect(
      p
        .getByRole('banner')
        .getByRole('link', { name: 'Log in' })
        .evaluate((el) => el.getClientRects().length),
    ).resolves.toBe(1);
    await expect(lines('header.topbar a[href$="/login"]')).resolves.toBe(1);
    await p.goto(`${t.baseUrl}/s/portal/login`);
    await p.getByLabel('Username').fill('katherine@example.com');
    await p.getByLabel('Password').fill('violet-harbor-tractor-91');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(lines('header.topbar form.inline button')).resolves.toBe(1);
    // The button is as tall as one line of its text (plus its padding).
    await expect(
      p.getByRole('button', { name: 'Log out' }).evaluate((el) => {
        const style = el.ownerDocument.defaultView!.getComputedStyle(el);
        const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
        return el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom) <= lineHeight + 1;
      }),
    ).resolves.toBe(true);
    await expect(p.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(375);
    await phone.close();
    await SiteModel.updateOne({ slug: 'portal' }, { $set: { name: 'Customer Portal' } });
  }, 60_000);

  describe('every admin page', () => {
    let pages: string[];
    beforeAll(async () => {
      const user = (await UserModel.findOne({ lastName: 'Johnson' }).lean())!;
      const admin = (await UserModel.findOne({ username: 'admin@example.com' }).lean())!;
      const profile = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
      const set = await PermissionSetModel.findOne().lean();
      const actor = (await loadActor(admin._id))!;
      const { record: token } = await createApiToken('Page check', { actor, via: 'admin' });
      // A delegated group with a member and an account, and the no-JavaScript picker showing matches.
      const group = await saveGroupName(null, 'Page check group', { actor, via: 'admin' });
      const staff = await makeStaff('picker-member@example.com', []);
      await addToGroup(String(group._id), 'members', String(staff._id), { actor, via: 'admin' });
      pages = [
        '/admin',
        '/admin/users',
        '/admin/users?q=nobody',
        `/admin/users/${user._id}`,
        `/admin/users/${admin._id}`,
        `/admin/users/${user._id}/downgrade`,
        '/admin/sites',
        '/admin/licenses',
        '/admin/api-tokens',
        '/admin/delegated-groups',
        '/admin/audit',
        '/admin/profiles',
        `/admin/profiles/${profile._id}`,
        '/admin/permission-sets',
        ...(set ? [`/admin/permission-sets/${set._id}`] : []),
        '/admin/outbox',
        '/admin/two-factor',
        `/admin/api-tokens/${token._id}/revoke`,
        '/admin/users/0123456789abcdef01234567',
        '/admin/audit?actor=admin',
        `/admin/delegated-groups?group=${group._id}&part=members&q=a`,
        `/admin/delegated-groups?group=${group._id}&part=accounts&q=a`,
      ];
    });

    it('does not scroll sideways at 375 px, and shows the menu button instead of the navigation', async () => {
      const phone = await browser.newContext({ viewport: { width: 375, height: 740 } });
      const p = await signIn(phone, t.baseUrl);
      const wide: string[] = [];
      for (const path of pages) {
        await p.goto(`${t.baseUrl}${path}`);
        const width = (await p.evaluate('document.documentElement.scrollWidth')) as number;
        if (width > 375) wide.push(`${path}: ${width}px`);
      }
      expect(wide).toEqual([]);
      await expect(p.locator('nav.nav-wide').isVisible()).resolves.toBe(false);
      await p.getByText('Menu', { exact: true }).click();
      await expect(
        p.getByRole('navigation', { name: 'Admin menu' }).getByRole('link', { name: 'Users' }).isVisible(),
      ).resolves.toBe(true);
      await phone.close();
    }, 120_000);

    it('has no serious or critical accessibility violation (axe-core), and marks the current nav item', async () => {
      const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const p = await signIn(desk, t.baseUrl);
      const found: string[] = [];
      for (const path of pages) {
        await p.goto(`${t.baseUrl}${path}`);
        const violations = await axeViolations(p);
        for (const v of violations) found.push(`${path}: ${v}`);
      }
      expect(found).toEqual([]);
      await p.goto(`${t.baseUrl}/admin/users`);
      await expect(p.locator('nav.nav-wide a[aria-current="page"]').textContent()).resolves.toBe('Users');
      await desk.close();
    }, 180_000);
  });
});
