/**
 * The community journey in Chromium: a contactless person opens their account page, follows "Ask to
 * become a community member", sends a reason and sees it pending; a page not theirs is closed without
 * its title; an admin finds the request in the queue under "Asked to join" with the reason and opens
 * the community pages; after the upgrade the person's next page shows the notice, which closes, and the
 * page opens. Each new page passes axe-core (no serious or critical violation).
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { axeViolations, describeBrowser, launchBrowser, watchPageErrors } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { GOOD_PASSWORD } from '../helpers/forms';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import { CommunityPageModel, JoinRequestModel, LicenseModel, ProfileModel, UserModel } from '../../src/data/models';
import { systemContext } from '../../src/access/actor';
import { addContactAndAssociate, upgradeUser } from '../../src/qualification/qualification';

describeBrowser('community pages and asking to join in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let closedPage: string;
  beforeAll(async () => {
    t = await startTestApp('community-browser', { listen: true });
    browser = await launchBrowser();
    await makeAdmin();
    const site = await findSiteBySlug('portal');
    await registerContactlessUser(
      site,
      { firstName: 'Hedy', lastName: 'Lamarr', email: 'hedy@example.com', password: GOOD_PASSWORD },
      {},
    );
    const license = (await LicenseModel.findOne({ name: 'Customer Community' }).lean())!;
    closedPage = String(
      (
        await CommunityPageModel.create({
          site: site._id,
          title: 'Members lounge',
          text: 'Only for members.',
          audience: { licenses: [license._id], profiles: [] },
        })
      )._id,
    );
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('account page -> ask -> admin queue, with no accessibility violation', async () => {
    // Under the page's real CSP: the notice's Dismiss button is the portal's own script.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const found: string[] = [];
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByLabel('Email or username').fill('hedy@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);

    await page.goto(`${t.baseUrl}/s/portal/account/community/${closedPage}`);
    await expect(page.locator('#page-closed').textContent()).resolves.toContain('for community members');
    expect(await page.content()).not.toContain('Members lounge');
    found.push(...(await axeViolations(page)).map((v) => `closed page: ${v}`));

    await page.goto(`${t.baseUrl}/s/portal/account`);
    found.push(...(await axeViolations(page)).map((v) => `account: ${v}`));
    await page.locator('#ask-to-join-link').click();
    await page.waitForURL(`${t.baseUrl}/s/portal/account/community#ask-to-join`);
    found.push(...(await axeViolations(page)).map((v) => `community area: ${v}`));
    await page.getByLabel('Why would you like to join?').fill('I run the Vienna user group.');
    await page.locator('#ask-to-join').getByRole('button', { name: 'Ask to become a community member' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/account/community?asked=1`);
    await expect(page.locator('#ask-sent').textContent()).resolves.toContain('Your request was sent.');
    await expect(page.locator('#ask-pending').isVisible()).resolves.toBe(true);
    found.push(...(await axeViolations(page)).map((v) => `request sent: ${v}`));
    expect(await JoinRequestModel.countDocuments({ status: 'open' })).toBe(1);

    const admin = await context.newPage();
    await admin.goto(`${t.baseUrl}/admin/login`);
    await admin.getByLabel('Username').fill('admin@example.com');
    await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
    await admin.getByRole('button', { name: 'Log in' }).click();
    await admin.waitForURL(`${t.baseUrl}/admin`);
    await admin.getByRole('link', { name: 'Qualify', exact: true }).first().click();
    await admin.getByLabel('Asked to join').selectOption('yes');
    await admin.getByRole('button', { name: 'Filter' }).click();
    await admin.waitForURL(/asked=yes/);
    await expect(admin.locator('#result-count').textContent()).resolves.toContain('1 contactless user');
    await expect(admin.locator('main, body').first().textContent()).resolves.toContain(
      'Asked to join: “I run the Vienna user group.” (+0)',
    );
    found.push(...(await axeViolations(admin)).map((v) => `queue: ${v}`));

    await admin.goto(`${t.baseUrl}/admin/community`);
    found.push(...(await axeViolations(admin)).map((v) => `admin community: ${v}`));
    await admin.getByRole('link', { name: 'Members lounge' }).click();
    await admin.waitForURL(`${t.baseUrl}/admin/community/${closedPage}`);
    found.push(...(await axeViolations(admin)).map((v) => `admin community page: ${v}`));

    // The admin acts: a contact, then the upgrade. The person's next page shows the notice, which closes.
    const hedy = (await UserModel.findOne({ username: 'hedy@example.com' }).lean())!;
    await addContactAndAssociate(hedy._id, { lastName: 'Lamarr', accountName: 'Lamarr Labs' }, systemContext);
    const profile = (await ProfileModel.findOne({ name: 'Customer Community User' }).lean())!;
    await upgradeUser(hedy._id, profile._id, systemContext);
    await page.goto(`${t.baseUrl}/s/portal/account`);
    await expect(page.locator('#upgrade-notice').textContent()).resolves.toContain('Members lounge');
    found.push(...(await axeViolations(page)).map((v) => `upgrade notice: ${v}`));
    await page.locator('#upgrade-notice').getByRole('button', { name: 'Dismiss' }).click();
    await expect(page.locator('#upgrade-notice').count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'Open the Community area' }).click();
    await page.getByRole('link', { name: 'Members lounge' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Members lounge');
    found.push(...(await axeViolations(page)).map((v) => `community page: ${v}`));

    expect(found).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);
});
