/**
 * "Forgot your password?", the reset link and the invitation link, for the sites and the admin area
 * alike (each mounts these handlers under its own paths and views).
 *
 * Asking for a link answers the same page, status and words whatever the address: the throttle (per
 * address and per IP) is counted first, then the lookup and the mail run after the answer (see
 * src/jobs/detached.ts), so neither the words nor the time tell whether the address has an account.
 */
import type { Request, Response, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { RequestThrottle } from '../signin';
import { signIn, type Area, holdForSecondFactor } from '../signin/routes';
import { recordLogin } from '../signin';
import { InvalidLinkError, ValidationError } from '../shared/errors';
import { formRoute, renderErrorPage } from '../http/error-writer';
import { checkPasswordLink, sendPasswordResetLinks, setPasswordWithLink, type PasswordLinkPurpose } from './recovery';
import type { LinkArea } from './links';
import { runDetached } from '../shared/detached';
import { keepTyped, readStrings } from '../http/forms';
import { MSG } from '../shared/messages';

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
  /** Proof of work once requests for an address or from an IP pile up (the sites; src/bot-check). */
  proof?: ProofStep;
}

export interface ProofStep {
  /** Whether the next request from `ip` must carry a proof (decided by the IP alone, so the page can show it). */
  needed(ip: string): Promise<boolean>;
  /** Accepts the proof in the form once, or throws ValidationError. */
  verify(body: unknown): Promise<void>;
  /** Puts the widget (or not) into the page's locals. */
  show(res: Response, needed: boolean): void;
}

export function forgotPage(p: PasswordLinkPages): RequestHandler {
  return async (req, res) => {
    if (p.proof) p.proof.show(res, await p.proof.needed(req.ip ?? 'unknown'));
    res.render(p.views.forgot, {
      title: 'Reset your password',
      values: { email: '' },
      sent: false,
      error: null,
      fieldErrors: {},
    });
  };
}

export function forgotSubmit(p: PasswordLinkPages): RequestHandler {
  const locals = (body: unknown) => ({ title: 'Reset your password', values: keepTyped(body, ['email']), sent: false });
  return formRoute(
    (req) => async (r: Response) => {
      if (p.proof) p.proof.show(r, await p.proof.needed(req.ip ?? 'unknown'));
      r.render(p.views.forgot, { ...locals(req.body), error: r.locals.error, fieldErrors: r.locals.fieldErrors ?? {} });
    },
    async (req, res) => {
      const { email } = readStrings(req.body, ['email'], [], 254);
      const ip = req.ip ?? 'unknown';
      // Checked before the request is counted, so a refused proof costs the person nothing.
      if (p.proof && (await p.proof.needed(ip))) await p.proof.verify(req.body);
      await p.throttle.consume(email, ip);
      if (p.proof) p.proof.show(res, await p.proof.needed(ip));
      const where = p.linkArea(res);
      runDetached(() => sendPasswordResetLinks(email, where), p.logger, 'Sending password reset links');
      res.render(p.views.forgot, {
        ...locals(req.body),
        values: { email: '' },
        sent: true,
        error: null,
        fieldErrors: {},
      });
    },
  );
}

const PURPOSE_TITLES: Record<PasswordLinkPurpose, string> = {
  reset: 'Choose a new password',
  invite: 'Set your password',
};

export function setPasswordPage(p: PasswordLinkPages, purpose: PasswordLinkPurpose): RequestHandler {
  return async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    const { user } = await checkPasswordLink(purpose, token, p.area);
    res.render(p.views.setPassword, {
      title: PURPOSE_TITLES[purpose],
      purpose,
      token,
      username: user.username,
      error: null,
      fieldErrors: {},
    });
  };
}

const linkTokenOf = (req: Request) => {
  const body = (req.body ?? {}) as Record<string, unknown>;
  return typeof body.token === 'string' ? body.token.slice(0, 100) : '';
};

/**
 * The set-password form, shown again on a refusal (an expired CSRF token included): it names the person,
 * so the link is checked again first; a link no longer valid gets the error page instead.
 */
const setPasswordForm =
  (p: PasswordLinkPages, purpose: PasswordLinkPurpose) => (req: Request) => async (r: Response) => {
    const token = linkTokenOf(req);
    let username: string;
    try {
      username = (await checkPasswordLink(purpose, token, p.area)).user.username;
    } catch (err) {
      if (err instanceof InvalidLinkError) return renderErrorPage(r, err.status, err.message);
      throw err;
    }
    r.render(p.views.setPassword, {
      title: PURPOSE_TITLES[purpose],
      purpose,
      token,
      username,
      error: r.locals.error,
      fieldErrors: r.locals.fieldErrors ?? {},
    });
  };

export function setPasswordSubmit(p: PasswordLinkPages, purpose: PasswordLinkPurpose): RequestHandler {
  return formRoute(setPasswordForm(p, purpose), async (req, res) => {
    const token = linkTokenOf(req);
    // A link that is used, expired or forged is an error page (InvalidLinkError); a refused password shows the form.
    await checkPasswordLink(purpose, token, p.area);
    const f = readStrings(req.body, ['password'], ['passwordConfirm', 'token']);
    if (f.passwordConfirm !== undefined && f.passwordConfirm !== f.password) {
      throw new ValidationError(MSG.fieldsNeedAttention, { passwordConfirm: MSG.passwordsDiffer });
    }
    const user = await setPasswordWithLink(purpose, token, f.password, {
      area: p.area,
      ip: req.ip,
      userAgent: req.get('user-agent')?.slice(0, 300),
    });
    // A new password does not skip the second factor.
    if ((await holdForSecondFactor(req, p.area, user)) === 'held') return res.redirect(303, p.codePath(res));
    await signIn(req, p.area, user);
    await recordLogin(user, p.area, req.ip, req.get('user-agent'));
    res.redirect(303, p.home(res));
  });
}
