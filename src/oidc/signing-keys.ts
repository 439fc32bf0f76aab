/**
 * The provider's signing keys: generated once (one RS256 and one ES256 key), stored encrypted with a key
 * derived from OIDC_KEY_SECRET, and rotated with a grace period. After a rotation the new keys sign and
 * the old ones stay in the JWKS until `removeAfter`, so an ID token or access token signed just before
 * still verifies at the apps; afterwards they are dropped at the next load.
 */
import crypto from 'node:crypto';
import { SigningKeySetModel } from './signing-keys.model';

const SET_ID = 'signing-keys';
const ALGS = ['RS256', 'ES256'] as const;
type Alg = (typeof ALGS)[number];

export type PrivateJwk = crypto.JsonWebKey & { kid: string; alg: Alg; use: 'sig' };

interface StoredKey {
  kid: string;
  alg: Alg;
  createdAt: Date;
  retiredAt: Date | null;
  removeAfter: Date | null;
  iv: string;
  tag: string;
  data: string;
}

/** A key of its own for this purpose (HKDF), so the configured secret is never used as a key directly. */
function encryptionKey(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'identity-portal', 'oidc-signing-keys', 32));
}

function encrypt(secret: string, jwk: PrivateJwk): Pick<StoredKey, 'iv' | 'tag' | 'data'> {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', encryptionKey(secret), iv);
  // The kid is bound as associated data: a stored key cannot be swapped under another kid unnoticed.
  cipher.setAAD(Buffer.from(jwk.kid));
  const data = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
}

export class SigningKeyDecryptError extends Error {
  constructor(kid: string) {
    super(
      `The OpenID Connect signing key ${kid} cannot be decrypted: OIDC_KEY_SECRET (or, unset, SESSION_SECRET) is not the one it was stored with`,
    );
  }
}

function decrypt(secret: string, stored: StoredKey): PrivateJwk {
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', encryptionKey(secret), Buffer.from(stored.iv, 'base64'));
    decipher.setAAD(Buffer.from(stored.kid));
    decipher.setAuthTag(Buffer.from(stored.tag, 'base64'));
    return JSON.parse(
      Buffer.concat([decipher.update(Buffer.from(stored.data, 'base64')), decipher.final()]).toString('utf8'),
    ) as PrivateJwk;
  } catch {
    throw new SigningKeyDecryptError(stored.kid);
  }
}

function generate(alg: Alg, secret: string, now: Date): StoredKey {
  const { privateKey } =
    alg === 'RS256'
      ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = crypto.randomBytes(12).toString('base64url');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as PrivateJwk;
  return { kid, alg, createdAt: now, retiredAt: null, removeAfter: null, ...encrypt(secret, jwk) };
}

const isDuplicateKey = (err: unknown) => (err as { code?: number })?.code === 11000;

async function readSet(): Promise<{ version: number; keys: StoredKey[] } | null> {
  return SigningKeySetModel.findById(SET_ID).lean<{ version: number; keys: StoredKey[] }>();
}

/**
 * The keys the provider loads: the active ones first (the provider signs with the first key of an
 * algorithm), then those in their grace period. Creates the first set when there is none.
 */
export async function loadSigningKeys(secret: string, now: () => Date = () => new Date()): Promise<PrivateJwk[]> {
  let set = await readSet();
  if (!set) {
    const keys = ALGS.map((alg) => generate(alg, secret, now()));
    try {
      await SigningKeySetModel.create({ _id: SET_ID, version: 1, keys });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    set = await readSet();
  }
  const at = now().getTime();
  const usable = set!.keys.filter((k) => !k.removeAfter || k.removeAfter.getTime() > at);
  const ordered = [...usable.filter((k) => !k.retiredAt), ...usable.filter((k) => k.retiredAt)];
  return ordered.map((k) => decrypt(secret, k));
}

/**
 * Replaces the active keys with new ones; the replaced ones verify for `graceMs` more, and keys past
 * their grace are removed. Each instance uses the new keys from its next start (or next provider load).
 */
export async function rotateSigningKeys(
  secret: string,
  graceMs: number,
  now: () => Date = () => new Date(),
): Promise<{ retired: string[]; created: string[] } | null> {
  await loadSigningKeys(secret, now);
  const set = (await readSet())!;
  const at = now();
  const retired = set.keys.filter((k) => !k.retiredAt).map((k) => k.kid);
  const kept = set.keys
    .filter((k) => !k.removeAfter || k.removeAfter.getTime() > at.getTime())
    .map((k) => (k.retiredAt ? k : { ...k, retiredAt: at, removeAfter: new Date(at.getTime() + graceMs) }));
  const fresh = ALGS.map((alg) => generate(alg, secret, at));
  const res = await SigningKeySetModel.updateOne(
    { _id: SET_ID, version: set.version },
    { $set: { keys: [...fresh, ...kept], version: set.version + 1 } },
  );
  // null: another instance rotated in between (its rotation stands; rotating again on top would cut its grace short).
  return res.modifiedCount === 1 ? { retired, created: fresh.map((k) => k.kid) } : null;
}
