/** The Sites page: settings, members and page audiences of each site. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import express, { Router, type Request, type Response } from 'express';
import { createSite, DEFAULT_REGISTRATION_PROFILE, listSites, setPageAudience, setSiteMembers, siteChoices, updateSite } from './sites';
import { LOGO_MAX_BYTES, LOGO_TYPES, removeLogo, setLogo, updateBranding } from './branding';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, fieldList, flash } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export function adminSitesRouter(): Router {
  const router = csrfProtected(Router());

  /** The Sites page; after a refusal, the refused form (named by its _form field) shows what was typed. */
  const sitesPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const [sites, choices] = await Promise.all([listSites(actor), siteChoices(actor)]);
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const refusedForm = res.locals.error && typeof body._form === 'string' && /^[a-z0-9-]{1,40}$/.test(body._form) ? body._form : null;
    res.render('admin/sites', {
      title: 'Sites', sites, profiles: choices.registration, choices, defaultProfile: DEFAULT_REGISTRATION_PROFILE, logoTypes: LOGO_TYPES, logoMaxKb: LOGO_MAX_BYTES / 1024,
      languages: [{ value: 'en', label: 'English' }, { value: 'ja', label: '日本語 (Japanese)' }],
      refusedForm, values: refusedForm ? body : {}, errorIdPrefix: refusedForm ? `${refusedForm}-` : 'f-',
      slugChange: refusedForm && res.locals.errorCode === 'slug_change_unconfirmed' ? refusedForm : null,
      error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const sitesForm = (req: Request) => (r: Response) => sitesPage(req, r);
  router.get(ADMIN.sites, async (req, res) => sitesPage(req, res));
  router.post(`${ADMIN.sites}/:id/members`, formRoute(sitesForm, async (req, res) => {
    await setSiteMembers(String(req.params.id), { profileIds: fieldList(req, 'profileIds'), permissionSetIds: fieldList(req, 'permissionSetIds') }, ctxOf(req, res));
    flash(req, 'ok', 'Members saved.');
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id/pages/:page/audience`, formRoute(sitesForm, async (req, res) => {
    await setPageAudience(String(req.params.id), String(req.params.page), { licenseIds: fieldList(req, 'licenseIds'), profileIds: fieldList(req, 'profileIds') }, ctxOf(req, res));
    flash(req, 'ok', 'Page audience saved.');
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id/branding`, formRoute(sitesForm, async (req, res) => {
    const site = await updateBranding(String(req.params.id), {
      primaryColor: field(req, 'primaryColor'), headerColor: field(req, 'headerColor'), logoUrl: field(req, 'logoUrl'),
      senderName: field(req, 'senderName'), senderAddress: field(req, 'senderAddress'), defaultLanguage: field(req, 'defaultLanguage') || undefined,
    }, ctxOf(req, res));
    flash(req, 'ok', `Branding of ${site.name} saved.`);
    res.redirect(303, ADMIN.sites);
  }));
  // The logo is the request body itself (the Sites page's script sends the chosen file with its type),
  // so no multipart parser is needed; the limit answers 413 before the body is read whole.
  router.post(`${ADMIN.sites}/:id/logo`, express.raw({ type: LOGO_TYPES, limit: LOGO_MAX_BYTES }), formRoute(sitesForm, async (req, res) => {
    const site = await setLogo(String(req.params.id), { data: req.body, contentType: req.get('content-type') }, ctxOf(req, res));
    flash(req, 'ok', `Logo of ${site.name} saved.`);
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id/logo/remove`, formRoute(sitesForm, async (req, res) => {
    const site = await removeLogo(String(req.params.id), ctxOf(req, res));
    flash(req, 'ok', `Logo of ${site.name} removed.`);
    res.redirect(303, ADMIN.sites);
  }));
  router.post(ADMIN.sites, formRoute(sitesForm, async (req, res) => {
    const site = await createSite({ name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId') || undefined }, ctxOf(req, res));
    flash(req, 'ok', `Site created at /s/${site.slug}/. Self-registration starts off: turn it on in its Login & Registration settings.`);
    res.redirect(303, ADMIN.sites);
  }));
  router.post(`${ADMIN.sites}/:id`, formRoute(sitesForm, async (req, res) => {
    const site = await updateSite(String(req.params.id), {
      name: field(req, 'name'), slug: field(req, 'slug'), registrationProfileId: field(req, 'registrationProfileId'),
      selfRegistrationEnabled: field(req, 'selfRegistrationEnabled') === 'on', confirmedSlug: field(req, 'confirmedSlug') || undefined,
      // Forms that show the account lifecycle settings say so; others leave them unchanged.
      ...(field(req, 'lifecycleSettings') === '1'
        ? { allowUnverifiedSignIn: field(req, 'allowUnverifiedSignIn') === 'on', requireMfa: field(req, 'requireMfa') === 'on', usernameFollowsEmail: field(req, 'usernameFollowsEmail') === 'on' }
        : {}),
    }, ctxOf(req, res));
    flash(req, 'ok', `Login & Registration settings of ${site.name} saved; the site is at /s/${site.slug}/.`);
    res.redirect(303, ADMIN.sites);
  }));

  return router;
}
