/**
 * Users in the admin area: search and filters with keyset pages, the user page, and its actions
 * (add or associate a contact, upgrade, downgrade, activate, deactivate, edit, reset password, Login As).
 * Each action calls one domain service; a refusal re-renders the user page with its status and message.
 */
import { languageChoices, localeChoices, offeredLanguageKey, timeZoneChoices } from '../i18n';
import { Router, type Request, type Response } from 'express';
import { searchUsers } from './user-directory';
import { userPageModel, seatsUsedText } from './user-page';
import {
  addContactAndAssociate,
  associateContact,
  changeInternalProfile,
  downgradeUser,
  setUserActive,
  upgradeUser,
} from '../qualification';
import {
  createExternalUser,
  createInternalUser,
  editUser,
  externalUserSites,
  userDetails,
  userFilterChoices,
} from './user-admin';
import { assignPermissionSet, removePermissionSet } from '../roles';
import { resendInvitation, sendResetLinkAsAdmin, resendVerificationAsAdmin, endAllSessionsAsAdmin } from '../account';
import { resetMfaAsAdmin, recordLogin } from '../signin';
import { listPasskeys, removePasskeyAsAdmin } from '../passkeys';
import {
  startLoginAs,
  canLoginAs,
  assertCanManage,
  type ManageOperation as UserOperation,
  managedView,
} from '../access';
import { signIn } from '../signin/routes';
import { formRoute } from '../http/error-writer';
import { ContactModel, ProfileModel, SiteModel, UserModel } from '../data/models';
import { sitePaths } from '../account/routes';
import { DEFAULT_SITE_SLUG } from '../data/seed';
import { ADMIN, actorOf, ctxOf, field, flash, newFormNonce, queryString } from '../admin/routes';
import { trusted, type Types } from 'mongoose';
import { LicenseModel, USER_TYPES } from '../data/models';
import { isObjectIdString } from '../shared/ids';
import { csrfProtected } from '../http/csrf';

/** The destructive actions: each asks first on a page of its own naming the person and the consequence. */
const DANGER: Record<
  string,
  { op: UserOperation; title: (name: string) => string; consequence: (name: string) => string; button: string }
> = {
  downgrade: {
    op: 'changeLicense',
    button: 'Downgrade to contactless',
    title: (n) => `Downgrade ${n} to contactless?`,
    consequence: (n) =>
      `${n} loses the contact link and moves to External Identity; the community seat is freed and the contact record is kept. Pages for community members close to them.`,
  },
  deactivate: {
    op: 'setActive',
    button: 'Deactivate',
    title: (n) => `Deactivate ${n}?`,
    consequence: (n) => `${n} is signed out everywhere and can't sign in until activated again.`,
  },
  'reset-password': {
    op: 'resetPassword',
    button: 'Send password reset link',
    title: (n) => `Reset the password of ${n}?`,
    consequence: (n) => `${n} is mailed a link to choose a new password; their sessions end when they use it.`,
  },
  'two-factor/reset': {
    op: 'resetPassword',
    button: 'Reset two-factor',
    title: (n) => `Reset two-factor sign-in of ${n}?`,
    consequence: (n) =>
      `${n}'s two-factor sign-in is turned off and every session of theirs ends; they set it up again at their next sign-in where it is required.`,
  },
  'sessions/end': {
    op: 'setActive',
    button: 'End all sessions',
    title: (n) => `End every session of ${n}?`,
    consequence: (n) => `${n} is signed out on every device and must sign in again.`,
  },
};

const FILTERS = ['q', 'contactless', 'userType', 'licenseId', 'profileId', 'siteId', 'active'] as const;

/** The user page; after a refused action the error writer has put the message and field errors in res.locals. */
async function renderUser(id: string, req: Request, res: Response) {
  const model = await userPageModel(id, actorOf(res));
  const body = (req.method === 'POST' ? req.body : {}) as Record<string, unknown>;
  res.render('admin/user', {
    ...model,
    passkeys: await listPasskeys(model.user._id),
    localeLists: { languages: languageChoices(), locales: localeChoices('en'), timeZones: timeZoneChoices() },
    offeredLanguageKey,
    error: res.locals.error ?? null,
    fieldErrors: res.locals.fieldErrors ?? {},
    values: body ?? {},
    refusedForm: typeof body._form === 'string' ? body._form : null,
    errorIdPrefix: typeof body._form === 'string' && /^[a-z-]{1,20}$/.test(body._form) ? `${body._form}-` : 'f-',
  });
}

/** A confirmation page for a destructive action: names the person and the consequence; works without JavaScript. */
async function renderConfirm(id: string, action: string, res: Response) {
  const danger = DANGER[action];
  const actor = actorOf(res);
  const details = await userDetails(id, actor);
  const view = await managedView(details.user);
  assertCanManage(actor, view, danger.op);
  const name = `${details.user.firstName} ${details.user.lastName}`.trim() || details.user.username;
  res.render('admin/confirm', {
    title: danger.title(name),
    heading: danger.title(name),
    consequence: danger.consequence(name),
    button: danger.button,
    action: `${ADMIN.user(details.user._id)}/${action}`,
    back: ADMIN.user(details.user._id),
  });
}

/** Runs an action; on success flashes and goes back to the user page; a refusal shows the page with its message. */
function action(run: (req: Request, res: Response) => Promise<string>) {
  // The error writer runs outside this route, where req.params is gone: the form keeps the id.
  return formRoute(
    (req) => {
      const id = String(req.params.id);
      return (r) => renderUser(id, req, r);
    },
    async (req, res) => {
      const message = await run(req, res);
      flash(req, 'ok', message);
      res.redirect(303, ADMIN.user(req.params.id));
    },
  );
}

export function adminUsersRouter(): Router {
  const router = csrfProtected(Router());

  const usersPage = async (req: Request, res: Response) => {
    const f = Object.fromEntries(FILTERS.map((k) => [k, queryString(req, k)])) as Record<
      (typeof FILTERS)[number],
      string
    >;
    const page = await searchUsers(
      actorOf(res),
      {
        q: f.q || undefined,
        contactless: f.contactless === 'yes' ? true : f.contactless === 'no' ? false : undefined,
        licenseId: f.licenseId || undefined,
        profileId: f.profileId || undefined,
        siteId: f.siteId || undefined,
        active: f.active === 'yes' ? true : f.active === 'no' ? false : undefined,
        userType: USER_TYPES.find((t) => t === f.userType),
        // Here "Contactless" is an external user without a contact, as on the dashboard; internal users
        // never have one (the API's contactless filter keeps them, as its clients expect).
        externalOnly: f.contactless === 'yes' || undefined,
      },
      queryString(req, 'cursor') || undefined,
      50,
    );
    const { licenses, profiles, sites } = await userFilterChoices(actorOf(res));
    // What each row shows: the contact (and its account) or Contactless, the license, and Login As where allowed.
    const contactIds = page.records.map((u) => u.contact).filter((c): c is NonNullable<typeof c> => Boolean(c));
    const rowContacts = contactIds.length
      ? await ContactModel.find({ _id: trusted({ $in: contactIds }) })
          .populate('account', 'name')
          .lean()
      : [];
    const contactById = new Map(rowContacts.map((c) => [String(c._id), c]));
    const licenseName = new Map(licenses.map((l) => [String(l._id), l.name]));
    const rows = page.records.map((u) => {
      const contact = u.contact ? (contactById.get(String(u.contact)) ?? null) : null;
      const account = contact?.account as unknown as { _id: Types.ObjectId; name: string } | null | undefined;
      return {
        user: u,
        contact,
        accountName: account?.name ?? null,
        license: licenseName.get(String(u.license)) ?? '—',
        canLoginAs: canLoginAs(actorOf(res), {
          userType: u.userType,
          contact: u.contact ?? null,
          contactAccount: account?._id ?? null,
          isActive: u.isActive,
        }),
      };
    });
    const filtered = Object.entries(f).some(([, v]) => v);
    const next = page.nextCursor
      ? `${ADMIN.users}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(f).filter(([, v]) => v)), cursor: page.nextCursor })}`
      : null;
    const internalProfiles = actorOf(res).permissions.manageInternalUsers
      ? profiles.filter((p) => p.userType === 'internal')
      : [];
    // "New user": internal or external. A refused form is shown again with its own values and messages only.
    const refusedForm = req.method === 'POST' ? (req.path.endsWith('/external') ? 'external' : 'internal') : null;
    res.render('admin/users', {
      title: 'Users',
      users: page.records,
      rows,
      filtered,
      cursor: queryString(req, 'cursor'),
      nonce: newFormNonce(),
      filters: f,
      next,
      licenses,
      profiles,
      sites,
      internalProfiles,
      externalSites: await externalUserSites(actorOf(res)),
      refusedForm,
      values: req.method === 'POST' ? req.body : {},
      error: res.locals.error ?? null,
      fieldErrors: res.locals.fieldErrors ?? {},
      errorIdPrefix: refusedForm === 'external' ? 'x-' : 'f-',
    });
  };
  router.get(ADMIN.users, (req, res) => usersPage(req, res));

  router.post(
    ADMIN.users,
    formRoute(
      (req) => (r) => usersPage(req, r),
      async (req, res) => {
        const { user } = await createInternalUser(
          {
            firstName: field(req, 'firstName'),
            lastName: field(req, 'lastName'),
            email: field(req, 'email'),
            profileId: field(req, 'profileId'),
          },
          ctxOf(req, res),
        );
        flash(
          req,
          'ok',
          `Internal user ${user.username} created and invited: they choose their password from the link mailed to ${user.email}.`,
        );
        res.redirect(303, ADMIN.user(user._id));
      },
    ),
  );

  router.post(
    `${ADMIN.users}/external`,
    formRoute(
      (req) => (r) => usersPage(req, r),
      async (req, res) => {
        const { user, site } = await createExternalUser(
          {
            siteId: field(req, 'siteId'),
            firstName: field(req, 'firstName'),
            lastName: field(req, 'lastName'),
            email: field(req, 'email'),
          },
          ctxOf(req, res),
        );
        flash(
          req,
          'ok',
          `External user ${user.username} created on ${site.name}, contactless (External Identity), and invited: they choose their password from the link mailed to ${user.email}.`,
        );
        res.redirect(303, ADMIN.user(user._id));
      },
    ),
  );

  router.post(
    `${ADMIN.users}/:id/profile`,
    action(async (req, res) => {
      const user = await changeInternalProfile(String(req.params.id), field(req, 'profileId'), ctxOf(req, res));
      const profile = await ProfileModel.findById(user.profile).lean();
      return `Profile changed to ${profile?.name}.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/permission-sets`,
    action(async (req, res) => {
      const set = await assignPermissionSet(String(req.params.id), field(req, 'permissionSetId'), ctxOf(req, res));
      return `Permission set ${set.name} assigned.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/permission-sets/:setId/remove`,
    action(async (req, res) => {
      await removePermissionSet(String(req.params.id), String(req.params.setId), ctxOf(req, res));
      return 'Permission set removed.';
    }),
  );

  router.get(`${ADMIN.users}/:id`, (req, res) => renderUser(String(req.params.id), req, res));
  for (const name of Object.keys(DANGER)) {
    router.get(`${ADMIN.users}/:id/${name}`, (req, res) => renderConfirm(String(req.params.id), name, res));
  }

  router.post(
    `${ADMIN.users}/:id/contact`,
    action(async (req, res) => {
      const accountId = field(req, 'accountId');
      const contact = await addContactAndAssociate(
        String(req.params.id),
        {
          firstName: field(req, 'firstName'),
          lastName: field(req, 'lastName'),
          email: field(req, 'email'),
          phone: field(req, 'phone'),
          title: field(req, 'title'),
          ...(accountId ? { accountId } : { accountName: field(req, 'accountName') }),
        },
        ctxOf(req, res),
      );
      return `Contact added and associated with the user: ${`${contact.firstName} ${contact.lastName}`.trim()}. Next: choose a license.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/associate`,
    action(async (req, res) => {
      const contactId = field(req, 'contactId');
      await associateContact(String(req.params.id), contactId, ctxOf(req, res));
      const contact = isObjectIdString(contactId) ? await ContactModel.findById(contactId).lean() : null;
      return `Contact associated with the user${contact ? `: ${`${contact.firstName} ${contact.lastName}`.trim()}` : ''}. Next: choose a license.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/upgrade`,
    action(async (req, res) => {
      const user = await upgradeUser(String(req.params.id), field(req, 'profileId'), ctxOf(req, res));
      const profile = await ProfileModel.findById(user.profile).lean();
      const license = await LicenseModel.findById(user.license).lean();
      return `Upgraded to ${profile?.name}; ${license ? seatsUsedText(license) : ''}.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/downgrade`,
    action(async (req, res) => {
      const before = await UserModel.findById(String(req.params.id)).select('license').lean();
      const user = await downgradeUser(String(req.params.id), field(req, 'profileId') || undefined, ctxOf(req, res));
      const [profile, freed] = await Promise.all([
        ProfileModel.findById(user.profile).lean(),
        before ? LicenseModel.findById(before.license).lean() : null,
      ]);
      return `Downgraded to contactless (${profile?.name}); the contact record was kept and the seat freed${freed && freed.requiresContact ? `; ${seatsUsedText(freed)}` : ''}.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/deactivate`,
    action(async (req, res) => {
      await setUserActive(String(req.params.id), false, ctxOf(req, res));
      return 'User deactivated; their sessions have ended.';
    }),
  );

  router.post(
    `${ADMIN.users}/:id/activate`,
    action(async (req, res) => {
      await setUserActive(String(req.params.id), true, ctxOf(req, res));
      return 'User activated.';
    }),
  );

  router.post(
    `${ADMIN.users}/:id/edit`,
    action(async (req, res) => {
      await editUser(
        String(req.params.id),
        {
          // Older forms (and scripts) without the field leave the username as it is.
          username: (req.body as Record<string, unknown>)?.username === undefined ? undefined : field(req, 'username'),
          firstName: field(req, 'firstName'),
          lastName: field(req, 'lastName'),
          email: field(req, 'email'),
          communityNickname: field(req, 'communityNickname'),
          alias: field(req, 'alias'),
          // Sent by the form's lists; a client that leaves them out leaves them as they are.
          ...Object.fromEntries(
            (['localeSidKey', 'languageLocaleKey', 'timeZoneSidKey'] as const)
              .filter((k) => (req.body as Record<string, unknown>)?.[k] !== undefined)
              .map((k) => [k, field(req, k)]),
          ),
        },
        ctxOf(req, res),
        { fromLists: true },
      );
      return 'Details saved.';
    }),
  );

  router.post(
    `${ADMIN.users}/:id/reset-password`,
    action(async (req, res) => {
      const user = await sendResetLinkAsAdmin(String(req.params.id), ctxOf(req, res));
      return `A password reset link was sent to ${user.email}. Their sessions end when they use it.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/invitation`,
    action(async (req, res) => {
      const user = await resendInvitation(String(req.params.id), ctxOf(req, res));
      return `An invitation to set a password was sent to ${user.email}.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/verification`,
    action(async (req, res) => {
      const user = await resendVerificationAsAdmin(String(req.params.id), ctxOf(req, res));
      return `A link to confirm the address was sent to ${user.email}.`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/sessions/end`,
    action(async (req, res) => {
      const ended = await endAllSessionsAsAdmin(String(req.params.id), ctxOf(req, res));
      return `Every session of this user has ended (${ended} in the store).`;
    }),
  );

  router.post(
    `${ADMIN.users}/:id/two-factor/reset`,
    action(async (req, res) => {
      await resetMfaAsAdmin(String(req.params.id), ctxOf(req, res));
      return "Two-factor sign-in was reset and the user's sessions ended; they set it up again at their next sign-in where it is required.";
    }),
  );

  router.post(
    `${ADMIN.users}/:id/passkeys/:passkey/remove`,
    action(async (req, res) => {
      await removePasskeyAsAdmin(String(req.params.id), String(req.params.passkey), ctxOf(req, res));
      return 'The passkey was removed; it can no longer sign this user in. They were told by mail.';
    }),
  );

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
