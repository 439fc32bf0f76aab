/**
 * The Japanese registration page at 375 px, refused: the password script's button and live guidance
 * in Japanese (the number formatted), the error summary and each field's message in Japanese after a
 * bad address and a too short password, no sideways scrolling, no CSP violation, and no serious or
 * critical axe-core violation on the refused page.
 */
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { loadCatalogue } from '../../src/i18n/catalogue';
import { UserModel } from '../../src/data/models';

const ja = loadCatalogue('ja');
const WIDTH = 375;

async function submitRefused(page: Page): Promise<void> {
  await page.fill('#f-firstName', '花子');
  await page.fill('#f-lastName', '山田');
  await page.fill('#f-email', 'hanako-at-example');
  await page.fill('#f-password', 'short');
  await page.fill('#f-passwordConfirm', 'short');
  await Promise.all([page.waitForURL(/\/s\/portal\/register$/), page.click('main button[type=submit]')]);
  await page.waitForSelector('#f-email-error');
}

describeBrowser('the Japanese registration page with its refusals', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('refusal-languages-browser', { listen: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it(`says the guidance and the refusals in Japanese at ${WIDTH} px, without sideways scrolling or axe violations`, async () => {
    const ctx = await browser.newContext({ viewport: { width: WIDTH, height: 800 }, locale: 'ja-JP' });
    const page = await ctx.newPage();
    const errors = watchPageErrors(page);
    await page.goto(`${t.baseUrl}/s/portal/register`);
    await expect(page.evaluate('document.documentElement.lang')).resolves.toBe('ja');
    await expect(page.locator('#f-password + button.show-password').textContent()).resolves.toBe(ja['password.show']);
    await page.fill('#f-password', 'abc');
    await expect(page.locator('#f-password-guidance').textContent()).resolves.toBe(
      ja['password.guidanceMore_other'].replace('{{n}}', '9'),
    );

    await submitRefused(page);
    await expect(page.locator('#f-email-error').textContent()).resolves.toBe(ja['refusal.enterValidEmail']);
    await expect(page.locator('#f-password-error').textContent()).resolves.toBe(
      ja['refusal.passwordTooShort'].replace('{{n}}', '12'),
    );
    await expect(page.locator('main').textContent()).resolves.toContain(ja['refusal.fieldsNeedAttention']);
    await expect(page.locator('main').textContent()).resolves.not.toMatch(/Enter a valid email|Use at least/);
    await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(WIDTH);
    expect(errors).toEqual([]);
    expect(await UserModel.countDocuments({ firstName: '花子' })).toBe(0);
    await ctx.close();

    // axe-core is injected as an inline script, which the CSP forbids: a second context lets it in.
    const axeCtx = await browser.newContext({
      viewport: { width: WIDTH, height: 800 },
      locale: 'ja-JP',
      bypassCSP: true,
    });
    const p = await axeCtx.newPage();
    await p.goto(`${t.baseUrl}/s/portal/register`);
    await submitRefused(p);
    const violations = await axeViolations(p);
    expect(violations).toEqual([]);
    await axeCtx.close();
  }, 180_000);
});
