/**
 * The proof of work in Chromium, under the portal's strict CSP: the ALTCHA widget (served from the
 * portal) solves its challenge in a worker and the registration goes through; without JavaScript the
 * no-script ticket is the slower path. The register page at 375 px: no sideways scrolling, no serious or
 * critical axe-core violation, no script error or CSP violation.
 */
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD } from '../helpers/forms';
import { UserModel } from '../../src/data/models';

/**
 * In the page: the widget has put its solution into the form's hidden field. A function, not a string:
 * the page's CSP refuses eval, which a string predicate needs.
 */
type PageDocument = { document: { querySelector(selector: string): { value?: string } | null } };
const SOLVED = () =>
  Boolean((globalThis as unknown as PageDocument).document.querySelector('input[name="altcha"]')?.value);

describeBrowser('proof of work in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let clock = Date.parse('2026-04-01T09:00:00Z');
  beforeAll(async () => {
    t = await startTestApp('bot-check-browser', {
      listen: true,
      now: () => new Date(clock),
      env: { POW_NOSCRIPT_WAIT_SECONDS: '15' },
    });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  async function fill(page: Page, email: string) {
    await page.getByLabel('First name').fill('Grace');
    await page.getByLabel('Last name').fill('Hopper');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
  }

  it('registers at 375 px once the widget has solved its challenge, with no CSP violation, no sideways scrolling and no axe violation', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    const errors = watchPageErrors(page);
    const csp: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) csp.push(m.text());
    });
    await page.goto(`${t.baseUrl}/s/portal/register`);
    // The widget fills its hidden field with the solution (auto="onload"), in a worker from /vendor/altcha.
    await page.waitForFunction(SOLVED, null, { timeout: 30_000 });
    await expect(page.locator('altcha-widget').textContent()).resolves.toContain('Checked: you can send the form.');
    await fill(page, 'widget@example.com');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForSelector('h1');
    await expect(page.locator('main').textContent()).resolves.toContain('widget@example.com');
    expect(await UserModel.exists({ username: 'widget@example.com' })).not.toBeNull();
    expect(csp).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();

    // axe needs its script injected, which the CSP forbids: a second context for the audit only.
    const audit = await browser.newContext({ viewport: { width: 375, height: 740 }, bypassCSP: true });
    const p2 = await audit.newPage();
    await p2.goto(`${t.baseUrl}/s/portal/register`);
    await p2.waitForFunction(SOLVED, null, { timeout: 30_000 });
    expect(await p2.evaluate('document.documentElement.scrollWidth > window.innerWidth')).toBe(false);
    const violations = await axeViolations(p2);
    expect(violations).toEqual([]);
    await audit.close();
  }, 120_000);

  it('without JavaScript: the page says to wait, an early send is refused with that advice, a later one registers', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    await page.goto(`${t.baseUrl}/s/portal/register`);
    await expect(page.locator('form').textContent()).resolves.toContain('at least 15 seconds after opening the page');
    await fill(page, 'nojs@example.com');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForSelector('#error-summary');
    await expect(page.locator('#error-summary').textContent()).resolves.toContain(
      'Without JavaScript this form can be sent 15 seconds after the page opened.',
    );
    expect(await UserModel.exists({ username: 'nojs@example.com' })).toBeNull();
    // The refused form carries a fresh ticket; the person waits (the clock moves) and sends it again.
    clock += 15_000;
    await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.waitForSelector('h1');
    await expect(page.locator('main').textContent()).resolves.toContain('nojs@example.com');
    expect(await UserModel.exists({ username: 'nojs@example.com' })).not.toBeNull();
    await context.close();
  }, 120_000);
});
