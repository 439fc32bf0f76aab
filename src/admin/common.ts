/** Pieces shared by the admin pages: sign-in guard, the acting admin, flash messages. */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { loadActor, type Actor, type RequestContext } from '../access';
import { ForbiddenError } from '../shared/errors';
import { safeReturnTo } from '../signin/routes';
import { formList, formText, readForm } from '../http/form-input';

declare module 'express-session' {
  interface SessionData {
    flash?: { kind: 'ok' | 'error'; text: string; secret?: string };
    /** Form nonces already used by forms that show a secret once: a reload (re-POST) does not create another. */
    usedOnce?: string[];
  }
}

export const ADMIN = {
  login: '/admin/login',
  logout: '/admin/logout',
  setup: '/admin/setup',
  dashboard: '/admin',
  users: '/admin/users',
  user: (id: unknown) => `/admin/users/${String(id)}`,
  sites: '/admin/sites',
  licenses: '/admin/licenses',
  tokens: '/admin/api-tokens',
  apps: '/admin/apps',
  audit: '/admin/audit',
  groups: '/admin/delegated-groups',
  profiles: '/admin/profiles',
  profile: (id: unknown) => `/admin/profiles/${String(id)}`,
  permissionSets: '/admin/permission-sets',
  permissionSet: (id: unknown) => `/admin/permission-sets/${String(id)}`,
  loginAsEnd: '/admin/login-as/end',
  outbox: '/admin/outbox',
  forgot: '/admin/forgot',
  reset: '/admin/reset',
  welcome: '/admin/welcome',
  loginCode: '/admin/login/code',
  twoFactor: '/admin/two-factor',
} as const;

/** Only signed-in internal users with a valid actor get past; others go to the login page. */
export async function requireAdmin(req: Request, res: Response, next: NextFunction): Promise<void> {
  const actor = req.adminUser ? await loadActor(req.adminUser._id) : null;
  if (!actor) {
    res.redirect(`${ADMIN.login}?returnTo=${encodeURIComponent(safeReturnTo(req.originalUrl, ADMIN.dashboard))}`);
    return;
  }
  res.locals.actor = actor;
  res.locals.A = ADMIN;
  res.locals.ago = ago;
  res.locals.utc = utc;
  res.locals.currentPath = req.originalUrl.split('?')[0];
  res.locals.flash = req.session.flash ?? null;
  delete req.session.flash;
  next();
}

export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new ForbiddenError('Sign in to the admin area first.');
  return actor;
}

export function ctxOf(req: Request, res: Response): RequestContext & { actor: Actor } {
  return { actor: actorOf(res), ip: req.ip, via: 'admin' };
}

export function flash(req: Request, kind: 'ok' | 'error', text: string, secret?: string): void {
  req.session.flash = { kind, text, ...(secret ? { secret } : {}) };
}

/**
 * A single-valued field of a form, or '' when absent. A field sent twice (`firstName=a&firstName=b`, a
 * checkbox duplicated) or as an object is refused with 422 before anything is written, as the site forms
 * do: both read through src/http/form-input.ts. Reading it as '' or "unchecked" would save something
 * nobody typed.
 */
export function field(req: Request, name: string): string {
  return readForm(req.body, { [name]: formText() })[name];
}

/** What was typed in a field, for showing a refused form again only: never throws, '' for anything odd. */
export function typedField(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
}

/** A field that may repeat (a list of checkboxes) as strings; one value arrives as a plain string. */
export function fieldList(req: Request, name: string): string[] {
  return readForm(req.body, { [name]: formList() })[name];
}

export function queryString(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v.slice(0, 200) : '';
}

/** "2 days ago", "in 3 hours", "just now": a time relative to now, for people (the UTC time goes in a title). */
export function ago(date: Date | null | undefined, now: Date = new Date()): string {
  if (!date) return 'Never';
  const seconds = Math.round((now.getTime() - new Date(date).getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  const units: [number, string][] = [
    [60, 'minute'],
    [3600, 'hour'],
    [86_400, 'day'],
    [30 * 86_400, 'month'],
    [365 * 86_400, 'year'],
  ];
  let unit = units[0];
  for (const u of units) if (abs >= u[0] * 0.9) unit = u;
  const n = Math.max(1, Math.round(abs / unit[0]));
  const text = `${n} ${unit[1]}${n === 1 ? '' : 's'}`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** The UTC time for a title attribute: "2026-11-23 18:57 UTC". */
export function utc(date: Date | null | undefined): string {
  return date ? `${new Date(date).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}

/** A nonce for a form that creates a secret shown once (API token, temporary password). */
export function newFormNonce(): string {
  return crypto.randomBytes(16).toString('base64url');
}

/**
 * True the first time a form's nonce is posted in this session, false when it was posted before (a reload
 * of the page that showed the secret re-posts the form): the caller then redirects instead of creating.
 */
export function firstUse(req: Request, nonce: string): boolean {
  if (!nonce) return true;
  const used = req.session.usedOnce ?? [];
  if (used.includes(nonce)) return false;
  req.session.usedOnce = [...used.slice(-19), nonce];
  return true;
}
