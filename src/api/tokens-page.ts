/** The API tokens page: create (shown once) and revoke. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import { Router, type Request, type Response } from 'express';
import { API_SCOPES, createApiToken, findActiveApiToken, listApiTokens, revokeApiToken } from './api-tokens';
import { lifecycleSettings } from '../shared/lifecycle-settings';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, fieldList, firstUse, flash, newFormNonce, typedField } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export function adminApiTokensRouter(): Router {
  const router = csrfProtected(Router());

  const tokensPage = async (req: Request, res: Response) =>
    res.render('admin/api-tokens', {
      title: 'API tokens',
      tokens: await listApiTokens(ctxOf(req, res)),
      nonce: newFormNonce(),
      values: res.locals.error ? { name: typedField(req, 'name'), days: typedField(req, 'days') } : {},
      scopes: API_SCOPES,
      apiTokenLimits: lifecycleSettings().apiTokens,
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  router.get(ADMIN.tokens, (req, res) => tokensPage(req, res));
  router.post(
    ADMIN.tokens,
    formRoute(
      (req) => (r) => tokensPage(req, r),
      async (req, res) => {
        if (!firstUse(req, field(req, '_once'))) {
          flash(
            req,
            'ok',
            'That token was already created; its value was shown only once. Create another if you need it.',
          );
          res.redirect(303, ADMIN.tokens);
          return;
        }
        const { token, record } = await createApiToken(field(req, 'name'), ctxOf(req, res), {
          scopes: fieldList(req, 'scopes'),
          days: field(req, 'days'),
        });
        // Rendered straight away rather than through a flash, so the token never sits in the session store.
        res.locals.flash = {
          kind: 'ok',
          text: `Token "${record.name}" created. Copy it now: it is shown only once.`,
          secret: token,
        };
        res.status(201);
        await tokensPage(req, res);
      },
    ),
  );
  // Revoking asks first, on a page of its own naming the token and the consequence (works without JavaScript).
  router.get(`${ADMIN.tokens}/:id/revoke`, async (req, res) => {
    const token = await findActiveApiToken(String(req.params.id), actorOf(res));
    const heading = `Revoke the API token "${token.name}"?`;
    res.render('admin/confirm', {
      title: heading,
      heading,
      button: 'Revoke token',
      action: `${ADMIN.tokens}/${token._id}/revoke`,
      back: ADMIN.tokens,
      consequence: `Integrations using "${token.name}" (${token.prefix}…) stop working at once: every request with it is refused. This can't be undone; create a new token to replace it.`,
    });
  });
  router.post(`${ADMIN.tokens}/:id/revoke`, async (req, res) => {
    const token = await revokeApiToken(String(req.params.id), ctxOf(req, res));
    flash(req, 'ok', `Token "${token.name}" revoked: requests with it are now refused.`);
    res.redirect(303, ADMIN.tokens);
  });

  return router;
}
