/**
 * A software authenticator for HTTP and unit tests: an ES256 key pair per passkey, answers to
 * registration and sign-in options built byte by byte as an authenticator and a browser would
 * (clientDataJSON, authenticator data, CBOR attestation object "none", DER signature). Each part can be
 * made wrong on purpose (origin, rpID, counter, user verification) for the hostile tests.
 */
import crypto from 'node:crypto';
import { isoBase64URL, isoCBOR } from '@simplewebauthn/server/helpers';

const b64url = (b: Uint8Array | Buffer) => isoBase64URL.fromBuffer(new Uint8Array(b));
const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest();

export interface SoftPasskey {
  id: string;
  rawId: Buffer;
  keys: crypto.KeyPairKeyObjectResult;
  counter: number;
  userHandle?: string;
}

export interface Tamper {
  origin?: string;
  rpID?: string;
  userVerified?: boolean;
  type?: string;
  counter?: number;
}

function authData(rpID: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpID), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
}

function coseKey(keys: crypto.KeyPairKeyObjectResult): Uint8Array {
  const jwk = keys.publicKey.export({ format: 'jwk' });
  const m = new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  return isoCBOR.encode(m as never);
}

const flagsOf = (uv: boolean, attested = false) => 0x01 | (uv ? 0x04 : 0) | (attested ? 0x40 : 0);

/** A new passkey answering registration `options` (as the page receives them). */
export function createPasskey(
  options: { challenge: string; rp: { id?: string }; user: { id: string } },
  origin: string,
  tamper: Tamper = {},
): { passkey: SoftPasskey; response: string } {
  const keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rawId = crypto.randomBytes(16);
  const idLen = Buffer.alloc(2);
  idLen.writeUInt16BE(rawId.length);
  const attested = Buffer.concat([Buffer.alloc(16), idLen, rawId, Buffer.from(coseKey(keys))]);
  const rpID = tamper.rpID ?? options.rp.id ?? 'localhost';
  const data = authData(rpID, flagsOf(tamper.userVerified ?? true, true), 0, attested);
  const clientData = Buffer.from(
    JSON.stringify({
      type: tamper.type ?? 'webauthn.create',
      challenge: options.challenge,
      origin: tamper.origin ?? origin,
      crossOrigin: false,
    }),
  );
  const attestationObject = isoCBOR.encode(
    new Map<string, unknown>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', new Uint8Array(data)],
    ]) as never,
  );
  const id = b64url(rawId);
  const passkey: SoftPasskey = { id, rawId, keys, counter: 0, userHandle: options.user.id };
  const response = {
    id,
    rawId: id,
    type: 'public-key',
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: b64url(clientData),
      attestationObject: b64url(attestationObject),
      transports: ['internal'],
    },
  };
  return { passkey, response: JSON.stringify(response) };
}

/** The passkey's answer to sign-in `options`; its counter moves on by one unless `tamper.counter` says otherwise. */
export function signWithPasskey(
  passkey: SoftPasskey,
  options: { challenge: string; rpId?: string },
  origin: string,
  tamper: Tamper = {},
): string {
  const counter = tamper.counter ?? passkey.counter + 1;
  if (tamper.counter === undefined) passkey.counter = counter;
  const data = authData(tamper.rpID ?? options.rpId ?? 'localhost', flagsOf(tamper.userVerified ?? true), counter);
  const clientData = Buffer.from(
    JSON.stringify({
      type: tamper.type ?? 'webauthn.get',
      challenge: options.challenge,
      origin: tamper.origin ?? origin,
      crossOrigin: false,
    }),
  );
  const signature = crypto.sign('sha256', Buffer.concat([data, sha256(clientData)]), passkey.keys.privateKey);
  return JSON.stringify({
    id: passkey.id,
    rawId: passkey.id,
    type: 'public-key',
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: b64url(clientData),
      authenticatorData: b64url(data),
      signature: b64url(signature),
      ...(passkey.userHandle ? { userHandle: passkey.userHandle } : {}),
    },
  });
}
