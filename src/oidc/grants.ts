/** Revoking what the provider issued, for the users' lifecycle (deactivation) and app deletion. */
import { revokeRecordsOf } from './adapter';

/** Ends every grant, token and provider session of a user: a deactivated user's refresh then fails. */
export const revokeGrantsOfAccount = (userId: string): Promise<number> => revokeRecordsOf('accountId', userId);

export const revokeGrantsOfClient = (clientId: string): Promise<number> => revokeRecordsOf('clientId', clientId);
