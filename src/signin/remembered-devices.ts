/**
 * "Remember this device" (issue 26 item 8): after a correct second factor a browser may skip the code at
 * later sign-ins of the same user in the same area, for REMEMBER_DEVICE_DAYS. The cookie holds a random
 * id signed with an HMAC of the session secret (a changed value is refused before any lookup); the
 * database holds only the id's SHA-256 hash. Anything that does not match (another user's cookie, an
 * expired or removed record, a bad signature) simply means the code is asked as usual.
 * Forgotten on every password change, two-factor off or reset, and "end all other sessions".
 */
import crypto from 'node:crypto';
import type { Types } from 'mongoose';
import { trusted } from 'mongoose';
import { RememberedDeviceModel, type UserDoc } from '../data/models';
import { recordAudit } from '../audit';
import { selfContext, type Origin, type RequestContext } from '../access';
import { describeUserAgent, userAgentParts } from '../shared/user-agent';
import type { Area } from '../shared/area';
import type { Config } from '../config';

type Owner = Pick<UserDoc, '_id' | 'username' | 'userType'>;

export const DEVICE_COOKIE = 'portal.device';

export interface DeviceSettings {
  key: Buffer;
  maxAgeMs: number;
  secure: boolean;
}

/** The cookie's signing key is derived from the session secret, so it is never the same key as the sessions'. */
export function deviceSettings(config: Pick<Config, 'sessionSecret' | 'isProduction' | 'session'>): DeviceSettings {
  return {
    key: crypto.createHmac('sha256', config.sessionSecret).update('portal.device cookie').digest(),
    maxAgeMs: config.session.rememberDeviceMs,
    secure: config.isProduction,
  };
}

const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');
const sign = (s: DeviceSettings, id: string) => crypto.createHmac('sha256', s.key).update(id).digest('base64url');

/** The id in a cookie's value when its signature holds; null otherwise. */
function cookieId(value: unknown, s: DeviceSettings): string | null {
  if (typeof value !== 'string' || value.length > 200) return null;
  const [id, mac, extra] = value.split('.');
  if (!id || !mac || extra !== undefined) return null;
  const want = Buffer.from(sign(s, id)),
    got = Buffer.from(mac);
  return want.length === got.length && crypto.timingSafeEqual(want, got) ? id : null;
}

/** True when the browser's cookie was remembered by this user, for this area, and the record has not expired. */
export async function deviceSkipsSecondFactor(
  cookie: unknown,
  s: DeviceSettings,
  userId: Types.ObjectId,
  area: Area,
  now: Date = new Date(),
): Promise<boolean> {
  const id = cookieId(cookie, s);
  if (!id) return false;
  return Boolean(
    await RememberedDeviceModel.exists({ hash: sha256(id), user: userId, area, expiresAt: trusted({ $gt: now }) }),
  );
}

/**
 * Remembers the browser for `user` in `area` and returns the cookie value to set (the browser's id is
 * kept when its cookie already holds a valid one, so one browser can be remembered for several people).
 */
export async function rememberDevice(
  cookie: unknown,
  s: DeviceSettings,
  user: Owner,
  area: Area,
  ua: string | undefined,
  origin: Origin,
  now: Date = new Date(),
): Promise<string> {
  const id = cookieId(cookie, s) ?? crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + s.maxAgeMs);
  await RememberedDeviceModel.updateOne(
    { hash: sha256(id), user: user._id, area },
    { $set: { label: describeUserAgent(ua).slice(0, 120), ...userAgentParts(ua), createdAt: now, expiresAt } },
    { upsert: true },
  );
  await recordAudit(selfContext(user, origin), {
    action: 'mfa.device_remembered',
    target: { type: 'User', id: user._id, label: user.username },
    after: { area },
  });
  return `${id}.${sign(s, id)}`;
}

export interface RememberedDeviceView {
  id: string;
  area: Area;
  label: string;
  browser: string | null;
  system: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export async function rememberedDevicesOf(
  userId: Types.ObjectId,
  now: Date = new Date(),
): Promise<RememberedDeviceView[]> {
  const found = await RememberedDeviceModel.find({ user: userId, expiresAt: trusted({ $gt: now }) })
    .sort({ createdAt: -1 })
    .lean();
  return found.map((d) => ({
    id: String(d._id),
    area: d.area,
    label: d.label,
    browser: d.browser ?? null,
    system: d.system ?? null,
    createdAt: d.createdAt,
    expiresAt: d.expiresAt,
  }));
}

/** The user removes one of their remembered devices; false when it was not theirs or is already gone. */
export async function forgetDevice(user: Owner, deviceId: Types.ObjectId, origin?: Origin): Promise<boolean> {
  const res = await RememberedDeviceModel.deleteOne({ _id: deviceId, user: user._id });
  if (res.deletedCount !== 1) return false;
  await recordAudit(selfContext(user, origin), {
    action: 'mfa.device_forgotten',
    target: { type: 'User', id: user._id, label: user.username },
    after: { forgotten: 1, reason: 'removed' },
  });
  return true;
}

/** Forgets every remembered device of a user (password change, two-factor off or reset, sessions ended); audited when any was. */
export async function forgetAllDevices(
  user: { _id: Types.ObjectId; username: string },
  ctx: RequestContext,
  reason: string,
): Promise<number> {
  const res = await RememberedDeviceModel.deleteMany({ user: user._id });
  if (res.deletedCount > 0) {
    await recordAudit(ctx, {
      action: 'mfa.device_forgotten',
      target: { type: 'User', id: user._id, label: user.username },
      after: { forgotten: res.deletedCount, reason },
    });
  }
  return res.deletedCount;
}
