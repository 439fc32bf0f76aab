/**
 * A site's terms and the consent ledger. Admins publish versions (text, version label, effective date);
 * registration asks for the version in effect, and a signed-in person whose accepted version is no
 * longer the one in effect accepts the new one before their session is usable (pendingTerms, checked by
 * the site's pages and, for the OpenID provider's sign-in, by whoever calls it). Every acceptance is a
 * new ledger row; none is ever changed (src/registration/terms.model.ts), with one exception:
 * pseudonymiseConsents below, at the erasure of the person who gave them.
 */
import { Readable, type Transform } from 'node:stream';
import { stringify } from 'csv-stringify';
import { trusted, type Types } from 'mongoose';
import { ConsentModel, SiteModel, TermsVersionModel, type Consent, type TermsVersion } from '../data/models';
import type { Actor, RequestContext } from '../access';
import { assertPermission } from '../access';
import { recordAudit } from '../audit';
import { NotFoundError, ValidationError, type FieldErrors } from '../shared/errors';
import { isObjectIdString } from '../shared/ids';
import { MSG } from '../shared/messages';
import { neutraliseCell } from '../shared/spreadsheet-safe';
import { normaliseUsername } from '../shared/username';

/** The clock deciding which version is in effect (tests move it instead of waiting). */
let clock: () => Date = () => new Date();
export function configureTermsClock(now?: () => Date): void {
  clock = now ?? (() => new Date());
}
export const termsNow = (): Date => clock();

export interface TermsInput {
  version: string;
  text: string;
  effectiveAt: string;
}

/** An effective date as typed: YYYY-MM-DD (midnight UTC) or a full ISO date and time. */
function parseEffective(value: string): Date | null {
  const v = value.trim();
  const d = /^\d{4}-\d{2}-\d{2}$/.test(v)
    ? new Date(`${v}T00:00:00Z`)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.test(v)
      ? new Date(v)
      : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

export async function publishTerms(
  siteId: string,
  input: TermsInput,
  ctx: RequestContext & { actor: Actor },
): Promise<TermsVersion> {
  assertPermission(ctx.actor, 'manageSites');
  const site = isObjectIdString(siteId) ? await SiteModel.findById(siteId).select('slug').lean() : null;
  if (!site) throw new NotFoundError('No site has this id.');
  const fields: FieldErrors = {};
  const version = input.version.trim();
  const text = input.text.trim();
  const effectiveAt = parseEffective(input.effectiveAt);
  if (!version) fields.version = 'Name the version, like 2026-12 or 3.0.';
  else if (version.length > 40) fields.version = MSG.atMostCharacters(40);
  if (!text) fields.text = 'Paste the text of the terms.';
  else if (text.length > 50_000) fields.text = MSG.atMostCharacters(50_000);
  if (!effectiveAt) fields.effectiveAt = 'Enter the date it takes effect as YYYY-MM-DD.';
  if (version && !fields.version && (await TermsVersionModel.exists({ site: site._id, version })))
    fields.version =
      'This site already has a version with this name; versions are never changed, so name the new one differently.';
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  const doc = await TermsVersionModel.create({
    site: site._id,
    version,
    text,
    effectiveAt: effectiveAt!,
    publishedBy: ctx.actor.id,
  });
  await recordAudit(ctx, {
    action: 'site.terms_published',
    target: { type: 'Site', id: site._id, label: site.slug },
    after: { termsVersion: String(doc._id), version, effectiveAt },
  });
  return doc.toObject() as TermsVersion;
}

export function listTermsVersions(actor: Actor) {
  assertPermission(actor, 'manageSites');
  return TermsVersionModel.find().sort({ effectiveAt: -1, createdAt: -1 }).limit(500).lean<TermsVersion[]>();
}

/** The version of the site's terms in effect now (the latest whose date has come), or null: no terms. */
export function currentTerms(siteId: Types.ObjectId, now: Date = clock()): Promise<TermsVersion | null> {
  return TermsVersionModel.findOne({ site: siteId, effectiveAt: trusted({ $lte: now }) })
    .sort({ effectiveAt: -1, createdAt: -1 })
    .lean<TermsVersion>()
    .exec();
}

/**
 * The version this person must accept before they use the site (their session, or a sign-in through
 * the OpenID provider): the one in effect, unless they accepted it already. Null: nothing to accept.
 */
export async function pendingTerms(
  site: { _id: Types.ObjectId },
  userId: Types.ObjectId,
  now: Date = clock(),
): Promise<TermsVersion | null> {
  const current = await currentTerms(site._id, now);
  if (!current) return null;
  return (await ConsentModel.exists({ user: userId, termsVersion: current._id })) ? null : current;
}

export interface ConsentOrigin {
  ip?: string | null;
  userAgent?: string | null;
}

/** One new row of the ledger. */
export async function recordConsent(
  user: { _id: Types.ObjectId; username: string },
  terms: Pick<TermsVersion, '_id' | 'site' | 'version'>,
  how: 'registration' | 're-accept',
  origin: ConsentOrigin,
  now: Date = clock(),
): Promise<void> {
  await ConsentModel.create({
    user: user._id,
    username: user.username,
    site: terms.site,
    termsVersion: terms._id,
    version: terms.version,
    acceptedAt: now,
    ip: origin.ip ?? null,
    userAgent: origin.userAgent?.slice(0, 300) ?? null,
    how,
  });
}

/**
 * The sign-in interstitial's answer: the person accepts the version they were shown, which must still
 * be the one in effect (a newer one may have taken effect meanwhile: they are shown that one instead).
 */
export async function acceptPendingTerms(
  site: { _id: Types.ObjectId },
  user: { _id: Types.ObjectId; username: string },
  shownVersionId: string,
  origin: ConsentOrigin,
  now: Date = clock(),
): Promise<boolean> {
  const pending = await pendingTerms(site, user._id, now);
  if (!pending) return true;
  if (String(pending._id) !== shownVersionId) return false;
  await recordConsent(user, pending, 're-accept', origin, now);
  return true;
}

/** The consents a person gave, oldest first: what their data export lists (src/privacy/export.ts). */
export async function consentsOf(userId: Types.ObjectId) {
  const rows = await ConsentModel.find({ user: userId }).sort({ acceptedAt: 1, _id: 1 }).lean<Consent[]>().exec();
  const sites = await SiteModel.find({ _id: trusted({ $in: [...new Set(rows.map((r) => String(r.site)))] }) })
    .select('slug')
    .lean();
  const slugOf = new Map(sites.map((s) => [String(s._id), s.slug]));
  return rows.map((r) => ({
    site: slugOf.get(String(r.site)) ?? null,
    version: r.version,
    acceptedAt: r.acceptedAt,
    how: r.how,
    ip: r.ip,
    userAgent: r.userAgent,
  }));
}

/**
 * THE ONE EXCEPTION to the ledger's append-only rule, for the erasure of a person (src/privacy): their
 * rows stay (the site must still show that version X was accepted on that date, and the rows still count
 * for the version), but stop naming them: the user id is dropped, the username becomes the pseudonym the
 * audit trail gives them, and the IP and user agent are erased. It writes through the driver's collection,
 * below the model's refusals, and changes nothing else; no other code path may (the model refuses them all,
 * and the terms test proves it). Idempotent: a retried erasure finds no row left with the user's id.
 */
export async function pseudonymiseConsents(userId: Types.ObjectId, pseudonym: string): Promise<number> {
  const res = await ConsentModel.collection.updateMany(
    { user: userId },
    { $set: { user: null, username: pseudonym, ip: null, userAgent: null } },
  );
  return res.modifiedCount;
}

export interface ConsentFilters {
  user?: string;
  version?: string;
  from?: Date;
  to?: Date;
}

function consentFilter(f: ConsentFilters) {
  return {
    ...(f.user ? { username: normaliseUsername(f.user) } : {}),
    ...(f.version ? { version: f.version.trim() } : {}),
    ...(f.from || f.to
      ? { acceptedAt: trusted({ ...(f.from ? { $gte: f.from } : {}), ...(f.to ? { $lte: f.to } : {}) }) }
      : {}),
  };
}

/** Ledger rows matching the filters, newest first (at most `limit`). */
export function searchConsents(actor: Actor, f: ConsentFilters, limit = 200): Promise<Consent[]> {
  assertPermission(actor, 'viewAuditTrail');
  return ConsentModel.find(consentFilter(f)).sort({ acceptedAt: -1, _id: -1 }).limit(limit).lean<Consent[]>().exec();
}

/** Every matching row as CSV, newest first, streamed: the stages for the caller to join with pipeline(). */
export function consentCsv(actor: Actor, f: ConsentFilters): { rows: Readable; csv: Transform } {
  assertPermission(actor, 'viewAuditTrail');
  async function* rows() {
    for await (const c of ConsentModel.find(consentFilter(f))
      .sort({ acceptedAt: -1, _id: -1 })
      .lean<Consent>()
      .cursor()) {
      yield [
        c.acceptedAt.toISOString(),
        c.username,
        // An erased person's rows have no user id (pseudonymiseConsents).
        c.user ? String(c.user) : '',
        String(c.site),
        c.version,
        String(c.termsVersion),
        c.how,
        c.ip,
        c.userAgent,
      ].map(neutraliseCell);
    }
  }
  return {
    rows: Readable.from(rows()),
    csv: stringify({
      header: true,
      columns: ['acceptedAt', 'username', 'userId', 'siteId', 'version', 'termsVersionId', 'how', 'ip', 'userAgent'],
    }),
  };
}
