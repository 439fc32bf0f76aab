/**
 * One browser session can hold two signed-in areas: a site user (`site`) and a staff member in the admin
 * area (`admin`). Login As uses both: the admin stays signed in to the admin area while the site area
 * holds the user, marked with who is impersonating. The session id is regenerated at every sign-in
 * and at sign-out; each area is checked on every request against the user's active flag, session epoch
 * (bumped on password change or deactivation) and the absolute lifetime.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Types } from 'mongoose';
import { UserModel, type UserDoc } from '../data/models';
import { sessionCookieOf } from '../http/session';
import { loginAsStillAllowed } from '../access';
import type { SelfOrigin } from '../access';
import type { Area } from '../shared/area';

export type { Area };

export interface AreaSession {
  userId: string;
  epoch: number;
  signedInAt: number;
  /** Set when an admin signed in to the site as this user (Login As). */
  impersonator?: { userId: string; username: string };
  /** Where the sign-in came from, for the user's list of sessions. */
  ip?: string;
  userAgent?: string;
  /** "Keep me signed in": this sign-in's own limit in ms (idle and absolute), instead of the configured ones. */
  keepMs?: number;
}

declare module 'express-session' {
  interface SessionData {
    site?: AreaSession;
    admin?: AreaSession;
    /** Where to go after signing in (same-site relative path only). */
    returnTo?: string;
  }
}

declare global {
  namespace Express {
    interface Request {
      siteUser?: UserDoc;
      adminUser?: UserDoc;
    }
  }
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

function save(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

/**
 * Whether this request's session was loaded from the store: express-session keeps the cookie's id only
 * when the store returned a session for it (after checking the signature); otherwise it made a new id.
 */
function sessionWasStored(req: Request): boolean {
  const raw = new RegExp(`(?:^|;\\s*)${sessionCookieOf(req).replace('.', '\\.')}=([^;]+)`).exec(
    req.headers.cookie ?? '',
  )?.[1];
  if (!raw) return false;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return false;
  }
  return value.startsWith('s:') && value.slice(2, value.lastIndexOf('.')) === req.sessionID;
}

const otherArea = (area: Area): Area => (area === 'site' ? 'admin' : 'site');

/**
 * Signs `user` in to `area` with a fresh session id, keeping the other area's sign-in. A session loaded
 * from the store gets a new id through regenerate() (no fixation); a session that was never stored
 * already has an id nobody else has seen (express-session makes a new one for every request without a
 * stored session), so it needs neither the regenerate nor its delete of a record that doesn't exist.
 * express-session writes the session once, before the response is sent.
 */
export async function signIn(
  req: Request,
  area: Area,
  user: { _id: Types.ObjectId; sessionEpoch: number },
  impersonator?: AreaSession['impersonator'],
  opts: { keepMs?: number } = {},
): Promise<void> {
  const other = req.session[otherArea(area)];
  if (sessionWasStored(req)) await regenerate(req);
  if (other) req.session[otherArea(area)] = other;
  req.session[area] = {
    userId: String(user._id),
    epoch: user.sessionEpoch ?? 0,
    signedInAt: Date.now(),
    ...(impersonator ? { impersonator } : {}),
    ip: req.ip,
    userAgent: req.get('user-agent')?.slice(0, 300),
    ...(opts.keepMs ? { keepMs: opts.keepMs } : {}),
  };
  // The cookie and the stored session (connect-mongo expires it with the cookie) live this long from
  // each request; rolling keeps pushing it on. Without it the idle timeout of the session middleware holds.
  if (opts.keepMs) req.session.cookie.maxAge = opts.keepMs;
}

/**
 * A new session id that keeps both areas' sign-ins, for a step of a sign-in that stores something in the
 * session before it completes (the password step of a two-factor sign-in). Same rule as signIn: only a
 * stored session needs it.
 */
export async function freshSessionId(req: Request): Promise<void> {
  if (!sessionWasStored(req)) return;
  const { site, admin } = req.session;
  await regenerate(req);
  if (site) req.session.site = site;
  if (admin) req.session.admin = admin;
}

/** Signs out of `area`; the session is destroyed unless the other area is still signed in. */
export async function signOut(req: Request, res: Response, area: Area): Promise<void> {
  const other = req.session[otherArea(area)];
  if (other) {
    await regenerate(req);
    req.session[otherArea(area)] = other;
    await save(req);
    return;
  }
  await new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
  const name = sessionCookieOf(req);
  // A browser only accepts (and so clears) a __Host- cookie sent as Secure.
  res.clearCookie(name, { path: '/', secure: name.startsWith('__Host-') });
}

/**
 * Loads the users of both areas, dropping an area whose user is gone, inactive, or signed out elsewhere.
 * A Login As site session lives only as long as the impersonating admin's own sign-in in the same
 * browser session, and while that admin may still use Login As on the user.
 */
export function loadSessionUsers(absoluteLifetimeMs: number, now: () => number = Date.now): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      // The admin area first: an impersonated site session depends on it.
      for (const area of ['admin', 'site'] as Area[]) {
        const s = req.session?.[area];
        if (!s) continue;
        const user =
          now() - s.signedInAt > (s.keepMs ?? absoluteLifetimeMs) ? null : await UserModel.findById(s.userId);
        const valid =
          user &&
          user.isActive &&
          (user.sessionEpoch ?? 0) === s.epoch &&
          (area === 'site' || user.userType === 'internal');
        if (
          !valid ||
          (area === 'site' && s.impersonator && !(await impersonationHolds(req, s.impersonator.userId, user)))
        ) {
          delete req.session[area];
          continue;
        }
        if (area === 'site') req.siteUser = user;
        else req.adminUser = user;
      }
      res.locals.siteUser = req.siteUser ?? null;
      res.locals.adminUser = req.adminUser ?? null;
      res.locals.impersonator = req.siteUser ? (req.session.site?.impersonator ?? null) : null;
      next();
    } catch (err) {
      next(err);
    }
  };
}

async function impersonationHolds(req: Request, adminId: string, user: UserDoc): Promise<boolean> {
  if (!req.adminUser || String(req.adminUser._id) !== adminId) return false;
  return loginAsStillAllowed(adminId, user);
}

/**
 * Where a change a signed-in user makes to their own account comes from: the IP and, in a Login As site
 * session, the admin signed in as them, so the audit trail records the admin acting for the user.
 */
export function originOf(req: Request, area: Area = 'site'): SelfOrigin {
  const impersonator = area === 'site' && req.siteUser ? (req.session.site?.impersonator ?? null) : null;
  return { ip: req.ip ?? null, impersonator, userAgent: req.get('user-agent')?.slice(0, 300) ?? null };
}

/** Only same-site relative paths are accepted as post-login destinations ("/x", never "//evil" or "/\\evil"). */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string' || value.length > 500) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\r\n\t]/.test(value))
    return fallback;
  return value;
}
