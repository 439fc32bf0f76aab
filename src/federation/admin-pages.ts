/** A site's external identity providers in the admin area (Manage Sites): add, edit, remove. */
import { Router, type Request, type Response } from 'express';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, flash, typedField } from '../admin/routes';
import { csrfProtected } from '../http/csrf';
import { addProvider, editProvider, listProviders, removeProvider, type ProviderInput } from './providers';
import { callbackUrl } from './flow';

const base = (siteId: string) => `${ADMIN.sites}/${siteId}/identity-providers`;

function readInput(req: Request): ProviderInput {
  return {
    name: field(req, 'name'),
    issuer: field(req, 'issuer'),
    clientId: field(req, 'clientId'),
    clientSecret: field(req, 'clientSecret'),
    scopes: field(req, 'scopes'),
    enabled: field(req, 'enabled') === 'on',
  };
}

export function adminIdentityProvidersRouter(): Router {
  const router = csrfProtected(Router());
  const page = async (req: Request, res: Response) => {
    const siteId = String(req.params.id);
    const { site, providers } = await listProviders(actorOf(res), siteId);
    const refusedForm =
      res.locals.error && /^idp-(?:new|[0-9a-f]{24})$/.test(typedField(req, '_form')) ? typedField(req, '_form') : null;
    // A refused form shows what was typed (never the secret).
    const values = refusedForm
      ? {
          name: typedField(req, 'name'),
          issuer: typedField(req, 'issuer'),
          clientId: typedField(req, 'clientId'),
          scopes: typedField(req, 'scopes'),
          enabled: typedField(req, 'enabled'),
        }
      : {};
    res.render('admin/identity-providers', {
      title: `Identity providers: ${site.name}`,
      site,
      providers,
      base: base(siteId),
      redirectUri: callbackUrl(site.slug),
      refusedForm,
      values,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const again = (req: Request) => (r: Response) => page(req, r);
  router.get(`${ADMIN.sites}/:id/identity-providers`, page);
  router.post(
    `${ADMIN.sites}/:id/identity-providers`,
    formRoute(again, async (req, res) => {
      const p = await addProvider(String(req.params.id), readInput(req), ctxOf(req, res));
      flash(req, 'ok', `${p.name} added. Its client secret is stored encrypted and will not be shown again.`);
      res.redirect(303, base(String(req.params.id)));
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/identity-providers/:provider`,
    formRoute(again, async (req, res) => {
      const p = await editProvider(String(req.params.id), String(req.params.provider), readInput(req), ctxOf(req, res));
      flash(req, 'ok', `${p.name} saved.`);
      res.redirect(303, base(String(req.params.id)));
    }),
  );
  router.post(
    `${ADMIN.sites}/:id/identity-providers/:provider/remove`,
    formRoute(again, async (req, res) => {
      const p = await removeProvider(String(req.params.id), String(req.params.provider), ctxOf(req, res));
      flash(req, 'ok', `${p.name} removed, with the links its accounts had.`);
      res.redirect(303, base(String(req.params.id)));
    }),
  );
  return router;
}
