/**
 * oidc-provider's storage adapter on MongoDB (or the embedded engine): one class per model name, as the
 * provider constructs them, over one collection. Only plain operators (findOne, updateOne with $set and
 * upsert, deleteOne, deleteMany on an indexed field), which the engine's conformance suite covers.
 * Queries go through the driver's collection, not mongoose, so the provider's payload is stored as it
 * is (no casting); every filter value is a string the provider made, never request data.
 */
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
import { OidcRecordModel } from './oidc-record.model';

interface OidcRecord {
  _id: string;
  kind: string;
  payload: AdapterPayload;
  expiresAt?: Date;
}

const records = () => OidcRecordModel.collection;

/** A record the provider still sees: TTL deletion runs once a minute, so expiry is also checked here. */
function live(doc: OidcRecord | null, now: number): AdapterPayload | undefined {
  if (!doc) return undefined;
  if (doc.expiresAt && doc.expiresAt.getTime() <= now) return undefined;
  return doc.payload;
}

/** Grants are revoked across kinds: a grant's codes, access and refresh tokens are of different kinds. */
export async function revokeGrant(grantId: string): Promise<void> {
  await records().deleteMany({ grantId: String(grantId) });
  await records().deleteOne({ _id: `Grant:${String(grantId)}` } as never);
}

/** Every grant (and so every token) of an account or of an app, and the account's provider sessions. */
export async function revokeRecordsOf(field: 'accountId' | 'clientId', value: string): Promise<number> {
  const grants = await records()
    .find({ kind: 'Grant', [field]: String(value) }, { projection: { _id: 1 } })
    .toArray();
  for (const g of grants) await revokeGrant(String(g._id).slice('Grant:'.length));
  // Tokens whose grant record is already gone (expired) still name the account or app.
  await records().deleteMany({ [field]: String(value) });
  return grants.length;
}

/**
 * `findClient` answers the provider's Client lookups (the connected apps); the provider never writes
 * clients, as dynamic registration is off.
 */
export function mongoAdapter(
  findClient: (clientId: string) => Promise<AdapterPayload | undefined>,
  now: () => number = Date.now,
): AdapterConstructor {
  return class MongoAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    private key(id: string): string {
      return `${this.kind}:${String(id)}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const set: Record<string, unknown> = { kind: this.kind, payload };
      for (const field of ['grantId', 'userCode', 'uid', 'accountId', 'clientId'] as const)
        if (typeof payload[field] === 'string') set[field] = payload[field];
      if (expiresIn) set.expiresAt = new Date(now() + expiresIn * 1000);
      await records().updateOne({ _id: this.key(id) } as never, { $set: set }, { upsert: true });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === 'Client') return findClient(String(id));
      return live((await records().findOne({ _id: this.key(id) } as never)) as OidcRecord | null, now());
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return live((await records().findOne({ kind: this.kind, uid: String(uid) })) as OidcRecord | null, now());
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return live(
        (await records().findOne({ kind: this.kind, userCode: String(userCode) })) as OidcRecord | null,
        now(),
      );
    }

    /** Marks a code or a rotated refresh token used; a second use is then refused (and the grant revoked). */
    async consume(id: string): Promise<void> {
      await records().updateOne({ _id: this.key(id) } as never, {
        $set: { 'payload.consumed': Math.floor(now() / 1000) },
      });
    }

    async destroy(id: string): Promise<void> {
      await records().deleteOne({ _id: this.key(id) } as never);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrant(grantId);
    }
  };
}
