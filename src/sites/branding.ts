/**
 * A site's branding: colours, logo, default language and the sender of its mails. Every value is checked
 * here, so what reaches a stylesheet, a page or a mail header is known to be safe:
 * - colours are #rrggbb only (they go into CSS custom properties); the main colour must keep 4.5:1
 *   contrast with white (WCAG AA), since links sit on white and buttons carry white text; the header
 *   colour may be anything, its text is black or white, whichever reads better;
 * - a logo is an image uploaded here (PNG, JPEG, GIF or WebP, recognised by its first bytes, at most
 *   LOGO_MAX_BYTES; never SVG, which can carry script) or an address on this portal (a path: the CSP
 *   allows images from 'self' only);
 * - the sender's name has no quotes, angle brackets or line breaks (it goes into a From header).
 * Everything here needs Manage Sites, and is audited.
 */
import { EMAIL_PATTERN, SiteModel, type SiteDoc } from '../data/models';
import { SUPPORTED_LANGUAGES } from '../i18n/languages';
import type { Actor, RequestContext } from '../access';
import { recordAudit } from '../audit';
import {
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
  type FieldErrors,
} from '../shared/errors';
import { assertPermission } from '../access';
import { MSG } from '../shared/messages';
import { isObjectIdString } from '../shared/ids';

export const LOGO_MAX_BYTES = 100 * 1024;
const HEX_COLOUR = /^#[0-9a-f]{6}$/;

export interface BrandingInput {
  primaryColor?: string;
  headerColor?: string;
  logoUrl?: string;
  senderName?: string;
  senderAddress?: string;
  defaultLanguage?: string;
}

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5]
    .map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white text, whichever has more contrast on `background`. */
export function textColourOn(background: string): string {
  return contrast(background, '#ffffff') >= contrast(background, '#000000') ? '#ffffff' : '#000000';
}

/** undefined: not sent (left as it is); null: emptied (the portal's default); else the trimmed, optionally lower-cased value. */
const blankToNull = (v: string | undefined, lower = false) =>
  v === undefined ? undefined : v.trim() === '' ? null : lower ? v.trim().toLowerCase() : v.trim();

function checkInput(input: BrandingInput): { values: Record<string, string | null>; fields: FieldErrors } {
  const fields: FieldErrors = {};
  const values: Record<string, string | null> = {};
  for (const key of ['primaryColor', 'headerColor'] as const) {
    const v = blankToNull(input[key], true);
    if (v === undefined) continue;
    if (v !== null && !HEX_COLOUR.test(v)) fields[key] = 'Use a colour like #0b5cad (a # and six hexadecimal digits).';
    else if (v !== null && key === 'primaryColor' && contrast(v, '#ffffff') < 4.5)
      fields[key] =
        `This colour is too light for links on white and white button text (contrast ${contrast(v, '#ffffff').toFixed(1)}:1; at least 4.5:1 is needed). Choose a darker one.`;
    else values[key] = v;
  }
  const logoUrl = blankToNull(input.logoUrl);
  if (logoUrl !== undefined) {
    if (
      logoUrl !== null &&
      (!logoUrl.startsWith('/') ||
        logoUrl.startsWith('//') ||
        logoUrl.includes('\\') ||
        logoUrl.length > 300 ||
        /[\s"'<>]/.test(logoUrl))
    ) {
      fields.logoUrl = 'Use an address on this portal that starts with /, like /images/logo.png, or upload an image.';
    } else values.logoUrl = logoUrl;
  }
  const senderName = blankToNull(input.senderName);
  if (senderName !== undefined) {
    if (senderName !== null && (senderName.length > 80 || /["<>\\\r\n]/.test(senderName)))
      fields.senderName = 'Use at most 80 characters, without quotes, angle brackets or line breaks.';
    else values.senderName = senderName;
  }
  const senderAddress = blankToNull(input.senderAddress, true);
  if (senderAddress !== undefined) {
    if (
      senderAddress !== null &&
      (senderAddress.length > 254 || !EMAIL_PATTERN.test(senderAddress) || /["<>\\,;]/.test(senderAddress))
    )
      fields.senderAddress =
        'Enter a valid email address, like support@example.com, or leave it empty for the portal’s sender.';
    else values.senderAddress = senderAddress;
  }
  if (input.defaultLanguage !== undefined) {
    if (!(SUPPORTED_LANGUAGES as readonly string[]).includes(input.defaultLanguage))
      fields.defaultLanguage = `Choose one of: ${SUPPORTED_LANGUAGES.join(', ')}.`;
    else values.defaultLanguage = input.defaultLanguage;
  }
  return { values, fields };
}

async function findSite(id: string): Promise<SiteDoc> {
  const site = isObjectIdString(id) ? await SiteModel.findById(id) : null;
  if (!site) throw new NotFoundError('No site has this id.');
  return site;
}

const snapshot = (site: SiteDoc) => ({
  primaryColor: site.branding?.primaryColor ?? null,
  headerColor: site.branding?.headerColor ?? null,
  logoUrl: site.branding?.logoUrl ?? null,
  logo: site.branding?.logo ? site.branding.logo.contentType : null,
  senderName: site.branding?.senderName ?? null,
  senderAddress: site.branding?.senderAddress ?? null,
  defaultLanguage: site.defaultLanguage,
});

/** Sets the given branding values (an empty one goes back to the portal's default); all or nothing. */
export async function updateBranding(
  id: string,
  input: BrandingInput,
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const { values, fields } = checkInput(input);
  if (Object.keys(fields).length) throw new ValidationError(MSG.fieldsNeedAttention, fields);
  const before = snapshot(site);
  const { defaultLanguage, ...branding } = values;
  if (defaultLanguage) site.defaultLanguage = defaultLanguage as SiteDoc['defaultLanguage'];
  for (const [k, v] of Object.entries(branding)) site.set(`branding.${k}`, v);
  await site.save();
  await recordAudit(ctx, {
    action: 'site.branding_changed',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: snapshot(site),
  });
  return site;
}

const IMAGE_SIGNATURES: [string, (b: Buffer) => boolean][] = [
  ['image/png', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  [
    'image/gif',
    (b) => b.subarray(0, 6).toString('latin1') === 'GIF87a' || b.subarray(0, 6).toString('latin1') === 'GIF89a',
  ],
  [
    'image/webp',
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];
export const LOGO_TYPES = IMAGE_SIGNATURES.map(([type]) => type);

/** Stores an uploaded logo; its type is read from its bytes, and must match what the upload said. */
export async function setLogo(
  id: string,
  upload: { data: unknown; contentType: string | undefined },
  ctx: RequestContext & { actor: Actor },
): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const data = upload.data;
  if (!Buffer.isBuffer(data) || data.length === 0)
    throw new UnsupportedMediaTypeError(
      `Upload the logo as the body of the request, as one of ${LOGO_TYPES.join(', ')}.`,
    );
  if (data.length > LOGO_MAX_BYTES)
    throw new PayloadTooLargeError(`The logo is larger than ${LOGO_MAX_BYTES / 1024} kB.`);
  const detected = IMAGE_SIGNATURES.find(([, test]) => test(data))?.[0];
  const declared = (upload.contentType ?? '').split(';')[0].trim().toLowerCase();
  if (!detected || detected !== declared)
    throw new UnsupportedMediaTypeError(
      `The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted), sent with its own type.`,
    );
  const before = snapshot(site);
  site.set('branding.logo', { data, contentType: detected });
  site.set('branding.logoUrl', null);
  await site.save();
  await recordAudit(ctx, {
    action: 'site.logo_uploaded',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: { ...snapshot(site), bytes: data.length },
  });
  return site;
}

export async function removeLogo(id: string, ctx: RequestContext & { actor: Actor }): Promise<SiteDoc> {
  assertPermission(ctx.actor, 'manageSites');
  const site = await findSite(id);
  const before = snapshot(site);
  site.set('branding.logo', null);
  site.set('branding.logoUrl', null);
  await site.save();
  await recordAudit(ctx, {
    action: 'site.logo_removed',
    target: { type: 'Site', id: site._id, label: site.slug },
    before,
    after: snapshot(site),
  });
  return site;
}

/** The uploaded logo of a site, for its own route (the site cache leaves the bytes out). */
export async function logoOf(slug: string): Promise<{ data: Buffer; contentType: string } | null> {
  const site = await SiteModel.findOne({ slug }).select('branding.logo').lean();
  const logo = site?.branding?.logo;
  if (!logo) return null;
  const raw = logo.data as unknown as Buffer | { buffer: Uint8Array };
  return { data: Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer), contentType: logo.contentType };
}
