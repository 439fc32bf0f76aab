/** The account lifecycle pages of a site: forgot password, reset and invitation links. */
import { PROFILE_FIELDS } from './account';
import type { Router, RequestHandler } from 'express';
import type { AppDeps } from '../http/deps';
import { createRequestThrottle } from '../signin';
import {
  forgotPage,
  forgotSubmit,
  setPasswordPage,
  setPasswordSubmit,
  type PasswordLinkPages,
} from './password-link-pages';
import {
  checkVerificationLink,
  confirmEmailWithLink,
  resendVerificationByAddress,
  sendVerificationLink,
} from './verification';
import { NotFoundError, ValidationError } from '../shared/errors';
import { formRoute } from '../http/error-writer';
import { runDetached } from '../shared/detached';
import { readStrings } from '../http/forms';
import { providerSessionIdOf } from '../oidc/routes';
import { endOtherSessions, endOwnSession, historyOf, sessionsOf } from './sessions';
import { checkEmailChangeLink, confirmEmailChange, requestEmailChange } from './email-change';
import { keepTyped, typedPasswords } from '../http/forms';
import {
  originOf,
  codePage,
  codeSubmit,
  disableSubmit,
  enableSubmit,
  managePage,
  requireEnrolment,
  setupSubmit,
  type TwoFactorPages,
} from '../signin/routes';
import { MSG } from '../shared/messages';
import { finishSubmit, regenerateSubmit } from '../signin/routes';
import { describeWhen } from './time-format';
import { mfaStatus } from '../signin';
import { FEW_RECOVERY_CODES } from './security-notices';
import { powLocals, readProof } from '../bot-check/routes';
import { deviceSettings, forgetDevice, rememberedDevicesOf } from '../signin';
import { parseIdField } from '../shared/ids';

export function siteLifecycleRoutes(site: Router, deps: AppDeps, requireSignIn: RequestHandler): void {
  const pages: PasswordLinkPages = {
    area: 'site',
    linkArea: (res) => ({ area: 'site', siteSlug: res.locals.site!.slug }),
    views: { forgot: 'site/forgot', setPassword: 'site/set-password' },
    home: (res) => res.locals.paths.home,
    codePath: (res) => res.locals.paths.loginCode,
    throttle: createRequestThrottle(deps.db.connection, deps.config.recoveryThrottle, 'recovery'),
    logger: deps.logger,
  };
  // "Forgot password" asks for a proof of work once requests from an IP pile up; an IP over its limit
  // gets the throttle's answer (429, when to try again) instead of a request for more work.
  pages.proof = {
    needed: async (ip) => {
      const used = await pages.throttle.used(null, ip);
      return used >= deps.config.pow.recoveryAfter && used < deps.config.recoveryThrottle.maxPerIp;
    },
    verify: (body) => deps.botCheck.verify(readProof(body)),
    show: (res, needed) => powLocals(deps.botCheck, res, needed),
  };
  const twoFactor: TwoFactorPages = {
    area: 'site',
    views: { code: 'site/login-code', manage: 'site/two-factor' },
    managePath: (res) => res.locals.paths.twoFactor,
    loginPath: (res) => res.locals.paths.login,
    home: (res) => res.locals.paths.home,
    throttle: deps.loginThrottle,
    recheck: deps.recheckThrottle,
    codeThrottle: deps.secondFactorThrottle,
    devices: deviceSettings(deps.config),
  };
  // A site that requires two-factor sends its signed-in users without it to set it up first.
  site.use(
    requireEnrolment(
      'site',
      (_req, res) => Boolean(res.locals.site?.requireMfa),
      twoFactor,
      (path) => path.endsWith('/logout'),
    ),
  );
  site.get('/login/code', codePage(twoFactor));
  site.post('/login/code', codeSubmit(twoFactor));
  site.get('/account/two-factor', requireSignIn, managePage(twoFactor));
  site.post('/account/two-factor/setup', requireSignIn, setupSubmit(twoFactor));
  site.post('/account/two-factor/enable', requireSignIn, enableSubmit(twoFactor));
  site.post('/account/two-factor/disable', requireSignIn, disableSubmit(twoFactor));
  site.post('/account/two-factor/finish', requireSignIn, finishSubmit(twoFactor));
  site.post('/account/two-factor/recovery-codes', requireSignIn, regenerateSubmit(twoFactor));
  // The account page lists the user's sessions and sign-in history (for its own renders and refusals).
  site.use(async (req, res, next) => {
    if (req.siteUser && req.path.startsWith('/account')) {
      res.locals.sessions = await sessionsOf(req.siteUser, { currentId: req.sessionID, language: res.locals.lang });
      res.locals.history = await historyOf(req.siteUser._id, 20, res.locals.lang);
      res.locals.devices = await rememberedDevicesOf(req.siteUser._id);
      // Relative times in the page's language, with the exact time in the person's own time zone for the title.
      const zone = req.siteUser.timeZoneSidKey,
        now = new Date();
      res.locals.when = (at: Date) => describeWhen(at, zone, now, res.locals.lang);
      // The account page warns when few recovery codes are left.
      res.locals.mfa = req.siteUser.mfaEnabled
        ? { ...(await mfaStatus(req.siteUser._id)), few: FEW_RECOVERY_CODES }
        : null;
    }
    next();
  });
  site.post('/account/sessions/end', requireSignIn, async (req, res) => {
    const f = readStrings(req.body, ['id', 'area'], [], 200);
    if (f.area !== 'site' && f.area !== 'admin')
      throw new ValidationError(MSG.fieldsNeedAttention, { area: 'Use site or admin.' });
    await endOwnSession(req.siteUser!, f.id, f.area, originOf(req));
    res.redirect(303, `${res.locals.paths.account}?saved=session`);
  });
  site.post('/account/devices/remove', requireSignIn, async (req, res) => {
    const { id } = readStrings(req.body, ['id'], [], 100);
    if (!(await forgetDevice(req.siteUser!, parseIdField(id, 'id'), originOf(req))))
      throw new NotFoundError('That device is no longer remembered.');
    res.redirect(303, `${res.locals.paths.account}?saved=device`);
  });
  site.post('/account/sessions/end-others', requireSignIn, async (req, res) => {
    await endOtherSessions(req.siteUser!, req.sessionID, originOf(req), providerSessionIdOf(req));
    res.redirect(303, `${res.locals.paths.account}?saved=sessions`);
  });

  // Changing the email: password again, a link to the new address, a notice to the old one.
  site.post(
    '/account/email',
    requireSignIn,
    formRoute(
      (req) => ({
        view: 'site/account',
        locals: {
          title: 'Your account',
          saved: null,
          values: keepTyped(req.siteUser, PROFILE_FIELDS),
          newEmail: keepTyped(req.body, ['newEmail']).newEmail,
          passwords: typedPasswords(req.body, ['password']),
        },
      }),
      async (req, res) => {
        const user = req.siteUser!;
        const f = readStrings(req.body, [], ['newEmail', 'password'], 1024);
        if ((f.newEmail ?? '').length > 254)
          throw new ValidationError(MSG.fieldsNeedAttention, { newEmail: MSG.atMostCharacters(254) });
        await pages.throttle.consume(user.email, req.ip ?? 'unknown');
        await requestEmailChange(
          user,
          f.newEmail ?? '',
          f.password ?? '',
          { area: 'site', siteSlug: res.locals.site!.slug },
          deps.recheckThrottle,
          originOf(req),
        );
        res.redirect(303, `${res.locals.paths.account}?saved=email`);
      },
    ),
  );
  // Confirming needs the owner signed in: a used, expired or forged link says so at once; a good one
  // sends a visitor to sign in first and back here.
  site.get('/confirm-email', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const { email } = await checkEmailChangeLink(token, req.siteUser ?? null);
    if (!req.siteUser) return res.redirect(`${res.locals.paths.login}?returnTo=${encodeURIComponent(req.originalUrl)}`);
    res.render('site/confirm-email', { title: 'Confirm your new email address', token, email, confirmed: false });
  });
  site.post('/confirm-email', async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.slice(0, 100) : '';
    const user = await confirmEmailChange(token, req.siteUser ?? null, req.ip);
    res.render('site/confirm-email', { title: 'Email address changed', token: '', email: user.email, confirmed: true });
  });

  site.get('/forgot', forgotPage(pages));
  site.post('/forgot', forgotSubmit(pages));
  site.get('/reset', setPasswordPage(pages, 'reset'));
  site.post('/reset', setPasswordSubmit(pages, 'reset'));
  site.get('/welcome', setPasswordPage(pages, 'invite'));
  site.post('/welcome', setPasswordSubmit(pages, 'invite'));

  // Email verification: the link opens a page whose button confirms (a mail scanner fetching the link confirms nothing).
  site.get('/verify-email', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const { user } = await checkVerificationLink(token);
    res.render('site/verify-email', {
      title: 'Confirm your email address',
      token,
      email: user.email,
      confirmed: false,
    });
  });
  site.post('/verify-email', async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token.slice(0, 100) : '';
    const user = await confirmEmailWithLink(token, req.ip);
    res.render('site/verify-email', {
      title: 'Email address confirmed',
      token: '',
      email: user.email,
      confirmed: true,
    });
  });

  /** "Send the link again": for the signed-in user (the banner), or for an address (the refused log in). Same answer either way. */
  site.post('/verify-email/resend', async (req, res) => {
    // A refusal (throttled, no address) is the error page, written by the one error writer.
    const ip = req.ip ?? 'unknown';
    const where = { area: 'site' as const, siteSlug: res.locals.site!.slug };
    if (req.siteUser) {
      const user = req.siteUser;
      await pages.throttle.consume(user.email, ip);
      if (!user.emailVerifiedAt) await sendVerificationLink(user, where);
    } else {
      const { email } = readStrings(req.body, ['email'], [], 254);
      await pages.throttle.consume(email, ip);
      runDetached(() => resendVerificationByAddress(email, where), deps.logger, 'Sending verification links');
    }
    res.render('site/verify-sent', { title: 'Check your mail' });
  });
}
