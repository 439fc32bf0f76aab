/**
 * A branded site page and a Japanese page in Chromium at 1280 and 375 px: the site's colours arrive
 * through its stylesheet under the CSP (no violation), its logo loads, nothing scrolls sideways, and
 * axe-core finds no serious or critical violation.
 */
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { SiteModel } from '../../src/data/models';

// A 1x1 PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

describeBrowser('branded and Japanese site pages', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('branding-languages-browser', { listen: true });
    await SiteModel.updateOne(
      { slug: 'portal' },
      {
        $set: {
          'branding.primaryColor': '#7a1f5c',
          'branding.headerColor': '#1d2330',
          'branding.logo': { data: PNG, contentType: 'image/png' },
        },
      },
    );
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const cases = [
    { name: 'branded, English', locale: 'en-US', heading: 'Log in to Customer Portal' },
    { name: 'Japanese', locale: 'ja-JP', heading: 'Customer Portal にログイン' },
  ];
  for (const width of [1280, 375]) {
    for (const c of cases) {
      it(`shows the ${c.name} log in page at ${width} px in the site's colours, without sideways scrolling or axe violations`, async () => {
        const ctx = await browser.newContext({ viewport: { width, height: 800 }, locale: c.locale });
        const page = await ctx.newPage();
        const errors = watchPageErrors(page);
        await page.goto(`${t.baseUrl}/s/portal/login`);
        await expect(page.locator('h1').textContent()).resolves.toBe(c.heading);
        await expect(page.evaluate('document.documentElement.lang')).resolves.toBe(c.locale.slice(0, 2));
        await expect(
          page.evaluate('getComputedStyle(document.querySelector("main button[type=submit]")).backgroundColor'),
        ).resolves.toBe('rgb(122, 31, 92)');
        await expect(
          page.evaluate('getComputedStyle(document.querySelector("header.topbar")).backgroundColor'),
        ).resolves.toBe('rgb(29, 35, 48)');
        await expect(
          page.evaluate('getComputedStyle(document.querySelector("header.topbar .brand")).color'),
        ).resolves.toBe('rgb(255, 255, 255)');
        await expect(page.evaluate('document.querySelector("img.brand-logo").naturalWidth')).resolves.toBe(1);
        await expect(page.evaluate('document.documentElement.scrollWidth')).resolves.toBeLessThanOrEqual(width);
        expect(errors).toEqual([]);
        await ctx.close();

        // axe-core is injected as an inline script, which the CSP forbids: a second context lets it in.
        const axeCtx = await browser.newContext({
          viewport: { width, height: 800 },
          locale: c.locale,
          bypassCSP: true,
        });
        const p = await axeCtx.newPage();
        await p.goto(`${t.baseUrl}/s/portal/login`);
        const violations = await axeViolations(p);
        expect(violations).toEqual([]);
        await axeCtx.close();
      }, 120_000);
    }
  }
});
