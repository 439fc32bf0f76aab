/**
 * Debian's Chromium driven by playwright-core. Outside CI, when no Chromium is found, browser tests are
 * skipped with a visible notice; in CI (CI=true) a missing browser fails the run.
 */
import fs from 'node:fs';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

export const browserAvailable = Boolean(CHROMIUM_PATH);

/** describe, or describe.skip with a notice when there is no browser (never skipped in CI). */
export function describeBrowser(name: string, fn: () => void): void {
  if (!browserAvailable) {
    if (process.env.CI) throw new Error('Chromium is required in CI (install the Debian package "chromium").');

    console.warn(`[browser tests skipped] ${name}: no Chromium found at /usr/bin/chromium (apt-get install chromium)`);
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Collects JavaScript errors and CSP violations on a page, so tests can assert there are none. */
export function watchPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // A page answered with a 4xx on purpose (a refused form) is logged by Chromium; that is not an error.
    if (
      msg.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())
    )
      errors.push(msg.text());
  });
  return errors;
}

/** From an admin's user page: Login As, check the site's banner names both people, and return to the admin area. */
export async function loginAsAndReturn(page: Page, baseUrl: string, banner: string): Promise<void> {
  await page.getByRole('button', { name: 'Login As' }).click();
  await page.waitForURL(`${baseUrl}/s/portal/`);
  const text = await page.locator('#login-as-banner').textContent();
  if (!text?.includes(banner)) throw new Error(`the Login As banner says "${text}", not "${banner}"`);
  await page.getByRole('button', { name: 'Return to the admin area' }).click();
  await page.waitForURL(/\/admin\/users\//);
}

/**
 * axe-core's serious and critical violations on the page as it is, one line each ("id (impact): targets").
 * axe is evaluated through the DevTools protocol, not added as a script tag, so it runs under the page's
 * real CSP (which forbids injected scripts) as well as in a context that bypasses it.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  return (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')))`)) as string[];
}
