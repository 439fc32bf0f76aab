/**
 * Passkeys in Chromium with its virtual authenticator (CDP WebAuthn.enable + addVirtualAuthenticator: an
 * internal, resident-key authenticator with user verification), at http://localhost:<port> (the rpID
 * "localhost", PUBLIC_URL the same origin), at 1280 and 375 px: register one from the account, sign in
 * with it by the button and by autofill (conditional UI), use it as the second step, remove it. Each page
 * it changes is checked with axe-core; no JavaScript error or CSP violation on the way (CSP enforced).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app';
import { describeBrowser, launchBrowser, watchPageErrors, axeViolations } from '../helpers/browser';
import { GOOD_PASSWORD, registerGuest } from '../helpers/forms';
import { enrolThroughPages, totp } from '../helpers/totp';
import { LoginEventModel, PasskeyModel, UserModel } from '../../src/data/models';

/** axe-core evaluated through CDP (not a script tag), so the pages keep their strict CSP during the test. */
/**
 * A page whose tab has a virtual platform authenticator that verifies the user. While `present` it answers
 * at once, a conditional (autofill) request included; while not, a request waits, as a person who has not
 * touched the sensor yet.
 */
async function pageWithAuthenticator(
  context: BrowserContext,
): Promise<{ page: Page; present(on: boolean): Promise<void> }> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    page,
    present: async (on) => {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: on });
    },
  };
}

const overflow = (page: Page, width: number) =>
  page.evaluate(
    `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${width} + 0.5).map((e) => e.tagName + '.' + e.className)`,
  ) as Promise<string[]>;

describeBrowser('passkeys in Chromium with a virtual authenticator', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp('browser-passkeys', { localhost: true });
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  for (const width of [1280, 375]) {
    it(`registers a passkey, signs in with it by the button, and removes it at ${width} px`, async () => {
      const email = `pk-browser-${width}@example.com`;
      await registerGuest(t.app, { email });
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const { page, present } = await pageWithAuthenticator(context);
      const errors = watchPageErrors(page);
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByLabel('Email or username').fill(email);
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);

      // Register from the account page.
      await page.goto(`${t.baseUrl}/s/portal/account`);
      await expect(page.locator('#passkeys').textContent()).resolves.toContain('You have no passkeys.');
      await page.locator('#passkeys-link').click();
      await page.waitForURL(`${t.baseUrl}/s/portal/account/passkeys`);
      await expect(axeViolations(page)).resolves.toEqual([]);
      await page.getByLabel('Name', { exact: true }).fill('This browser');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/account/passkeys?saved=added`);
      await expect(page.locator('.passkey-name').allTextContents()).resolves.toEqual(['This browser']);
      await expect(overflow(page, width)).resolves.toEqual([]);
      await expect(axeViolations(page)).resolves.toEqual([]);
      const user = (await UserModel.findOne({ email }))!;
      expect(await PasskeyModel.countDocuments({ user: user._id })).toBe(1);

      // Sign out, then in with the button.
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      // Nobody at the sensor while the page loads (its autofill request waits), then the button.
      await present(false);
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await expect(page.locator('input[name="username"]').getAttribute('autocomplete')).resolves.toBe(
        'username webauthn',
      );
      await expect(axeViolations(page)).resolves.toEqual([]);
      await present(true);
      await page.getByRole('button', { name: 'Use a passkey', exact: true }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await expect(page.locator('body').textContent()).resolves.toContain('Welcome, ');
      expect(
        (await LoginEventModel.findOne({ user: user._id, outcome: 'success' }).sort({ at: -1 }).lean())?.method,
      ).toBe('passkey');

      // Remove it (password asked again).
      await page.goto(`${t.baseUrl}/s/portal/account/passkeys`);
      await page.getByLabel('Your password, to remove "This browser"').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Remove' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/account/passkeys?saved=removed`);
      await expect(page.locator('#no-passkeys').textContent()).resolves.toContain('You have no passkeys yet.');
      expect(await PasskeyModel.countDocuments({ user: user._id })).toBe(0);
      await expect(axeViolations(page)).resolves.toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }

  it('signs in by autofill: the page starts a conditional request that the authenticator answers', async () => {
    const email = 'pk-autofill@example.com';
    await registerGuest(t.app, { email });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const { page } = await pageWithAuthenticator(context);
    const errors = watchPageErrors(page);
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.getByLabel('Email or username').fill(email);
    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await page.goto(`${t.baseUrl}/s/portal/account/passkeys`);
    await page.getByLabel('Name', { exact: true }).fill('Autofill');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(/saved=added/);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    // Nothing clicked: the conditional request started on load is answered by the virtual authenticator.
    await page.goto(`${t.baseUrl}/s/portal/login`);
    await page.waitForURL(`${t.baseUrl}/s/portal/`);
    await expect(page.locator('body').textContent()).resolves.toContain('Welcome, ');
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  for (const width of [1280, 375]) {
    it(`offers the passkey as the second step after the password at ${width} px`, async () => {
      const email = `pk-second-${width}@example.com`;
      const { agent } = await registerGuest(t.app, { email });
      const { secret } = await enrolThroughPages(agent);
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const { page, present } = await pageWithAuthenticator(context);
      const errors = watchPageErrors(page);
      // Signed in with password and code, add the passkey in this browser.
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByLabel('Email or username').fill(email);
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/login/code`);
      await page.getByLabel('Code', { exact: true }).fill(totp(secret, 1));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      await page.goto(`${t.baseUrl}/s/portal/account/passkeys`);
      await page.getByLabel('Name', { exact: true }).fill('Second step');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.waitForURL(/saved=added/);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      // Password, then the passkey instead of a code (nobody at the sensor until then, so autofill waits).
      await present(false);
      await page.goto(`${t.baseUrl}/s/portal/login`);
      await page.getByLabel('Email or username').fill(email);
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Log in', exact: true }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/login/code`);
      await expect(axeViolations(page)).resolves.toEqual([]);
      await expect(overflow(page, width)).resolves.toEqual([]);
      await present(true);
      await page.getByRole('button', { name: 'Use a passkey instead' }).click();
      await page.waitForURL(`${t.baseUrl}/s/portal/`);
      const user = (await UserModel.findOne({ email }))!;
      expect(
        (await LoginEventModel.findOne({ user: user._id, outcome: 'success' }).sort({ at: -1 }).lean())?.method,
      ).toBe('password+passkey');
      expect(errors).toEqual([]);
      await context.close();
    }, 120_000);
  }
});
