/** The Sites page: settings, members and page audiences of each site. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import express, { Router, type Request, type Response } from 'express';
import {
  createSite,
  DEFAULT_REGISTRATION_PROFILE,
  listSites,
  setPageAudience,
  setSiteMembers,
  siteChoices,
  updateSite,
} from './sites';
import { LOGO_MAX_BYTES, LOGO_TYPES, removeLogo, setLogo, updateBranding } from './branding';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, fieldList, flash } from '../admin/routes';
import { csrfProtected } from '../http/csrf';
import { updateRegistrationPolicy } from './registration-policy';
import { inviteToRegister, openRegistrationInvitations, revokeRegistrationInvitation } from '../account';
import { EXTRA_SIGNUP_FIELDS } from '../data/models';
import { lifecycleSettings } from '../shared/lifecycle-settings';

export function adminSitesRouter(): Router {
  const router = csrfProtected(Router());

  /** The Sites page; after a refusal, the refused form (named by its _form field) shows what was typed. */
  const sitesPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const [sites, choices] = await Promise.all([listSites(actor), siteChoices(actor)]);
    const invitations = await openRegistrationInvitations(sites.map((x) => x._id));
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    const refusedForm =
      res.locals.error && typeof body._form === 'string' && /^[a-z0-9-]{1,40}$/.test(body._form) ? body._form : null;
    res.render('admin/sites', {
      title: 'Sites',
      sites,
      invitations,
      extraSignupFields: EXTRA_SIGNUP_FIELDS,
      profiles: choices.registration,
      choices,
      defaultProfile: DEFAULT_REGISTRATION_PROFILE,
      logoTypes: LOGO_TYPES,
      logoMaxKb: LOGO_MAX_BYTES / 1024,
      languages: [
        { value: 'en', label: 'English' },
        { value: 'ja', label: '日本語 (Japanese)' },
      ],
      refusedForm,
      values: refusedForm ? body : {},
      errorIdPrefix: refusedForm ? `${refusedForm}-` : 'f-',
      slugChange: refusedForm && res.locals.errorCode === 'slug_change_unconfirmed' ? refusedForm : null,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const sitesForm = (req: Request) => (r: Response) => sitesPage(req, r);
  router.get(ADMIN.sites, async (req, res) => sitesPage(req, res));
  router.post(
    `${ADMIN.sites}/:id/members`,
    formRoute(sitesForm, async (req, res) => {
      await setSiteMembers(
        String(req.params.id),
        { profileIds: fieldList(req, 'profileIds'), permissionSetIds: fieldList(req, 'permissionSetIds') },
        ctxOf(req, res),
      );
      flash(req, 'ok', 'Members saved.');
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/pages/:page/audience`,
    formRoute(sitesForm, async (req, res) => {
      await setPageAudience(
        String(req.params.id),
        String(req.params.page),
        { licenseIds: fieldList(req, 'licenseIds'), profileIds: fieldList(req, 'profileIds') },
        ctxOf(req, res),
      );
      flash(req, 'ok', 'Page audience saved.');
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/registration-policy`,
    formRoute(sitesForm, async (req, res) => {
      const site = await updateRegistrationPolicy(
        String(req.params.id),
        {
          mode: field(req, 'mode'),
          allowedDomains: field(req, 'allowedDomains'),
          blockedDomains: field(req, 'blockedDomains'),
          blockDisposable: field(req, 'blockDisposable') === 'on',
          allowPrivacyRelays: field(req, 'allowPrivacyRelays') === 'on',
          extraFields: extraFieldsOf(req),
        },
        ctxOf(req, res),
      );
      flash(req, 'ok', `Registration policy of ${site.name} saved.`);
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/invitations`,
    formRoute(sitesForm, async (req, res) => {
      const days = field(req, 'days');
      const { token, invitation, siteSlug } = await inviteToRegister(
        String(req.params.id),
        { email: field(req, 'email'), domain: field(req, 'domain'), days: days ? Number(days) : undefined },
        ctxOf(req, res),
      );
      // The link is shown once: only its hash is kept.
      flash(
        req,
        'ok',
        `Invitation for ${invitation.email ?? `any address at ${invitation.domain}`} created. Send this link; it is shown only now:`,
        `${lifecycleSettings().publicUrl}/s/${siteSlug}/register?invitation=${token}`,
      );
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/invitations/:invitation/revoke`,
    formRoute(sitesForm, async (req, res) => {
      await revokeRegistrationInvitation(String(req.params.id), String(req.params.invitation), ctxOf(req, res));
      flash(req, 'ok', 'Invitation withdrawn: its link no longer works.');
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/branding`,
    formRoute(sitesForm, async (req, res) => {
      const site = await updateBranding(
        String(req.params.id),
        {
          primaryColor: field(req, 'primaryColor'),
          headerColor: field(req, 'headerColor'),
          logoUrl: field(req, 'logoUrl'),
          senderName: field(req, 'senderName'),
          senderAddress: field(req, 'senderAddress'),
          defaultLanguage: field(req, 'defaultLanguage') || undefined,
        },
        ctxOf(req, res),
      );
      flash(req, 'ok', `Branding of ${site.name} saved.`);
      res.redirect(303, ADMIN.sites);
    }),
  );
  // The logo is the request body itself (the Sites page's script sends the chosen file with its type),
  // so no multipart parser is needed; the limit answers 413 before the body is read whole.
  router.post(
    `${ADMIN.sites}/:id/logo`,
    express.raw({ type: LOGO_TYPES, limit: LOGO_MAX_BYTES }),
    formRoute(sitesForm, async (req, res) => {
      const site = await setLogo(
        String(req.params.id),
        { data: req.body, contentType: req.get('content-type') },
        ctxOf(req, res),
      );
      flash(req, 'ok', `Logo of ${site.name} saved.`);
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/logo/remove`,
    formRoute(sitesForm, async (req, res) => {
      const site = await removeLogo(String(req.params.id), ctxOf(req, res));
      flash(req, 'ok', `Logo of ${site.name} removed.`);
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    ADMIN.sites,
    formRoute(sitesForm, async (req, res) => {
      const site = await createSite(
        {
          name: field(req, 'name'),
          slug: field(req, 'slug'),
          registrationProfileId: field(req, 'registrationProfileId') || undefined,
        },
        ctxOf(req, res),
      );
      flash(
        req,
        'ok',
        `Site created at /s/${site.slug}/. Self-registration starts off: turn it on in its Login & Registration settings.`,
      );
      res.redirect(303, ADMIN.sites);
    }),
  );
  router.post(
    `${ADMIN.sites}/:id`,
    formRoute(sitesForm, async (req, res) => {
      const site = await updateSite(
        String(req.params.id),
        {
          name: field(req, 'name'),
          slug: field(req, 'slug'),
          registrationProfileId: field(req, 'registrationProfileId'),
          selfRegistrationEnabled: field(req, 'selfRegistrationEnabled') === 'on',
          confirmedSlug: field(req, 'confirmedSlug') || undefined,
          // Forms that show the account lifecycle settings say so; others leave them unchanged.
          ...(field(req, 'lifecycleSettings') === '1'
            ? {
                allowUnverifiedSignIn: field(req, 'allowUnverifiedSignIn') === 'on',
                requireMfa: field(req, 'requireMfa') === 'on',
                usernameFollowsEmail: field(req, 'usernameFollowsEmail') === 'on',
              }
            : {}),
        },
        ctxOf(req, res),
      );
      flash(req, 'ok', `Login & Registration settings of ${site.name} saved; the site is at /s/${site.slug}/.`);
      res.redirect(303, ADMIN.sites);
    }),
  );

  return router;
}

/**
 * The extra sign-up fields as the policy form sends them: for each allowed field, `extra_<field>` =
 * off / optional / required and `order_<field>` = its position on the registration form.
 */
function extraFieldsOf(req: Request): Array<{ field: string; required: boolean }> | undefined {
  if (field(req, 'extraFieldsShown') !== '1') return undefined;
  const chosen = EXTRA_SIGNUP_FIELDS.map((f, i) => ({
    f,
    how: field(req, `extra_${f}`),
    order: Number(field(req, `order_${f}`) || i + 1),
  })).filter((x) => x.how === 'optional' || x.how === 'required');
  chosen.sort((a, b) => (Number.isFinite(a.order) ? a.order : 99) - (Number.isFinite(b.order) ? b.order : 99));
  return chosen.map((x) => ({ field: x.f, required: x.how === 'required' }));
}
