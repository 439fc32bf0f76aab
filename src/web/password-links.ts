/**
 * "Forgot your password?", the reset link and the invitation link, for the sites and the admin area
 * alike (each mounts these handlers under its own paths and views).
 *
 * Asking for a link answers the same page, status and words whatever the address: the throttle (per
 * address and per IP) is counted first, then the lookup and the mail run after the answer (see
 * src/jobs/detached.ts), so neither the words nor the time tell whether the address has an account.
 */
import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { RequestThrottle } from '../auth/recovery-throttle';
import { signIn, type Area } from '../auth/areas';
import { recordLogin } from '../domain/authentication';
import { isDomainError, TooManyRequestsError, ValidationError, InvalidLinkError } from '../domain/errors';
import { checkPasswordLink, sendPasswordResetLinks, setPasswordWithLink, type PasswordLinkPurpose } from '../domain/recovery';
import type { LinkArea } from '../domain/links';
import { runDetached } from '../jobs/detached';
import { keepTyped, readStrings } from './forms';
import { holdForSecondFactor } from './two-factor';

export interface PasswordLinkPages {
  area: Area;
  /** Where links for this area lead (the site of the page, or the admin area). */
  linkArea(res: Response): LinkArea;
  views: { forgot: string; setPassword: string };
  /** Where a person lands once signed in. */
  home(res: Response): string;
  /** The second sign-in step, for users with two-factor on. */
  codePath(res: Response): string;
  throttle: RequestThrottle;
  logger: Logger;
}

/** Shows `view` again with the refusal's message and status; other errors go to the error writer. */
function refuse(res: Response, next: NextFunction, err: unknown, view: string, locals: Record<string, unknown>): void {
  if (!isDomainError(err) || err.status >= 500 || err instanceof InvalidLinkError || err.status === 403) return next(err);
  if (err instanceof TooManyRequestsError) res.set('Retry-After', String(err.retryAfterSeconds));
  res.status(err.status).render(view, { ...locals, error: err.message, fieldErrors: (err as { fields?: Record<string, string> }).fields ?? {} });
}

export function forgotPage(p: PasswordLinkPages): RequestHandler {
  return (_req, res) => res.render(p.views.forgot, { title: 'Reset your password', values: { email: '' }, sent: false, error: null, fieldErrors: {} });
}

export function forgotSubmit(p: PasswordLinkPages): RequestHandler {
  return async (req, res, next) => {
    const locals = { title: 'Reset your password', values: keepTyped(req.body, ['email']), sent: false };
    try {
      const { email } = readStrings(req.body, ['email'], [], 254);
      await p.throttle.consume(email, req.ip ?? 'unknown');
      const where = p.linkArea(res);
      runDetached(() => sendPasswordResetLinks(email, where), p.logger, 'Sending password reset links');
      res.render(p.views.forgot, { ...locals, values: { email: '' }, sent: true, error: null, fieldErrors: {} });
    } catch (err) {
      refuse(res, next, err, p.views.forgot, locals);
    }
  };
}

const PURPOSE_TITLES: Record<PasswordLinkPurpose, string> = { reset: 'Choose a new password', invite: 'Set your password' };

export function setPasswordPage(p: PasswordLinkPages, purpose: PasswordLinkPurpose): RequestHandler {
  return async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const { user } = await checkPasswordLink(purpose, token, p.area);
    res.render(p.views.setPassword, { title: PURPOSE_TITLES[purpose], purpose, token, username: user.username, error: null, fieldErrors: {} });
  };
}

export function setPasswordSubmit(p: PasswordLinkPages, purpose: PasswordLinkPurpose): RequestHandler {
  return async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token.slice(0, 100) : '';
    let username = '';
    try {
      username = (await checkPasswordLink(purpose, token, p.area)).user.username;
      const f = readStrings(req.body, ['password'], ['passwordConfirm', 'token']);
      if (f.passwordConfirm !== undefined && f.passwordConfirm !== f.password) {
        throw new ValidationError('Some fields need attention.', { passwordConfirm: 'The two passwords differ. Type the same password twice.' });
      }
      const user = await setPasswordWithLink(purpose, token, f.password, { area: p.area, ip: req.ip });
      // A new password does not skip the second factor.
      if (await holdForSecondFactor(req, p.area, user)) return res.redirect(303, p.codePath(res));
      await signIn(req, p.area, user);
      await recordLogin(user, p.area, req.ip, req.get('user-agent'));
      res.redirect(303, p.home(res));
    } catch (err) {
      refuse(res, next, err, p.views.setPassword, { title: PURPOSE_TITLES[purpose], purpose, token, username });
    }
  };
}
