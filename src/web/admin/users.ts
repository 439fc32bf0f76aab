/**
 * Users in the admin area: search and filters with keyset pages, the user page, and its actions
 * (add or associate a contact, upgrade, downgrade, activate, deactivate, edit, reset password, Login As).
 * Each action calls one domain service; a refusal re-renders the user page with its status and message.
 */
import { Router, type Request, type Response } from 'express';
import { searchUsers } from '../../domain/user-directory';
import { addContactAndAssociate, associateContact, changeInternalProfile, downgradeUser, setUserActive, upgradeUser } from '../../domain/qualification';
import { createInternalUser, editUser, freeContacts, listAccounts, upgradeProfiles, userDetails, userFilterChoices } from '../../domain/user-admin';
import { assignPermissionSet, listPermissionSets, removePermissionSet } from '../../domain/permission-sets';
import { profilesOfType } from '../../domain/profiles';
import { resendInvitation, sendResetLinkAsAdmin } from '../../domain/invitations';
import { resendVerificationAsAdmin } from '../../domain/verification';
import { adminUserSessions, endAllSessionsAsAdmin } from '../../domain/sessions';
import { resetMfaAsAdmin } from '../../domain/two-factor';
import { startLoginAs } from '../../domain/login-as';
import { recordLogin } from '../../domain/authentication';
import { signIn } from '../../auth/areas';
import { onRefusal } from '../error-writer';
import { ProfileModel, SiteModel } from '../../data/models';
import { sitePaths } from '../site/paths';
import { DEFAULT_SITE_SLUG } from '../../data/seed';
import { ADMIN, actorOf, ctxOf, field, flash, queryString } from './common';

const FILTERS = ['q', 'contactless', 'licenseId', 'profileId', 'siteId', 'active'] as const;

/** The user page; after a refused action the error writer has put the message and field errors in res.locals. */
async function renderUser(id: string, req: Request, res: Response) {
  const actor = actorOf(res);
  const details = await userDetails(id, actor);
  const internal = details.user.userType === 'internal';
  const [accounts, contacts, profiles, internalProfiles, allSets, lifecycle] = await Promise.all([
    listAccounts(), freeContacts(), upgradeProfiles(),
    internal ? profilesOfType(['internal']) : [],
    internal && actor.permissions.manageProfiles ? listPermissionSets(actor) : [],
    adminUserSessions(id, actor),
  ]);
  res.render('admin/user', {
    title: `${details.user.firstName} ${details.user.lastName}`.trim(), ...details, accounts, contacts, profiles, internalProfiles, allSets,
    sessions: lifecycle.sessions, history: lifecycle.history,
    error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {}, values: req.body ?? {},
  });
}

/** Runs an action; on success flashes and goes back to the user page; a refusal shows the page with its message. */
function action(run: (req: Request, res: Response) => Promise<string>) {
  return async (req: Request, res: Response) => {
    // The error writer runs outside this route, where req.params is gone: keep the id.
    const id = String(req.params.id);
    onRefusal(res, (r) => renderUser(id, req, r));
    const message = await run(req, res);
    flash(req, 'ok', message);
    res.redirect(303, ADMIN.user(req.params.id));
  };
}

export function adminUsersRouter(): Router {
  const router = Router();

  const usersPage = async (req: Request, res: Response) => {
    const f = Object.fromEntries(FILTERS.map((k) => [k, queryString(req, k)])) as Record<(typeof FILTERS)[number], string>;
    const page = await searchUsers(
      actorOf(res),
      {
        q: f.q || undefined,
        contactless: f.contactless === 'yes' ? true : f.contactless === 'no' ? false : undefined,
        licenseId: f.licenseId || undefined,
        profileId: f.profileId || undefined,
        siteId: f.siteId || undefined,
        active: f.active === 'yes' ? true : f.active === 'no' ? false : undefined,
      },
      queryString(req, 'cursor') || undefined,
      50,
    );
    const { licenses, profiles, sites } = await userFilterChoices(actorOf(res));
    const next = page.nextCursor ? `${ADMIN.users}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)), cursor: page.nextCursor })}` : null;
    const internalProfiles = actorOf(res).permissions.manageInternalUsers ? profiles.filter((p) => p.userType === 'internal') : [];
    res.render('admin/users', {
      title: 'Users', users: page.records, filters: f, next, licenses, profiles, sites, internalProfiles,
      values: req.method === 'POST' ? req.body : {}, error: res.locals.error ?? null, fieldErrors: res.locals.fieldErrors ?? {},
    });
  };
  router.get(ADMIN.users, (req, res) => usersPage(req, res));

  router.post(ADMIN.users, async (req, res) => {
    onRefusal(res, (r) => usersPage(req, r));
    const { user } = await createInternalUser({
      firstName: field(req, 'firstName'), lastName: field(req, 'lastName'), email: field(req, 'email'), profileId: field(req, 'profileId'),
    }, ctxOf(req, res));
    flash(req, 'ok', `Internal user ${user.username} created and invited: they choose their password from the link mailed to ${user.email}.`);
    res.redirect(303, ADMIN.user(user._id));
  });

  router.post(`${ADMIN.users}/:id/profile`, action(async (req, res) => {
    const user = await changeInternalProfile(String(req.params.id), field(req, 'profileId'), ctxOf(req, res));
    const profile = await ProfileModel.findById(user.profile).lean();
    return `Profile changed to ${profile?.name}.`;
  }));

  router.post(`${ADMIN.users}/:id/permission-sets`, action(async (req, res) => {
    const set = await assignPermissionSet(String(req.params.id), field(req, 'permissionSetId'), ctxOf(req, res));
    return `Permission set ${set.name} assigned.`;
  }));

  router.post(`${ADMIN.users}/:id/permission-sets/:setId/remove`, action(async (req, res) => {
    await removePermissionSet(String(req.params.id), String(req.params.setId), ctxOf(req, res));
    return 'Permission set removed.';
  }));

  router.get(`${ADMIN.users}/:id`, (req, res) => renderUser(String(req.params.id), req, res));

  router.post(`${ADMIN.users}/:id/contact`, action(async (req, res) => {
    const accountId = field(req, 'accountId');
    await addContactAndAssociate(String(req.params.id), {
      firstName: field(req, 'firstName'),
      lastName: field(req, 'lastName'),
      email: field(req, 'email'),
      phone: field(req, 'phone'),
      title: field(req, 'title'),
      ...(accountId ? { accountId } : { accountName: field(req, 'accountName') }),
    }, ctxOf(req, res));
    return 'Contact added and associated with the user.';
  }));

  router.post(`${ADMIN.users}/:id/associate`, action(async (req, res) => {
    await associateContact(String(req.params.id), field(req, 'contactId'), ctxOf(req, res));
    return 'Contact associated with the user.';
  }));

  router.post(`${ADMIN.users}/:id/upgrade`, action(async (req, res) => {
    const user = await upgradeUser(String(req.params.id), field(req, 'profileId'), ctxOf(req, res));
    const profile = await ProfileModel.findById(user.profile).lean();
    return `Upgraded to ${profile?.name}.`;
  }));

  router.post(`${ADMIN.users}/:id/downgrade`, action(async (req, res) => {
    await downgradeUser(String(req.params.id), field(req, 'profileId') || undefined, ctxOf(req, res));
    return 'Downgraded to contactless; the contact record was kept and the seat freed.';
  }));

  router.post(`${ADMIN.users}/:id/deactivate`, action(async (req, res) => {
    await setUserActive(String(req.params.id), false, ctxOf(req, res));
    return 'User deactivated; their sessions have ended.';
  }));

  router.post(`${ADMIN.users}/:id/activate`, action(async (req, res) => {
    await setUserActive(String(req.params.id), true, ctxOf(req, res));
    return 'User activated.';
  }));

  router.post(`${ADMIN.users}/:id/edit`, action(async (req, res) => {
    await editUser(String(req.params.id), {
      firstName: field(req, 'firstName'), lastName: field(req, 'lastName'), email: field(req, 'email'),
      communityNickname: field(req, 'communityNickname'), alias: field(req, 'alias'),
    }, ctxOf(req, res));
    return 'Details saved.';
  }));

  router.post(`${ADMIN.users}/:id/reset-password`, action(async (req, res) => {
    const user = await sendResetLinkAsAdmin(String(req.params.id), ctxOf(req, res));
    return `A password reset link was sent to ${user.email}. Their sessions end when they use it.`;
  }));

  router.post(`${ADMIN.users}/:id/invitation`, action(async (req, res) => {
    const user = await resendInvitation(String(req.params.id), ctxOf(req, res));
    return `An invitation to set a password was sent to ${user.email}.`;
  }));

  router.post(`${ADMIN.users}/:id/verification`, action(async (req, res) => {
    const user = await resendVerificationAsAdmin(String(req.params.id), ctxOf(req, res));
    return `A link to confirm the address was sent to ${user.email}.`;
  }));

  router.post(`${ADMIN.users}/:id/sessions/end`, action(async (req, res) => {
    const ended = await endAllSessionsAsAdmin(String(req.params.id), ctxOf(req, res));
    return `Every session of this user has ended (${ended} in the store).`;
  }));

  router.post(`${ADMIN.users}/:id/two-factor/reset`, action(async (req, res) => {
    await resetMfaAsAdmin(String(req.params.id), ctxOf(req, res));
    return 'Two-factor sign-in was reset and the user\'s sessions ended; they set it up again at their next sign-in where it is required.';
  }));

  router.post(`${ADMIN.users}/:id/login-as`, async (req, res) => {
    const ctx = ctxOf(req, res);
    const user = await startLoginAs(String(req.params.id), ctx);
    await signIn(req, 'site', user, { userId: String(ctx.actor.id), username: ctx.actor.username });
    await recordLogin(user, 'login-as', req.ip, req.get('user-agent'));
    const site = user.site ? await SiteModel.findById(user.site).lean() : null;
    res.redirect(303, sitePaths(site?.slug ?? DEFAULT_SITE_SLUG).home);
  });

  return router;
}
