/**
 * SCIM externalId, one per provisioning client. RFC 7643 §3.1: externalId is "issued by the provisioning
 * client", so two clients (Entra ID and Okta, each with its token's admin as the client) each keep their
 * own id for the same user; one setting its id never overwrites the other's, which made the first client
 * lose track of the user and create a duplicate.
 */
import type { Types } from 'mongoose';

export interface ExternalIdEntry {
  owner: Types.ObjectId;
  value: string;
}

/** The client's own externalId of a user, or null. */
export function externalIdOf(
  list: readonly ExternalIdEntry[] | null | undefined,
  client: Types.ObjectId,
): string | null {
  return list?.find((e) => client.equals(e.owner))?.value ?? null;
}

/** The list with the client's id set to `value` (or removed when null); other clients' ids unchanged. */
export function withExternalId(
  list: readonly ExternalIdEntry[] | null | undefined,
  client: Types.ObjectId,
  value: string | null,
): ExternalIdEntry[] {
  const others = (list ?? []).filter((e) => !client.equals(e.owner)).map((e) => ({ owner: e.owner, value: e.value }));
  return value ? [...others, { owner: client, value }] : others;
}
