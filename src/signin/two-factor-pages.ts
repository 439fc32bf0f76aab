/**
 * Two-factor pages for the sites and the admin area alike: the second sign-in step, enrolment (QR code,
 * key, confirmation code, recovery codes shown once), turning it off (password again), and the rule
 * that sends a user who must use two-factor (ADMIN_MFA_REQUIRED, a site's setting) to enrol first.
 *
 * Between the password and the code nobody is signed in: the session only remembers who passed the
 * password, for which area, for five minutes (`pendingMfa`). Codes are counted per account (not per
 * address, and not given back by a correct password) before they are checked, and the session id is
 * renewed both at the password step and when the sign-in completes (signIn).
 */
import type { Request, Response, RequestHandler } from 'express';
import { freshSessionId, originOf, signIn, safeReturnTo, type Area } from './session-middleware';
import type { AccountThrottle, LoginThrottle } from './throttle';
import type { PasswordRecheckThrottle } from './password-recheck';
import { UserModel, type UserDoc } from '../data/models';
import { recordFailedLogin, recordLogin } from './authentication';
import { AuthenticationError, ForbiddenError } from '../shared/errors';
import { formRoute, onRefusal } from '../http/error-writer';
import {
  confirmEnrolment,
  disableOwnMfa,
  finishEnrolment,
  mfaStatus,
  pendingRecoveryCodes,
  regenerateRecoveryCodes,
  startEnrolment,
  useSecondFactor,
} from './two-factor';
import { FEW_RECOVERY_CODES } from '../account';
import { readStrings } from '../http/forms';
import { DEVICE_COOKIE, deviceSkipsSecondFactor, rememberDevice, type DeviceSettings } from './remembered-devices';

declare module 'express-session' {
  interface SessionData {
    /** Passed the password, waiting for the second factor. */
    pendingMfa?: { userId: string; area: Area; epoch: number; at: number; returnTo?: string; keepMs?: number };
  }
}

const PENDING_MS = 5 * 60_000;

const deviceCookieOf = (req: Request): unknown => (req.cookies as Record<string, unknown> | undefined)?.[DEVICE_COOKIE];

/** After a correct password (or a reset link): true when a code is asked first, and the session remembers whom for. */
export async function holdForSecondFactor(
  req: Request,
  area: Area,
  user: UserDoc,
  returnTo?: string,
  keepMs?: number,
  devices?: DeviceSettings,
): Promise<boolean> {
  if (!user.mfaEnabled) return false;
  // A browser this user remembered for this area skips the code; any other cookie changes nothing.
  if (devices && (await deviceSkipsSecondFactor(deviceCookieOf(req), devices, user._id, area))) return false;
  // A fresh session id already at the password step: a planted id never holds a half-done sign-in.
  await freshSessionId(req);
  req.session.pendingMfa = {
    userId: String(user._id),
    area,
    epoch: user.sessionEpoch ?? 0,
    at: Date.now(),
    ...(returnTo ? { returnTo } : {}),
    ...(keepMs ? { keepMs } : {}),
  };
  await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  return true;
}

export interface TwoFactorPages {
  area: Area;
  views: { code: string; manage: string };
  /** Where the manage page lives (its forms post to `${manage}/setup`, `/enable`, `/disable`). */
  managePath(res: Response): string;
  loginPath(res: Response): string;
  home(res: Response): string;
  throttle: LoginThrottle;
  /** Counts password re-checks per account (turning two-factor off). */
  recheck: PasswordRecheckThrottle;
  /** Second-factor codes per account (shared by every instance), counted before the code is checked. */
  codeThrottle: AccountThrottle;
  /** "Remember this device": the cookie's key and lifetime. */
  devices: DeviceSettings;
}

/** Who passed the password and waits for the second step in this session (null: nobody, expired, or changed since). */
export async function pendingUser(req: Request, area: Area): Promise<UserDoc | null> {
  const p = req.session.pendingMfa;
  if (!p || p.area !== area || Date.now() - p.at > PENDING_MS) return null;
  const user = await UserModel.findById(p.userId);
  return user && user.isActive && (user.sessionEpoch ?? 0) === p.epoch && user.mfaEnabled ? user : null;
}

const rememberDaysOf = (p: TwoFactorPages) => Math.round(p.devices.maxAgeMs / 86_400_000);
const expired = () => new AuthenticationError('Your sign-in has expired or was not started. Log in again.');

export function codePage(p: TwoFactorPages): RequestHandler {
  return async (req, res) => {
    if (!(await pendingUser(req, p.area))) return res.redirect(303, p.loginPath(res));
    res.render(p.views.code, {
      title: 'Two-factor sign-in',
      error: null,
      fieldErrors: {},
      rememberDays: rememberDaysOf(p),
    });
  };
}

export function codeSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(
    () => ({ view: p.views.code, locals: { title: 'Two-factor sign-in', rememberDays: rememberDaysOf(p) } }),
    async (req, res) => {
      const user = await pendingUser(req, p.area);
      if (!user) throw expired();
      const { code, remember } = readStrings(req.body, ['code'], ['remember'], 64);
      const ip = req.ip ?? 'unknown';
      // Counted before the code is checked: per account (a correct password gives nothing back), and per IP
      // with the password counters.
      const perAccount = await p.codeThrottle.begin(String(user._id));
      const attempt = await p.throttle.begin(user.username, ip);
      const used = await useSecondFactor(user._id, code, new Date(), { ip, userAgent: req.get('user-agent') });
      if (!used) {
        await recordFailedLogin(user.username, p.area, ip, req.get('user-agent'));
        throw new AuthenticationError(
          'That code is not correct, or was already used. Enter the current code from your app, or a recovery code.',
        );
      }
      await Promise.all([attempt.succeeded(), perAccount.succeeded()]);
      const { returnTo, keepMs } = req.session.pendingMfa ?? {};
      delete req.session.pendingMfa;
      await signIn(req, p.area, user, undefined, { keepMs });
      await recordLogin(user, p.area, ip, req.get('user-agent'), `password+${used}`);
      if (remember === 'yes') {
        const value = await rememberDevice(
          deviceCookieOf(req),
          p.devices,
          user,
          p.area,
          req.get('user-agent'),
          originOf(req, p.area),
        );
        res.cookie(DEVICE_COOKIE, value, {
          httpOnly: true,
          sameSite: 'lax',
          secure: p.devices.secure,
          path: '/',
          maxAge: p.devices.maxAgeMs,
        });
      }
      res.redirect(303, safeReturnTo(returnTo, '') || p.home(res));
    },
  );
}

const signedInUser = (req: Request, area: Area) => (area === 'site' ? req.siteUser : req.adminUser)!;

/** The manage page; after a refusal the error writer has set the status and put the messages in res.locals. */
async function renderManage(p: TwoFactorPages, req: Request, res: Response, extra: Record<string, unknown> = {}) {
  const user = signedInUser(req, p.area);
  res.render(p.views.manage, {
    title: 'Two-factor sign-in',
    status: await mfaStatus(user._id),
    enrolment: null,
    recoveryCodes: null,
    finishing: false,
    fewCodes: FEW_RECOVERY_CODES,
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
    ...extra,
  });
}

/** A refused form on the manage page shows the page again (with `extra`, e.g. the enrolment in progress). */
function refuseWithManage(
  p: TwoFactorPages,
  req: Request,
  res: Response,
  extra: () => Promise<Record<string, unknown>> = async () => ({}),
) {
  onRefusal(res, async (r) => renderManage(p, req, r, await extra()));
}

export function managePage(p: TwoFactorPages): RequestHandler {
  return (req, res) =>
    renderManage(p, req, res, {
      required: res.locals.mfaRequired ?? false,
      off: req.query.off === '1',
      on: req.query.on === '1',
    });
}

/** The manage page as the form of its posts: an expired token shows it again with the message (nothing typed there is kept: codes and passwords). */
const manageForm = (p: TwoFactorPages) => (req: Request) => async (r: Response) => renderManage(p, req, r, {});

export function setupSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(manageForm(p), async (req, res) => {
    await renderManage(p, req, res, {
      enrolment: await startEnrolment(signedInUser(req, p.area), { fresh: true, origin: originOf(req, p.area) }),
    });
  });
}

export function enableSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(manageForm(p), async (req, res) => {
    const user = signedInUser(req, p.area);
    refuseWithManage(p, req, res, async () => ({
      enrolment: await startEnrolment(user, { origin: originOf(req, p.area) }).catch(() => null),
    }));
    const { code } = readStrings(req.body, ['code'], [], 64);
    const codes = await confirmEnrolment(user, code, originOf(req, p.area));
    // Shown once, with the "I saved them" step that turns two-factor on.
    await renderManage(p, req, res, { recoveryCodes: codes, finishing: true });
  });
}

/** "I saved them": turns two-factor on; refused (box not ticked), the same codes are shown again. */
export function finishSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(manageForm(p), async (req, res) => {
    const user = signedInUser(req, p.area);
    const { codes, saved } = readStrings(req.body, [], ['codes', 'saved'], 200);
    refuseWithManage(p, req, res, async () => {
      const again = await pendingRecoveryCodes(user, codes ?? '');
      return again ? { recoveryCodes: again, finishing: true } : {};
    });
    await finishEnrolment(user, codes ?? '', saved === 'yes', originOf(req, p.area));
    res.redirect(303, `${p.managePath(res)}?on=1`);
  });
}

/** New recovery codes, the password asked again; shown once. */
export function regenerateSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(manageForm(p), async (req, res) => {
    const { password } = readStrings(req.body, ['password']);
    const codes = await regenerateRecoveryCodes(signedInUser(req, p.area), password, p.recheck, originOf(req, p.area));
    await renderManage(p, req, res, { recoveryCodes: codes, finishing: false });
  });
}

export function disableSubmit(p: TwoFactorPages): RequestHandler {
  return formRoute(manageForm(p), async (req, res) => {
    const { password } = readStrings(req.body, ['password']);
    await disableOwnMfa(signedInUser(req, p.area), password, p.recheck, originOf(req, p.area));
    res.redirect(303, `${p.managePath(res)}?off=1`);
  });
}

/** Sends a signed-in user who must use two-factor and has not set it up to the manage page first. */
export function requireEnrolment(
  area: Area,
  required: (req: Request, res: Response) => boolean,
  p: Pick<TwoFactorPages, 'managePath'>,
  alsoAllowed: (path: string) => boolean = () => false,
): RequestHandler {
  return (req, res, next) => {
    const user = area === 'site' ? req.siteUser : req.adminUser;
    if (!user || user.mfaEnabled || (area === 'site' && req.session.site?.impersonator) || !required(req, res))
      return next();
    res.locals.mfaRequired = true;
    const manage = p.managePath(res);
    if (req.originalUrl.split('?')[0].startsWith(manage) || alsoAllowed(req.originalUrl.split('?')[0])) return next();
    if (req.method === 'GET') return res.redirect(303, manage);
    next(new ForbiddenError('Set up two-factor sign-in first: this account must use it.'));
  };
}
