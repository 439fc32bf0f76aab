/**
 * Bulk actions on a queue search or a selection of users: add contacts by rule, upgrade, downgrade,
 * deactivate, end sessions. Every row goes through the single-user service (qualification.ts,
 * sessions.ts), so each user is checked against the actor's permissions exactly as one action on the
 * user page would be, each change is audited per user, and seats are taken one conditional update at a
 * time (data/seats.ts): never oversold. The dry run reads only: it says what each row would become and
 * whether the license's free seats suffice, in the order the run takes them.
 */
import { trusted, Types } from 'mongoose';
import {
  AccountModel,
  AuditEventModel,
  BulkActionJobModel,
  BulkActionRowModel,
  ContactModel,
  LicenseModel,
  ProfileModel,
  UserModel,
  type BulkAction,
  type BulkActionJobDoc,
  type ContactRule,
  type UserDoc,
} from '../data/models';
import { loadUserFor, loadUsersFor, assertCanAssign, type UserOperation } from '../access';
import type { Actor, RequestContext } from '../access';
import { recordAudit, recordAudits } from '../audit';
import { recoverUpgradeHold, releaseSeats, settleSeatHold, takeSeatsUpTo } from './seats';
import { ConflictError, NotFoundError, ValidationError, isDomainError } from '../shared/errors';
import { assertCanManage, assertUserAdministrator } from '../access';
import { addContactAndAssociate, associateContact, downgradeUser, setUserActive, upgradeUser } from './qualification';
import { afterUpgrade } from './upgrade-notices';
import { assertInvitable, endAllSessionsAsAdmin, INVITATION_SKIPS, resendInvitation } from '../account';
import { MSG } from '../shared/messages';

/** Most users one bulk action may cover (a search is cut here; the page says so). */
export const MAX_BULK_USERS = 50_000;

export interface BulkRequest {
  action: BulkAction;
  userIds: string[];
  profileId?: string;
  contactRule?: ContactRule;
  accountId?: string;
}

/** A request checked once: its profile and license, or its account, loaded. */
export interface BulkPlan {
  action: BulkAction;
  userIds: Types.ObjectId[];
  profile: { _id: Types.ObjectId; name: string; userType: 'internal' | 'customer' | 'partner' } | null;
  license: { _id: Types.ObjectId; name: string } | null;
  contactRule: ContactRule | null;
  account: { _id: Types.ObjectId; name: string } | null;
}

const OPERATION: Record<BulkAction, UserOperation> = {
  addContact: 'qualify',
  upgrade: 'changeLicense',
  downgrade: 'changeLicense',
  deactivate: 'setActive',
  endSessions: 'setActive',
  // The one-by-one "Send invitation again" loads its user for this operation (account/invitations.ts).
  sendInvitations: 'resetPassword',
};
const HEX = /^[0-9a-f]{24}$/i;
const invalid = (field: string, text: string) => new ValidationError(MSG.fieldsNeedAttention, { [field]: text });

/** Checks what does not depend on the user, once: the ids, the profile (and that the actor may grant it), the account. */
export async function planBulk(req: BulkRequest, ctx: RequestContext & { actor: Actor }): Promise<BulkPlan> {
  assertUserAdministrator(ctx.actor);
  if (!req.userIds.length) throw invalid('userIds', 'Select at least one user.');
  if (req.userIds.length > MAX_BULK_USERS) throw invalid('userIds', `Select at most ${MAX_BULK_USERS} users.`);
  if (!req.userIds.every((id) => HEX.test(id))) throw invalid('userIds', 'Select users by their ids.');
  // A user selected twice is acted on once.
  const userIds = [...new Set(req.userIds.map((id) => id.toLowerCase()))].map((id) => new Types.ObjectId(id));
  const plan: BulkPlan = {
    action: req.action,
    userIds,
    profile: null,
    license: null,
    contactRule: null,
    account: null,
  };
  if (req.action === 'upgrade' || (req.action === 'downgrade' && req.profileId)) {
    if (!req.profileId || !HEX.test(req.profileId)) throw invalid('profileId', 'Choose a profile.');
    const profile = await ProfileModel.findById(req.profileId).lean();
    const license = profile ? await LicenseModel.findById(profile.license).lean() : null;
    if (!profile || !license) throw invalid('profileId', MSG.noProfile);
    const wanted = req.action === 'upgrade';
    if (license.requiresContact !== wanted || profile.userType === 'internal') {
      throw invalid(
        'profileId',
        wanted
          ? 'Choose a community profile whose license requires a contact.'
          : 'Choose an External Identity profile (its license does not require a contact).',
      );
    }
    assertCanAssign(ctx, profile, 'profile');
    Object.assign(plan, {
      profile: { _id: profile._id, name: profile.name, userType: profile.userType },
      license: { _id: license._id, name: license.name },
    });
  }
  if (req.action === 'addContact') {
    if (!req.contactRule) throw invalid('contactRule', 'Choose how each contact is found or made.');
    plan.contactRule = req.contactRule;
    if (req.contactRule === 'newInAccount') {
      const account =
        req.accountId && HEX.test(req.accountId) ? await AccountModel.findById(req.accountId).lean() : null;
      if (!account) throw invalid('accountId', 'Choose the account the new contacts belong to.');
      plan.account = { _id: account._id, name: account.name };
    }
  }
  return plan;
}

export interface RowPreview {
  userId: Types.ObjectId;
  username: string | null;
  ok: boolean;
  outcome: string;
  takesSeat: boolean;
  /** The run would skip this row (nothing to do, e.g. an invitation to someone already set up). */
  skipped?: boolean;
}

const failed = (err: unknown): { ok: false; outcome: string; takesSeat: false } => {
  if (!isDomainError(err)) throw err;
  return { ok: false, outcome: `${err.code}: ${err.message}`, takesSeat: false };
};

/** The one contact with the user's email, free; a refusal names why not. */
async function emailMatch(user: UserDoc) {
  const matches = await ContactModel.find({ email: user.email }).limit(2).lean();
  if (!matches.length) throw new ConflictError(`No contact has the email ${user.email}.`, {}, 'no_match');
  if (matches.length > 1)
    throw new ConflictError(
      `Several contacts have the email ${user.email}; associate one on the user's page.`,
      {},
      'ambiguous_match',
    );
  const holder = await UserModel.findOne({ contact: matches[0]._id }).select('username').lean();
  if (holder && !holder._id.equals(user._id))
    throw new ConflictError(`The contact with this email already belongs to ${holder.username}.`, {}, 'contact_taken');
  return matches[0];
}

/** An upgrade's row once its user is loaded and checked (loadUserFor or loadUsersFor): no read. */
function upgradePreview(plan: BulkPlan, user: UserDoc, actor: Actor): Omit<RowPreview, 'userId' | 'username'> {
  assertCanManage(actor, { userType: plan.profile!.userType, contact: user.contact ?? null }, 'changeLicense');
  if (!user.contact)
    throw new ConflictError(
      'This user is contactless: add or associate a contact first, then upgrade.',
      {},
      'contact_required',
    );
  if (user.profile.equals(plan.profile!._id))
    return { ok: true, outcome: `Already ${plan.profile!.name}; unchanged.`, takesSeat: false };
  const takesSeat = !user.license.equals(plan.license!._id);
  return {
    ok: true,
    outcome: `Would become ${plan.profile!.name} (${plan.license!.name})${takesSeat ? ', taking a seat' : ''}.`,
    takesSeat,
  };
}

/** Upgrade previews of many users, their checks read in batches of 1,000 (the dry run of a big upgrade). */
async function upgradePreviews(
  plan: BulkPlan,
  ctx: RequestContext & { actor: Actor },
): Promise<Omit<RowPreview, 'userId' | 'username'>[]> {
  const out: Omit<RowPreview, 'userId' | 'username'>[] = [];
  for (let i = 0; i < plan.userIds.length; i += 1000) {
    const ids = plan.userIds.slice(i, i + 1000);
    const loaded = await loadUsersFor(OPERATION.upgrade, ids, ctx);
    for (const id of ids) {
      const user = loaded.get(String(id))!;
      try {
        if (isDomainError(user)) throw user;
        out.push(upgradePreview(plan, user, ctx.actor));
      } catch (err) {
        out.push(failed(err));
      }
    }
  }
  return out;
}

/** What one row would become, with every check the real run makes before writing. */
async function previewRow(
  plan: BulkPlan,
  userId: Types.ObjectId,
  ctx: RequestContext & { actor: Actor },
): Promise<Omit<RowPreview, 'userId' | 'username'>> {
  const user = await loadUserFor(OPERATION[plan.action], userId, ctx);
  const unchanged = (why: string) => ({ ok: true, outcome: `${why}; unchanged.`, takesSeat: false });
  switch (plan.action) {
    case 'addContact': {
      if (user.userType === 'internal')
        throw new ConflictError('Internal users do not have contacts.', {}, 'internal_user');
      if (user.contact) return unchanged('Already has a contact');
      if (plan.contactRule === 'matchEmail') {
        const c = await emailMatch(user);
        return {
          ok: true,
          outcome: `Would be associated with the contact ${`${c.firstName ?? ''} ${c.lastName}`.trim()} (same email).`,
          takesSeat: false,
        };
      }
      return {
        ok: true,
        outcome: `Would get a new contact ${`${user.firstName} ${user.lastName}`.trim()} in ${plan.account!.name}.`,
        takesSeat: false,
      };
    }
    case 'upgrade':
      return upgradePreview(plan, user, ctx.actor);
    case 'downgrade': {
      if (user.userType === 'internal')
        throw new ConflictError('Internal users cannot be made contactless.', {}, 'internal_user');
      if (!user.contact && (!plan.profile || user.profile.equals(plan.profile._id)))
        return unchanged('Already contactless');
      return {
        ok: true,
        outcome: `Would become contactless (${plan.profile?.name ?? 'External Identity'}), its seat freed, the contact record kept.`,
        takesSeat: false,
      };
    }
    case 'deactivate':
      if (ctx.actor.id.equals(user._id))
        throw new ConflictError("You can't deactivate yourself.", {}, 'self_deactivation');
      if (!user.isActive) return unchanged('Already inactive');
      return { ok: true, outcome: 'Would be deactivated and signed out everywhere.', takesSeat: false };
    case 'endSessions':
      return { ok: true, outcome: 'Would be signed out on every device.', takesSeat: false };
    case 'sendInvitations':
      await assertInvitable(user);
      return {
        ok: true,
        outcome: `Would be sent the invitation to set a password, to ${user.email}.`,
        takesSeat: false,
      };
  }
}

export interface DryRun {
  rows: RowPreview[];
  /** For upgrades: the seats the run needs and those free now; the rows past the free seats fail. */
  seats: { license: string; needed: number; free: number; suffice: boolean } | null;
  wouldSucceed: number;
  /** Rows the run would skip (counted apart from the failures). */
  wouldSkip: number;
  wouldFail: number;
}

/** Reads only. Rows are previewed in the order the run takes them, so seats go to the same rows. */
export async function dryRunBulk(req: BulkRequest, ctx: RequestContext & { actor: Actor }): Promise<DryRun> {
  const plan = await planBulk(req, ctx);
  const usernames = new Map(
    (
      await UserModel.find({ _id: trusted({ $in: plan.userIds }) })
        .select('username')
        .lean()
    ).map((u) => [String(u._id), u.username]),
  );
  const rows: RowPreview[] = [];
  const batched = plan.action === 'upgrade' ? await upgradePreviews(plan, ctx) : null;
  for (const [i, userId] of plan.userIds.entries()) {
    let preview;
    try {
      preview = batched ? batched[i] : await previewRow(plan, userId, ctx);
    } catch (err) {
      const refused = refusedRow(plan, err);
      preview = { ...failed(err), ...(refused.status === 'skipped' ? { skipped: true } : {}) };
    }
    // A user the actor may not see stays nameless, exactly like an id nobody has.
    const visible = !preview.outcome.startsWith('not_found');
    rows.push({ userId, username: visible ? (usernames.get(String(userId)) ?? null) : null, ...preview });
  }
  let seats: DryRun['seats'] = null;
  if (plan.action === 'upgrade') {
    const license = (await LicenseModel.findById(plan.license!._id).lean())!;
    const free = Math.max(0, license.totalSeats - license.usedSeats);
    const needed = rows.filter((r) => r.takesSeat).length;
    let left = free;
    for (const r of rows.filter((x) => x.takesSeat)) {
      if (left > 0) left--;
      else
        Object.assign(r, {
          ok: false,
          takesSeat: false,
          outcome: `no_seats_left: No ${license.name} seat would be left for this user (${free} free for ${needed}).`,
        });
    }
    seats = { license: license.name, needed, free, suffice: needed <= free };
  }
  const wouldSucceed = rows.filter((r) => r.ok).length;
  const wouldSkip = rows.filter((r) => r.skipped).length;
  return { rows, seats, wouldSucceed, wouldSkip, wouldFail: rows.length - wouldSucceed - wouldSkip };
}

/** Creates the background job: its rows in selection order. The worker (jobs/bulk-action-worker.ts) runs it. */
export async function startBulk(req: BulkRequest, ctx: RequestContext & { actor: Actor }): Promise<BulkActionJobDoc> {
  const plan = await planBulk(req, ctx);
  const job = new BulkActionJobModel({
    action: plan.action,
    profileId: plan.profile?._id ?? null,
    contactRule: plan.contactRule,
    accountId: plan.account?._id ?? null,
    createdBy: ctx.actor.id,
    numberRecords: plan.userIds.length,
    state: 'Queued',
  });
  // Rows first, then the job: a worker never sees a job whose rows are still being written.
  for (let i = 0; i < plan.userIds.length; i += 1000) {
    await BulkActionRowModel.insertMany(
      plan.userIds.slice(i, i + 1000).map((userId, j) => ({ job: job._id, row: i + j + 1, userId })),
      { ordered: false },
    );
  }
  await job.save();
  await recordAudit(ctx, {
    action: 'bulk_action.created',
    target: { type: 'BulkActionJob', id: job._id, label: `bulk ${plan.action} of ${plan.userIds.length} users` },
    after: {
      action: plan.action,
      users: plan.userIds.length,
      profile: plan.profile?.name ?? null,
      contactRule: plan.contactRule,
    },
  });
  return job;
}

/** The plan of a stored job, read again by the worker (the profile or account may be gone: the job fails). */
export async function planOfJob(job: BulkActionJobDoc, ctx: RequestContext & { actor: Actor }): Promise<BulkPlan> {
  return planBulk(
    {
      action: job.action,
      userIds: [new Types.ObjectId().toHexString()],
      profileId: job.profileId ? String(job.profileId) : undefined,
      contactRule: job.contactRule ?? undefined,
      accountId: job.accountId ? String(job.accountId) : undefined,
    },
    ctx,
  );
}

/**
 * Does one row for real through the single-user service, and says what it became. A row already in
 * the wanted state (a run resumed after a crash redoes its last batch) is reported unchanged, not redone.
 */
export async function applyRow(
  plan: BulkPlan,
  userId: Types.ObjectId,
  ctx: RequestContext & { actor: Actor },
): Promise<string> {
  const id = String(userId);
  const preview = await previewRow(plan, userId, ctx);
  if (preview.outcome.endsWith('unchanged.')) return preview.outcome;
  switch (plan.action) {
    case 'addContact': {
      const user = (await UserModel.findById(userId))!;
      if (plan.contactRule === 'matchEmail') {
        const c = await emailMatch(user);
        await associateContact(id, String(c._id), ctx);
        return `Associated with the contact ${`${c.firstName ?? ''} ${c.lastName}`.trim()} (same email).`;
      }
      await addContactAndAssociate(
        id,
        { firstName: user.firstName, lastName: user.lastName, email: user.email, accountId: String(plan.account!._id) },
        ctx,
      );
      return `New contact in ${plan.account!.name}.`;
    }
    case 'upgrade':
      await upgradeUser(id, plan.profile!._id, ctx);
      return `Now ${plan.profile!.name} (${plan.license!.name}).`;
    case 'downgrade': {
      const user = await downgradeUser(id, plan.profile?._id, ctx);
      const profile = await ProfileModel.findById(user.profile).select('name').lean();
      return `Now contactless (${profile?.name ?? 'External Identity'}).`;
    }
    case 'deactivate':
      await setUserActive(id, false, ctx);
      return 'Deactivated and signed out.';
    case 'endSessions':
      return `${await endAllSessionsAsAdmin(id, ctx)} session(s) ended.`;
    case 'sendInvitations': {
      // Through the one-by-one service: the same mail, audit event and checks. A batch redone after a
      // crash sends its invitations again; the newer link replaces the older (at-least-once).
      const user = await resendInvitation(id, ctx);
      return `Invitation sent to ${user.email}.`;
    }
  }
}

export interface RowResult {
  status: 'succeeded' | 'failed' | 'skipped';
  outcome: string;
}

/** A row's refusal as its result: skipped when it only means there is nothing to send (invitations). */
export function refusedRow(plan: Pick<BulkPlan, 'action'>, err: unknown): RowResult {
  if (!isDomainError(err)) throw err;
  const skipped = plan.action === 'sendInvitations' && INVITATION_SKIPS.includes(err.code);
  return { status: skipped ? 'skipped' : 'failed', outcome: `${err.code}: ${err.message}` };
}

/**
 * A batch of an upgrade job, written in batches with the single-user upgrade's rules (upgradeUser):
 * the same checks per user (loadUsersFor, upgradePreview), the seats of the whole batch taken in one
 * conditional update and held under `key` (seats.ts: the first rows get them, the rest fail
 * no_seats_left, never oversold), the users switched by one bulkWrite guarded per user as switchProfile
 * guards (profile unchanged, contact still set), the seats of users who did not switch given back with
 * the hold, the old licenses' seats freed, and one user.upgraded audit event per user switched.
 * A batch redone after a crash first settles the hold its cut-off attempt left (recoverUpgradeHold) and
 * audits the switches it left unaudited; the users it had switched are then reported unchanged, not
 * switched or audited again.
 */
export async function applyUpgradeBatch(
  plan: BulkPlan,
  userIds: Types.ObjectId[],
  key: string,
  ctx: RequestContext & { actor: Actor },
): Promise<RowResult[]> {
  const profile = plan.profile!;
  const license = plan.license!;
  const recovered = await recoverUpgradeHold(license._id, key);
  if (recovered?.kept.length) {
    // Users the cut-off attempt switched but may not have audited: their event is written now, once.
    const audited = new Set(
      (
        await AuditEventModel.find({
          action: 'user.upgraded',
          'target.id': trusted({ $in: recovered.kept }),
          at: trusted({ $gte: recovered.at }),
        })
          .select('target.id')
          .lean()
      ).map((e) => String(e.target?.id)),
    );
    const missing = await UserModel.find({
      _id: trusted({ $in: recovered.kept.filter((id) => !audited.has(String(id))) }),
    })
      .select('username email firstName lastName languageLocaleKey site')
      .lean();
    await recordAudits(
      ctx,
      missing.map((u) => ({
        action: 'user.upgraded',
        target: { type: 'User', id: u._id, label: u.username },
        before: null,
        after: { profile: profile.name, license: license.name, recoveredAfterCrash: true },
      })),
    );
    // Unaudited means the notice (written after the audit) is missing too.
    await afterUpgrade(missing, profile, license);
  }
  const loaded = await loadUsersFor(OPERATION.upgrade, userIds, ctx);
  const results: RowResult[] = new Array(userIds.length);
  const movers: { i: number; user: UserDoc; takesSeat: boolean }[] = [];
  userIds.forEach((id, i) => {
    const user = loaded.get(String(id))!;
    try {
      if (isDomainError(user)) throw user;
      const preview = upgradePreview(plan, user, ctx.actor);
      if (preview.outcome.endsWith('unchanged.')) results[i] = { status: 'succeeded', outcome: preview.outcome };
      else movers.push({ i, user, takesSeat: preview.takesSeat });
    } catch (err) {
      results[i] = { status: 'failed', outcome: failed(err).outcome };
    }
  });
  const needing = movers.filter((m) => m.takesSeat);
  const granted = await takeSeatsUpTo(
    license._id,
    key,
    needing.map((m) => m.user._id),
  );
  const noSeat = new Set(needing.slice(granted).map((m) => m.i));
  for (const i of noSeat)
    results[i] = {
      status: 'failed',
      outcome: `no_seats_left: No ${license.name} seat is left. Free a seat or raise the license's total seats first.`,
    };
  const go = movers.filter((m) => !noSeat.has(m.i));
  if (go.length) {
    await UserModel.bulkWrite(
      go.map((m) => ({
        updateOne: {
          filter: { _id: m.user._id, profile: m.user.profile, contact: trusted({ $ne: null }) },
          update: { $set: { profile: profile._id, license: license._id, userType: profile.userType } },
        },
      })),
      { ordered: false },
    );
  }
  const switched = new Set(
    (
      await UserModel.find({ _id: trusted({ $in: go.map((m) => m.user._id) }), profile: profile._id })
        .select('_id')
        .lean()
    ).map((u) => String(u._id)),
  );
  const lost = go.filter((m) => m.takesSeat && !switched.has(String(m.user._id))).length;
  if (granted > 0) await settleSeatHold(license._id, key, lost);
  const freed = new Map<string, { id: Types.ObjectId; n: number }>();
  for (const m of go.filter((x) => x.takesSeat && switched.has(String(x.user._id)))) {
    const k = String(m.user.license);
    freed.set(k, { id: m.user.license, n: (freed.get(k)?.n ?? 0) + 1 });
  }
  for (const { id, n } of freed.values()) await releaseSeats(id, n);
  const done = go.filter((m) => switched.has(String(m.user._id)));
  await recordAudits(
    ctx,
    done.map((m) => ({
      action: 'user.upgraded',
      target: { type: 'User', id: m.user._id, label: m.user.username },
      before: { profile: String(m.user.profile), license: String(m.user.license) },
      after: { profile: profile.name, license: license.name },
    })),
  );
  await afterUpgrade(
    done.map((m) => m.user),
    profile,
    license,
  );
  for (const m of go) {
    results[m.i] = switched.has(String(m.user._id))
      ? { status: 'succeeded', outcome: `Now ${profile.name} (${license.name}).` }
      : {
          status: 'failed',
          outcome: 'concurrent_change: This user was changed by someone else meanwhile; reload and try again.',
        };
  }
  return results;
}

/** A job as its creator sees it; anyone else is answered 404, as for an id nobody has. */
export async function findBulkJob(id: string, actor: Actor): Promise<BulkActionJobDoc> {
  assertUserAdministrator(actor);
  const job = HEX.test(id) ? await BulkActionJobModel.findOne({ _id: id, createdBy: actor.id }) : null;
  if (!job) throw new NotFoundError('No bulk action has this id.');
  return job;
}

export async function recentBulkJobs(actor: Actor, limit = 10): Promise<BulkActionJobDoc[]> {
  return BulkActionJobModel.find({ createdBy: actor.id }).sort({ createdAt: -1 }).limit(limit);
}

/**
 * Stops a queued or running job: the rows not yet reached stay pending, and the worker, at its next
 * conditional update, sees the state and stops (bulk-action-worker.ts). The lease is left alone, so the
 * batch in hand is still counted and its report stays true. One conditional update: a job that finished
 * meanwhile is a 409, never reopened.
 */
export async function abortBulkJob(id: string, ctx: RequestContext & { actor: Actor }): Promise<BulkActionJobDoc> {
  const job = await findBulkJob(id, ctx.actor);
  const aborted = await BulkActionJobModel.findOneAndUpdate(
    { _id: job._id, state: trusted({ $in: ['Queued', 'InProgress'] }) },
    { $set: { state: 'Aborted', completedAt: new Date() } },
    { returnDocument: 'after' },
  );
  if (!aborted)
    throw new ConflictError(
      `This bulk action is ${job.state}; only a queued or running one can be aborted.`,
      {
        state: `Not allowed from ${job.state}.`,
      },
      'invalid_state',
    );
  await recordAudit(ctx, {
    action: 'bulk_action.aborted',
    target: { type: 'BulkActionJob', id: job._id, label: `bulk ${job.action} of ${job.numberRecords} users` },
    before: { state: job.state },
    after: { state: 'Aborted', processed: aborted.numberRecordsProcessed },
  });
  return aborted;
}
