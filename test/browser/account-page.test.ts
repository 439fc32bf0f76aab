/**
 * The account page's sessions and sign-in history in Chromium at 1280 and 375 px (issue 26 item 4):
 * tables on a desk, cards on a phone, no element wider than the viewport, IPs and buttons not broken
 * into one character per line, relative times with the exact local time as the title, and no serious or
 * critical axe-core violation. Screenshots are written to test/browser/screenshots/ for a person to see.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD, logIn, registerGuest } from '../helpers/forms';
import { UserModel } from '../../src/data/models';
import { enrolThroughPages, totp } from '../helpers/totp';
import request from 'supertest';

const SHOTS = path.join(__dirname, 'screenshots');
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

describeBrowser('account page sessions and history', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('browser-account-page', { listen: true, env: { TRUST_PROXY: '1' } });
    browser = await launchBrowser();
    await registerGuest(t.app, { email: 'readable@example.com' });
    await UserModel.updateOne({ username: 'readable@example.com' }, { $set: { timeZoneSidKey: 'Europe/Paris' } });
    // Other sessions and history from public addresses, an IPv6 one included, and a failed password.
    await logIn(
      request.agent(t.app).set('User-Agent', FIREFOX_WINDOWS),
      'readable@example.com',
      GOOD_PASSWORD,
      '81.2.69.142',
    );
    await logIn(request.agent(t.app), 'readable@example.com', GOOD_PASSWORD, '2001:4860:4860::8888');
    await logIn(request.agent(t.app), 'readable@example.com', 'not-the-password-9', '8.8.8.8');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  for (const width of [1280, 375]) {
    it(`is readable at ${width} px: no overflow, no broken IP or button, local times, axe clean`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByLabel('Username').fill('readable@example.com');
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await page.goto(`${t.baseUrl}/s/portal/account`);

      // Nothing wider than the viewport.
      const wide = (await page.evaluate(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${width} + 0.5).map((e) => e.tagName + '.' + e.className)`,
      )) as string[];
      expect(wide).toEqual([]);
      await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(width);
      // Each IP and each End button on one line (an element of one line is about one line-height high).
      // A button's padding adds about 1.1 em to its line; a second line of text would add 1.5 em more.
      const tall = (await page.evaluate(
        `[...document.querySelectorAll('#sessions .ip, #history .ip, #sessions button')].filter((e) => e.getBoundingClientRect().height > (e.tagName === 'BUTTON' ? 3.2 : 2.2) * parseFloat(getComputedStyle(e).fontSize)).map((e) => e.textContent)`,
      )) as string[];
      expect(tall).toEqual([]);
      await expect(page.locator('#history .ip').allTextContents()).resolves.toEqual(
        expect.arrayContaining(['81.2.69.142', '2001:4860:4860::8888', '8.8.8.8']),
      );
      await expect(page.locator('#history td[data-label="Place"]').allTextContents()).resolves.toEqual(
        expect.arrayContaining(['United Kingdom 81.2.69.142']),
      );
      // Tables on a desk, cards on a phone.
      const display = await page.evaluate("getComputedStyle(document.querySelector('#sessions tbody tr')).display");
      expect(display).toBe(width === 1280 ? 'table-row' : 'block');
      // Sessions: relative times, the exact time in Paris in the title. History (a log): the exact time in Paris.
      const time = page.locator('#sessions time').first();
      await expect(time.textContent()).resolves.toMatch(/^(now|\d+ seconds? ago|\d+ minutes? ago)$/);
      await expect(time.getAttribute('title')).resolves.toMatch(/^\d{1,2} \w{3} \d{4}, \d\d:\d\d CET$/);
      const logged = page.locator('#history time').first();
      const at = new Date((await logged.getAttribute('datetime'))!);
      const paris = new Intl.DateTimeFormat('en-US', {
        timeZone: 'Europe/Paris',
        hour: 'numeric',
        minute: '2-digit',
      }).format(at);
      await expect(logged.textContent()).resolves.toContain(paris);

      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `account-${width}.png`), fullPage: true });
      const violations = await axeViolations(page);
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 90_000);
  }
});

describeBrowser('log in and two-factor pages (keep me signed in, recovery codes)', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('browser-login-two-factor', { listen: true });
    browser = await launchBrowser();
    for (const w of [1280, 375]) await registerGuest(t.app, { email: `codes-${w}@example.com` });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  for (const width of [1280, 375]) {
    it(`fits ${width} px and passes axe: log in with its box, the recovery codes with their buttons`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      const errors = watchPageErrors(page);
      const check = async (name: string) => {
        const wide = (await page.evaluate(
          `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${width} + 0.5).map((e) => e.tagName + '.' + e.className)`,
        )) as string[];
        expect({ name, wide }).toEqual({ name, wide: [] });
        const violations = await axeViolations(page);
        expect({ name, violations }).toEqual({ name, violations: [] });
        fs.mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
      };
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await check('login');
      await page.getByLabel('Username').fill(`codes-${width}@example.com`);
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByLabel('Keep me signed in').check();
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await page.goto(`${t.baseUrl}/s/portal/account/two-factor`);
      await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
      const secret = (await page.locator('#totp-secret').textContent())!.trim();
      await page.getByLabel('Code from the app').fill(totp(secret));
      await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
      await page.locator('#recovery-codes').waitFor();
      await check('recovery-codes');
      await page.getByLabel('I saved my recovery codes').check();
      await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
      await page.locator('#regenerate-codes').waitFor();
      await check('two-factor-on');
      expect(errors).toEqual([]);
      await context.close();
    }, 90_000);
  }
});

describeBrowser('remember this device (second factor skipped, listed, removed)', () => {
  let t: TestApp;
  let browser: Browser;
  let recovery: string[];
  beforeAll(async () => {
    t = await startTestApp('browser-remember-device', { listen: true });
    browser = await launchBrowser();
    const { agent } = await registerGuest(t.app, { email: 'device@example.com' });
    recovery = [...(await enrolThroughPages(agent)).codes];
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('at 375 px: ticked at the code step, the next sign-in asks no code; listed on the account page (axe clean); removed, the code is asked again', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const passwordStep = async () => {
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByLabel('Username').fill('device@example.com');
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForLoadState('domcontentloaded');
    };
    const logOut = async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForLoadState('domcontentloaded');
    };

    await passwordStep();
    expect(page.url()).toBe(`${t.baseUrl}/s/portal/login/code`);
    await page.getByLabel('Code', { exact: true }).fill(recovery[0]);
    await page.getByLabel(/Remember this device for 30 days/).check();
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await logOut();

    // The same browser: the password only.
    await passwordStep();
    expect(page.url()).toBe(`${t.baseUrl}/s/portal/`);
    await page.goto(`${t.baseUrl}/s/portal/account`);
    const row = page.locator('#remembered-devices tr.remembered-device');
    await expect(row.count()).resolves.toBe(1);
    await expect(row.first().textContent()).resolves.toContain('Chrom');
    const wide = (await page.evaluate(
      `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 375.5).map((e) => e.tagName + '.' + e.className)`,
    )) as string[];
    expect(wide).toEqual([]);
    const violations = await axeViolations(page);
    expect(violations).toEqual([]);
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'remembered-devices-375.png'), fullPage: true });

    await page.getByRole('button', { name: /^Remove Chrom/ }).click();
    await page.waitForLoadState('domcontentloaded');
    await expect(page.locator('#no-remembered-devices').textContent()).resolves.toContain('No device is remembered.');
    await logOut();
    await passwordStep();
    expect(page.url()).toBe(`${t.baseUrl}/s/portal/login/code`);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
