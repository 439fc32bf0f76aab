/** The account lifecycle pages of a site: forgot password, reset and invitation links. */
import type { Router, RequestHandler } from 'express';
import type { AppDeps } from '../deps';
import { createRequestThrottle } from '../../auth/recovery-throttle';
import { forgotPage, forgotSubmit, setPasswordPage, setPasswordSubmit, type PasswordLinkPages } from '../password-links';

export function siteLifecycleRoutes(site: Router, deps: AppDeps, _requireSignIn: RequestHandler): void {
  const pages: PasswordLinkPages = {
    area: 'site',
    linkArea: (res) => ({ area: 'site', siteSlug: res.locals.site!.slug }),
    views: { forgot: 'site/forgot', setPassword: 'site/set-password' },
    home: (res) => res.locals.paths.home,
    throttle: createRequestThrottle(deps.db.connection, deps.config.recoveryThrottle, 'recovery'),
    logger: deps.logger,
  };
  site.get('/forgot', forgotPage(pages));
  site.post('/forgot', forgotSubmit(pages));
  site.get('/reset', setPasswordPage(pages, 'reset'));
  site.post('/reset', setPasswordSubmit(pages, 'reset'));
  site.get('/welcome', setPasswordPage(pages, 'invite'));
  site.post('/welcome', setPasswordSubmit(pages, 'invite'));
}
