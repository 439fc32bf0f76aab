/**
 * Regenerates the README's screenshots (docs/screenshots/, Chromium at 1280 and 375 px):
 * `SCREENSHOTS=1 npx jest test/browser/screenshots.test.ts`. Skipped otherwise.
 */
import fs from 'node:fs';
import { startTestApp, type TestApp } from '../helpers/app';
import { launchBrowser } from '../helpers/browser';
import { ADMIN_PASSWORD, makeAdmin } from '../helpers/admin';
import { findSiteBySlug, registerContactlessUser } from '../../src/registration/registration';
import { UserModel } from '../../src/data/models';
import type { BrowserContext } from 'playwright-core';

(process.env.SCREENSHOTS ? it : it.skip)(
  'takes the README screenshots',
  async () => {
    const t: TestApp = await startTestApp('screens', { listen: true });
    const browser = await launchBrowser();
    await makeAdmin('root.admin@example.com');
    const site = await findSiteBySlug('portal');
    for (const [f, l] of [
      ['Ada', 'Lovelace'],
      ['Grace', 'Hopper'],
      ['Katherine', 'Johnson'],
      ['Dorothy', 'Vaughan'],
      ['Mary', 'Jackson'],
    ]) {
      await registerContactlessUser(
        site,
        {
          firstName: f,
          lastName: l,
          email: `${f.toLowerCase()}.${l.toLowerCase()}@example.com`,
          password: 'violet-harbor-tractor-91',
        },
        {},
      );
    }
    fs.mkdirSync('docs/screenshots', { recursive: true });
    const login = async (ctx: BrowserContext) => {
      const p = await ctx.newPage();
      await p.goto(`${t.baseUrl}/admin/login`);
      await p.getByLabel('Username').fill('root.admin@example.com');
      await p.getByLabel('Password').fill(ADMIN_PASSWORD);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.waitForURL(`${t.baseUrl}/admin`);
      return p;
    };
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await login(desk);
    const grace = (await UserModel.findOne({ lastName: 'Hopper' }).lean())!;
    const ada = (await UserModel.findOne({ lastName: 'Lovelace' }).lean())!;
    await p.goto(`${t.baseUrl}/admin/users/${grace._id}`);
    await p.getByLabel('New account name').fill('US Navy');
    await p.getByRole('button', { name: 'Add contact' }).click();
    await p.getByLabel(/^Customer Community User:/).check();
    await p.getByRole('button', { name: 'Upgrade', exact: true }).click();
    await p.screenshot({ path: 'docs/screenshots/user-qualified-1280.png' });
    await p.goto(`${t.baseUrl}/admin/users/${ada._id}`);
    await p.screenshot({ path: 'docs/screenshots/user-contactless-1280.png' });
    await p.goto(`${t.baseUrl}/admin/users`);
    await p.screenshot({ path: 'docs/screenshots/users-1280.png' });
    await p.goto(`${t.baseUrl}/admin/audit`);
    await p.locator('details.audit-diff summary').first().click();
    await p.screenshot({ path: 'docs/screenshots/audit-1280.png' });
    await p.goto(`${t.baseUrl}/admin`);
    await p.screenshot({ path: 'docs/screenshots/dashboard-1280.png' });
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const m = await login(phone);
    await m.goto(`${t.baseUrl}/admin/users/${ada._id}`);
    await m.screenshot({ path: 'docs/screenshots/user-375.png' });
    await m.goto(`${t.baseUrl}/admin/users`);
    await m.getByText('Menu', { exact: true }).click();
    await m.screenshot({ path: 'docs/screenshots/users-menu-375.png' });
    await m.goto(`${t.baseUrl}/admin/users/${ada._id}/deactivate`);
    await m.screenshot({ path: 'docs/screenshots/confirm-375.png' });
    await browser.close();
    await t.stop();
  },
  120_000,
);
