/**
 * Issue 22: a registrant signs in to the README's example app (docs/example-app/, started here on its
 * own loopback port) through the portal in Chromium: the app sends them to the site's sign-in page, then
 * the consent page, and the portal's redirect back to the app passes the strict CSP (form-action). The
 * app's logout ends the portal session. The new pages (consent, the provider's logout confirmation, the
 * admin's connected apps pages) get the axe-core check: no serious or critical violation, no sideways
 * scrolling at 375 px, no script error or CSP violation.
 */
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD, postForm } from '../helpers/forms';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { loadActor } from '../../src/access';
import { createConnectedApp, updateConnectedApp } from '../../src/oidc';
import { SiteModel } from '../../src/data/models';

// The example app is plain CommonJS JavaScript, as a reader would run it.
const { startExampleApp } = require('../../docs/example-app/app.js') as {
  startExampleApp(o: {
    issuer: string;
    clientId: string;
    clientSecret?: string;
    port: number;
    allowHttp: boolean;
  }): Promise<{ url: string; stop(): Promise<void> }>;
};

/** axe through the DevTools protocol (not a script tag), so the page keeps its real CSP. */
async function axeProblems(page: Page, name: string): Promise<string[]> {
  const violations = await axeViolations(page);
  const sideways = (await page.evaluate('document.documentElement.scrollWidth > window.innerWidth')) as boolean;
  return [...violations.map((v) => `${name}: ${v}`), ...(sideways ? [`${name}: scrolls sideways`] : [])];
}

describeBrowser('signing in to an example app through the portal', () => {
  let t: TestApp;
  let browser: Browser;
  let example: { url: string; stop(): Promise<void> };
  let appId: string;
  beforeAll(async () => {
    t = await startTestApp('oidc-example-browser', { listen: true });
    const admin = await makeAdmin();
    const ctx = { actor: (await loadActor(admin!._id))!, via: 'admin' as const };
    const siteId = String((await SiteModel.findOne({ slug: 'portal' }).lean())!._id);
    const input = {
      name: 'Example app',
      siteId,
      redirectUris: ['http://127.0.0.1:1/callback'],
      scopes: ['email', 'profile', 'portal'],
      firstParty: false,
    };
    const { app, secret } = await createConnectedApp({ ...input, type: 'confidential' }, ctx);
    appId = String(app._id);
    example = await startExampleApp({
      issuer: t.config.oidc.issuer,
      clientId: app.clientId,
      clientSecret: secret!,
      port: 0,
      allowHttp: true,
    });
    // Its address is known once it listens: registered now, exactly.
    await updateConnectedApp(
      appId,
      { ...input, redirectUris: [`${example.url}/callback`], postLogoutRedirectUris: [`${example.url}/`] },
      ctx,
    );
    await postForm(request.agent(t.app), '/s/portal/register', '/s/portal/register', {
      firstName: 'Ada',
      lastName: 'Lovelace',
      email: 'ada@example.com',
      password: GOOD_PASSWORD,
    });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await example?.stop();
    await t?.stop();
  });

  it('a registrant signs in through the site sign-in and consent pages, then logs out from the app', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const found: string[] = [];
    await page.goto(`${example.url}/`);
    await page.getByRole('link', { name: 'Sign in with the portal' }).click();
    await page.waitForURL(/\/s\/portal\/login\?returnTo=/);
    await page.getByLabel('Email or username').fill('ada@example.com');
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/s\/portal\/authorize\//);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Allow Example app to sign you in?',
    );
    found.push(...(await axeProblems(page, 'consent')));
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${example.url}/`);
    await expect(page.locator('#signed-in').textContent()).resolves.toBe('Signed in as ada@example.com');
    await expect(page.locator('#claims').textContent()).resolves.toContain('"contactless": true');

    await page.getByRole('link', { name: 'Log out' }).click();
    await page.waitForURL(/\/oidc\/session\/end/);
    found.push(...(await axeProblems(page, 'logout confirmation')));
    await page.getByRole('button', { name: 'Yes, log me out' }).click();
    await page.waitForURL(`${example.url}/`);
    await expect(page.getByRole('link', { name: 'Sign in with the portal' }).count()).resolves.toBe(1);
    // The portal session ended with the app's logout.
    await page.goto(`${t.baseUrl}/s/portal/account`);
    await page.waitForURL(/\/s\/portal\/login/);
    expect([...found, ...errors]).toEqual([]);
    await context.close();
  });

  it('the connected apps pages of the admin area pass the same check at 1280 and 375 px', async () => {
    const found: string[] = [];
    for (const [width, height] of [
      [1280, 900],
      [375, 740],
    ]) {
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      await page.goto(`${t.baseUrl}/admin/login`);
      await page.getByLabel('Username').fill('admin@example.com');
      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${t.baseUrl}/admin`);
      for (const path of ['/admin/apps', `/admin/apps/${appId}`]) {
        await page.goto(`${t.baseUrl}${path}`);
        found.push(...(await axeProblems(page, `${path} at ${width}`)));
      }
      found.push(...errors);
      await context.close();
    }
    expect(found).toEqual([]);
  });
});
