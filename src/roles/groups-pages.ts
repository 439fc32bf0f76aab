/** The delegated admin groups page: names, members and accounts. Registered by the admin router (src/admin/index.ts) after its sign-in guard. */
import { Router, type Request, type Response } from 'express';
import { addToGroup, findGroupCandidates, listGroups, removeFromGroup, saveGroupName } from './delegated-admin';
import { formRoute } from '../http/error-writer';
import { ADMIN, actorOf, ctxOf, field, flash, queryString } from '../admin/routes';
import { csrfProtected } from '../http/csrf';

export function adminGroupsRouter(): Router {
  const router = csrfProtected(Router());

  /**
   * Delegated admin groups. Members and accounts are picked by searching: with JavaScript the search box
   * asks the candidates endpoint as you type (public/js/portal.js); without it, the search is a GET form
   * and the matches come back on this page, each with an Add button.
   */
  const groupsPage = async (req: Request, res: Response) => {
    const actor = actorOf(res);
    const search = {
      group: queryString(req, 'group'),
      part: queryString(req, 'part') === 'accounts' ? ('accounts' as const) : ('members' as const),
      q: queryString(req, 'q'),
    };
    const body = (req.method === 'POST' && req.body && typeof req.body === 'object' ? req.body : {}) as Record<
      string,
      unknown
    >;
    const refusedForm =
      res.locals.error && typeof body._form === 'string' && /^[a-z0-9-]{1,60}$/.test(body._form) ? body._form : null;
    res.render('admin/groups', {
      title: 'Delegated administration',
      groups: await listGroups(actor),
      search,
      candidates: search.q ? await findGroupCandidates(actor, search.part, search.q, search.group || undefined) : [],
      refusedForm,
      values: refusedForm ? body : {},
      errorIdPrefix: refusedForm ? `${refusedForm}-` : 'f-',
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  const groupsForm = (req: Request) => (r: Response) => groupsPage(req, r);
  const backToGroup = (id: unknown) => `${ADMIN.groups}#group-${String(id)}`;
  router.get(ADMIN.groups, (req, res) => groupsPage(req, res));
  router.get(`${ADMIN.groups}/candidates`, async (req, res) => {
    const part = queryString(req, 'part') === 'accounts' ? 'accounts' : 'members';
    res.json({
      candidates: await findGroupCandidates(
        actorOf(res),
        part,
        queryString(req, 'q'),
        queryString(req, 'group') || undefined,
      ),
    });
  });
  router.post(
    `${ADMIN.groups}{/:id}`,
    formRoute(groupsForm, async (req, res) => {
      const group = await saveGroupName(
        req.params.id ? String(req.params.id) : null,
        field(req, 'name'),
        ctxOf(req, res),
      );
      flash(
        req,
        'ok',
        req.params.id
          ? `Group renamed to ${group.name}.`
          : `Group ${group.name} created. Add its members and accounts below.`,
      );
      res.redirect(303, backToGroup(group._id));
    }),
  );
  for (const part of ['members', 'accounts'] as const) {
    const idField = part === 'members' ? 'userId' : 'accountId';
    const what = part === 'members' ? 'member' : 'account';
    router.post(
      `${ADMIN.groups}/:id/${part}`,
      formRoute(groupsForm, async (req, res) => {
        const { group, label } = await addToGroup(String(req.params.id), part, field(req, idField), ctxOf(req, res));
        flash(
          req,
          'ok',
          `${label} added to ${group.name} as ${what === 'member' ? 'a member' : 'an assigned account'}.`,
        );
        res.redirect(303, backToGroup(group._id));
      }),
    );
    router.post(
      `${ADMIN.groups}/:id/${part}/:itemId/remove`,
      formRoute(groupsForm, async (req, res) => {
        const { group, label } = await removeFromGroup(
          String(req.params.id),
          part,
          String(req.params.itemId),
          ctxOf(req, res),
        );
        flash(req, 'ok', `${label} removed from ${group.name}.`);
        res.redirect(303, backToGroup(group._id));
      }),
    );
  }

  return router;
}
