/**
 * The passkey pages of a site: the account's passkeys page (add, rename, remove), sign-in with a passkey
 * on the log in page (a button, and the browser's autofill: conditional UI), and a passkey as the second
 * step after a password. The page's script (public/js/passkeys.js, with @simplewebauthn/browser served
 * from node_modules at PASSKEY_BROWSER_SCRIPT) asks for options with fetch (CSRF token in its header),
 * runs the ceremony, and posts the answer in an ordinary form, so a refusal is the page again with its
 * message, like every other form.
 */
import path from 'node:path';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { AppDeps } from '../http/deps';
import { formRoute } from '../http/error-writer';
import { readStrings } from '../http/forms';
import { AuthenticationError } from '../shared/errors';
import { originOf, signIn, safeReturnTo, pendingSecondFactor, type Area } from '../signin/routes';
import { recordFailedLogin, recordLogin } from '../signin';
import {
  accountOfAnswer,
  authenticationOptions,
  countPasskeys,
  hasPasskeys,
  listPasskeys,
  registerPasskey,
  registrationOptions,
  removeOwnPasskey,
  renamePasskey,
  signInWithPasskey,
  verifyPasskey,
  type ChallengeStore,
  type PendingChallenge,
} from './index';

declare module 'express-session' {
  interface SessionData {
    /** The one WebAuthn challenge waiting (challenges.ts): taken, and so forgotten, by the next answer. */
    passkeyChallenge?: PendingChallenge;
  }
}

export const PASSKEY_BROWSER_SCRIPT = '/js/vendor/simplewebauthn-browser.js';

/** @simplewebauthn/browser's UMD bundle, from the installed package (no CDN, nothing copied into public/). */
export function passkeyBrowserScript(maxAge: string | number): RequestHandler {
  const file = path.join(
    path.dirname(require.resolve('@simplewebauthn/browser')),
    '..',
    'dist',
    'bundle',
    'index.umd.min.js',
  );
  return (_req, res, next) => res.sendFile(file, { maxAge }, (err) => (err ? next(err) : undefined));
}

function sessionChallenges(req: Request): ChallengeStore {
  return {
    put: (p) => {
      req.session.passkeyChallenge = p;
    },
    take: () => {
      const p = req.session.passkeyChallenge;
      delete req.session.passkeyChallenge;
      return p;
    },
  };
}

const saveSession = (req: Request) =>
  new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));

async function renderPasskeys(req: Request, res: Response, extra: Record<string, unknown> = {}) {
  res.render('site/passkeys', {
    title: 'Passkeys',
    passkeys: await listPasskeys(req.siteUser!._id),
    saved: typeof req.query.saved === 'string' ? req.query.saved : null,
    target: null,
    values: { name: '' },
    passkeyScripts: true,
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
    ...extra,
  });
}

/** A refused form of the passkeys page: the page again, the message next to the passkey it was about. */
const passkeysForm = (extra: (req: Request) => Record<string, unknown>) => (req: Request) => async (r: Response) =>
  renderPasskeys(req, r, extra(req));

export function sitePasskeyRoutes(site: Router, deps: AppDeps, requireSignIn: RequestHandler): void {
  const account = (res: Response) => res.locals.paths.passkeys as string;

  site.get('/account/passkeys', requireSignIn, (req, res) => renderPasskeys(req, res));

  site.post('/account/passkeys/options', requireSignIn, async (req, res) => {
    const rpName = res.locals.site!.name;
    const options = await registrationOptions(req.siteUser!, rpName, sessionChallenges(req));
    await saveSession(req);
    res.json(options);
  });

  site.post(
    '/account/passkeys',
    requireSignIn,
    formRoute(
      passkeysForm((req) => ({
        values: { name: String((req.body as Record<string, unknown>)?.name ?? '').slice(0, 100) },
      })),
      async (req, res) => {
        const f = readStrings(req.body, [], ['name', 'response'], 16_000);
        await registerPasskey(
          req.siteUser!,
          { name: f.name ?? '', response: f.response ?? '' },
          sessionChallenges(req),
          originOf(req),
        );
        res.redirect(303, `${account(res)}?saved=added`);
      },
    ),
  );

  site.post(
    '/account/passkeys/:id/rename',
    requireSignIn,
    formRoute(
      passkeysForm((req) => ({ target: String(req.params.id) })),
      async (req, res) => {
        const { name } = readStrings(req.body, [], ['name'], 200);
        await renamePasskey(req.siteUser!, String(req.params.id), name ?? '', originOf(req));
        res.redirect(303, `${account(res)}?saved=renamed`);
      },
    ),
  );

  site.post(
    '/account/passkeys/:id/remove',
    requireSignIn,
    formRoute(
      passkeysForm((req) => ({ target: String(req.params.id) })),
      async (req, res) => {
        const { password } = readStrings(req.body, [], ['password']);
        await removeOwnPasskey(
          req.siteUser!,
          String(req.params.id),
          password ?? '',
          deps.recheckThrottle,
          originOf(req),
        );
        res.redirect(303, `${account(res)}?saved=removed`);
      },
    ),
  );

  // Signing in with a passkey alone (user verification required: two factors).
  site.post('/login/passkey/options', async (req, res) => {
    const options = await authenticationOptions(sessionChallenges(req), null);
    await saveSession(req);
    res.json(options);
  });

  const loginForm = (req: Request) => async (r: Response) => {
    r.render('site/login', {
      title: 'Log in',
      values: { username: '' },
      returnTo: safeReturnTo((req.body as Record<string, unknown>)?.returnTo, ''),
      error: r.locals.error,
      fieldErrors: r.locals.fieldErrors,
      passkeyScripts: true,
    });
  };
  site.post(
    '/login/passkey',
    formRoute(loginForm, async (req, res) => {
      const { response, returnTo } = readStrings(req.body, [], ['response', 'returnTo'], 16_000);
      const ip = req.ip ?? 'unknown';
      // The failed-login throttle, counted before the answer is checked: for the account the passkey
      // belongs to when it is one, and per IP in any case.
      const who = await accountOfAnswer(response ?? '');
      const attempt = await deps.loginThrottle.begin(who?.username ?? 'passkey:unknown', ip);
      let user;
      try {
        user = await signInWithPasskey(response ?? '', sessionChallenges(req), res.locals.site!);
      } catch (err) {
        if (err instanceof AuthenticationError)
          await recordFailedLogin(who?.username ?? '', 'site', ip, req.get('user-agent'));
        throw err;
      }
      await attempt.succeeded();
      await signIn(req, 'site', user);
      await recordLogin(user, 'site', ip, req.get('user-agent'), 'passkey');
      res.redirect(303, safeReturnTo(returnTo, '') || res.locals.paths.home);
    }),
  );

  // The second step after a password: the user's own passkeys, counted with the codes.
  secondFactorRoutes(site, deps, 'site');
}

function secondFactorRoutes(site: Router, deps: AppDeps, area: Area): void {
  site.post('/login/code/passkey/options', async (req, res) => {
    const user = await pendingSecondFactor(req, area);
    if (!user) throw new AuthenticationError('Your sign-in has expired or was not started. Log in again.');
    const options = await authenticationOptions(sessionChallenges(req), user._id);
    await saveSession(req);
    res.json(options);
  });

  const codeForm = () => ({
    view: 'site/login-code',
    locals: { title: 'Two-factor sign-in', passkeyScripts: true, hasPasskeys: true },
  });
  site.post(
    '/login/code/passkey',
    formRoute(codeForm, async (req, res) => {
      const user = await pendingSecondFactor(req, area);
      if (!user) throw new AuthenticationError('Your sign-in has expired or was not started. Log in again.');
      const { response } = readStrings(req.body, [], ['response'], 16_000);
      const ip = req.ip ?? 'unknown';
      // Counted like a code: per account (a correct password gives nothing back) and per IP with the passwords.
      const perAccount = await deps.secondFactorThrottle.begin(String(user._id));
      const attempt = await deps.loginThrottle.begin(user.username, ip);
      try {
        await verifyPasskey(response ?? '', sessionChallenges(req), user._id);
      } catch (err) {
        if (err instanceof AuthenticationError) await recordFailedLogin(user.username, area, ip, req.get('user-agent'));
        throw err;
      }
      await Promise.all([attempt.succeeded(), perAccount.succeeded()]);
      const { returnTo, keepMs } = req.session.pendingMfa ?? {};
      delete req.session.pendingMfa;
      await signIn(req, area, user, undefined, { keepMs });
      await recordLogin(user, area, ip, req.get('user-agent'), 'password+passkey');
      res.redirect(303, safeReturnTo(returnTo, '') || res.locals.paths.home);
    }),
  );
}

/**
 * Locals for the log in page and the second step (their own routes render them, in signin/ and
 * account/): the passkey scripts, and on the second step whether the waiting user has a passkey to offer.
 */
export function passkeyPageLocals(area: Area): RequestHandler {
  return async (req, res, next) => {
    if (req.path === '/login' || req.path === '/login/code') res.locals.passkeyScripts = true;
    if (req.siteUser && area === 'site' && (req.path === '/account' || req.path.startsWith('/account/')))
      res.locals.passkeyCount = await countPasskeys(req.siteUser._id);
    if (req.path === '/login/code') {
      const user = await pendingSecondFactor(req, area);
      res.locals.hasPasskeys = Boolean(user && (await hasPasskeys(user._id)));
    }
    next();
  };
}
